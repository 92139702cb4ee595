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
		"512B": 512, "0": 0, "-1": -1, " 2 MiB": 2 << 20,
	} {
		var b byteCount
		if assert.NoError(t, b.Set(in), in) {
			assert.Equal(t, want, int64(b), in)
		}
	}
	for _, in := range []string{"64MB", "1.5GiB", "MiB", "", "ten", "9223372036854775807KiB"} {
		var b byteCount
		assert.Error(t, b.Set(in), in)
	}
}
