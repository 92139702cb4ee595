package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// A byte count is a whole number, with or without a binary unit.
func TestByteCountReadsUnits(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int64{
		"67108864": 64 << 20, "64MiB": 64 << 20, "65536KiB": 64 << 20, "1GiB": 1 << 30,
		"512B": 512, "0": 0, "-1": -1, " 2 MiB": 2 << 20, "8589934591GiB": 8589934591 << 30,
	} {
		var b byteCount
		if assert.NoError(t, b.Set(in), in) {
			assert.Equal(t, want, int64(b), in)
		}
	}
	for in, want := range map[string]string{
		"1.5GiB": byteCountSyntax, "MiB": byteCountSyntax, "": byteCountSyntax, "ten": byteCountSyntax,
		// A decimal unit is refused saying why (it could mean 10^6 or 2^20).
		"64MB":  "MB is not accepted: the units are binary, KiB, MiB or GiB (64MiB is 67108864 bytes)",
		"64 kB": "kB is not accepted: the units are binary, KiB, MiB or GiB (64MiB is 67108864 bytes)",
		"2G":    "G is not accepted: the units are binary, KiB, MiB or GiB (64MiB is 67108864 bytes)",
		// Too large says so, and what the most is.
		"100000000000000GiB":     "too large: at most 8589934591GiB (9223372036854775807 bytes, 8 EiB)",
		"8589934592GiB":          "too large: at most 8589934591GiB (9223372036854775807 bytes, 8 EiB)",
		"9223372036854775807KiB": "too large: at most 9007199254740991KiB (9223372036854775807 bytes, 8 EiB)",
		"99999999999999999999":   "too large: at most 9223372036854775807 bytes (8 EiB)",
		"-9999999999999999GiB":   "too small: at least -8589934592GiB",
	} {
		var b byteCount
		err := b.Set(in)
		if assert.Error(t, err, in) {
			assert.Equal(t, want, err.Error(), in)
		}
	}
}

// A count is printed (in the help's defaults) in the largest unit that
// holds it exactly.
func TestByteCountPrintsTheLargestExactUnit(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{
		64 << 20: "64MiB", 1 << 30: "1GiB", 3 << 29: "1536MiB", 1536: "1536" /* 1.5 KiB: not exact */, 3072: "3KiB", 512: "512", 0: "0", 1: "1", -(1 << 20): "-1MiB",
	} {
		b := byteCount(n)
		assert.Equal(t, want, b.String(), n)
	}
}
