package baas

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
)

// readCapped against what io.ReadAll reads, for every size around its
// chunk boundaries and the cap, with and without a known length.
func TestReadCapped(t *testing.T) {
	t.Parallel()
	const limit = 5000
	for _, size := range []int{0, 1, 511, 512, 513, 767, 768, 769, 1280, 2000, 4999, 5000, 5001, 9000} {
		body := strings.Repeat("0123456789", size/10+1)[:size]
		for _, cl := range []int64{-1, int64(size)} {
			for _, oneByte := range []bool{false, true} {
				var r io.Reader = strings.NewReader(body)
				if oneByte {
					r = iotest.OneByteReader(r)
				}
				got, err := readCapped(r, cl, limit, false)
				if size > limit {
					assert.ErrorIs(t, err, errTooLarge, "size %d cl %d", size, cl)
					continue
				}
				assert.NoError(t, err, "size %d cl %d", size, cl)
				assert.Equal(t, body, string(got), "size %d cl %d", size, cl)

				r = strings.NewReader(body)
				got, err = readCapped(r, cl, limit, true)
				if size > limit {
					assert.ErrorIs(t, err, errTooLarge)
					assert.Equal(t, body[:limit], string(got))
				}
			}
		}
	}
	// A body longer than its Content-Length is read on, and capped.
	got, err := readCapped(strings.NewReader("abcdef"), 2, limit, false)
	assert.NoError(t, err)
	assert.Equal(t, "abcdef", string(got))
	_, err = readCapped(strings.NewReader(strings.Repeat("x", limit+1)), 10, limit, false)
	assert.ErrorIs(t, err, errTooLarge)
	// A read error is returned as it is.
	boom := errors.New("boom")
	_, err = readCapped(io.MultiReader(bytes.NewReader(make([]byte, 1000)), iotest.ErrReader(boom)), -1, limit, false)
	assert.ErrorIs(t, err, boom)
}

// Past trustedLength the announced length is believed only once that many
// bytes have come: a short body under a large Content-Length reads as what
// came, and a long one arrives whole and exact.
func TestReadCappedBeyondTheTrustedLength(t *testing.T) {
	t.Parallel()
	const limit = 64 << 20
	body := bytes.Repeat([]byte("x"), trustedLength+12345)
	got, err := readCapped(bytes.NewReader(body), int64(len(body)), limit, false)
	assert.NoError(t, err)
	assert.Equal(t, len(body), len(got))
	assert.True(t, bytes.Equal(body, got))

	got, err = readCapped(strings.NewReader("short"), 48<<20, limit, false)
	assert.NoError(t, err, "the transport reports a short body; readCapped returns what came")
	assert.Equal(t, "short", string(got))
	assert.Less(t, cap(got), trustedLength+2, "no buffer of the announced size for 5 bytes")
}
