package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// byteCount is a flag's count of bytes: a plain integer, or one with a
// binary unit (KiB, MiB, GiB), so that --max-queued-bytes 64MiB means
// what it says.
type byteCount int64

var byteUnits = []struct {
	suffix string
	shift  uint
}{{"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"B", 0}}

// decimalUnits are the units people type that byteCount refuses: 64MB
// could mean 64,000,000 or 64 MiB, so it is refused saying which to use.
var decimalUnits = map[string]bool{
	"kB": true, "KB": true, "MB": true, "GB": true, "TB": true, "k": true, "K": true, "M": true, "G": true, "T": true,
}

const byteCountSyntax = "a whole number of bytes, with or without a unit: 67108864, 65536KiB or 64MiB"

func (b *byteCount) Set(s string) error {
	text, shift, unit := strings.TrimSpace(s), uint(0), ""
	for _, u := range byteUnits {
		if strings.HasSuffix(text, u.suffix) {
			text, shift, unit = strings.TrimSpace(strings.TrimSuffix(text, u.suffix)), u.shift, u.suffix
			break
		}
	}
	if unit == "" || unit == "B" {
		// A unit byteCount does not take: say why, not only what it takes.
		num := strings.TrimRightFunc(text, unicode.IsLetter)
		if u := text[len(num):] + unit; decimalUnits[u] {
			return fmt.Errorf("%s is not accepted: the units are binary, KiB, MiB or GiB (64MiB is 67108864 bytes)", u)
		}
	}
	n, err := strconv.ParseInt(text, 10, 64)
	maxN, minN := int64(1<<63-1)>>shift, int64(-1<<63)>>shift
	switch {
	case errors.Is(err, strconv.ErrRange) || (err == nil && (n > maxN || n < minN)):
		if strings.HasPrefix(text, "-") {
			return fmt.Errorf("too small: at least %d%s", minN, unit)
		}
		if shift == 0 {
			return fmt.Errorf("too large: at most %d bytes (8 EiB)", maxN)
		}
		return fmt.Errorf("too large: at most %d%s (%d bytes, 8 EiB)", maxN, unit, int64(1<<63-1))
	case err != nil:
		return errors.New(byteCountSyntax)
	}
	*b = byteCount(n << shift)
	return nil
}

// String gives the count in the largest unit that holds it exactly, so
// that the help's default reads (default 64MiB), not 67108864.
func (b *byteCount) String() string {
	n := int64(*b)
	for _, u := range byteUnits {
		if u.shift > 0 && n != 0 && n%(1<<u.shift) == 0 {
			return strconv.FormatInt(n>>u.shift, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

func (b *byteCount) Type() string { return "bytes" }
