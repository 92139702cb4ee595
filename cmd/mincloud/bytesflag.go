package main

import (
	"errors"
	"strconv"
	"strings"
)

// byteCount is a flag's count of bytes: a plain integer, or one with a
// binary unit (KiB, MiB, GiB), so that --max-queued-bytes 64MiB means
// what it says.
type byteCount int64

var byteUnits = []struct {
	suffix string
	shift  uint
}{{"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"B", 0}}

func (b *byteCount) Set(s string) error {
	text, shift := strings.TrimSpace(s), uint(0)
	for _, u := range byteUnits {
		if strings.HasSuffix(text, u.suffix) {
			text, shift = strings.TrimSpace(strings.TrimSuffix(text, u.suffix)), u.shift
			break
		}
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil || n > (1<<63-1)>>shift || n < -(1<<63)>>shift {
		return errors.New("a whole number of bytes, with or without a unit: 67108864, 65536KiB or 64MiB")
	}
	*b = byteCount(n << shift)
	return nil
}

func (b *byteCount) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *byteCount) Type() string { return "bytes" }
