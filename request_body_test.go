package baas

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A server may answer before it has read the request body (413 for a body
// too large is the usual case). net/http's transport may then still be
// writing the body after the call returned, so the SDK must not reuse that
// body's memory for the next call. Under -race this failed while request
// bodies came from a pool.
func TestBodyIsNotReusedWhileTheTransportMayStillWriteIt(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		w.Write([]byte(`{"error_msg":"request body too large"}`))
	}))
	t.Cleanup(srv.Close)
	c, err := New(WithClientID("test-client"), WithHost(srv.URL))
	require.NoError(t, err)

	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			big := strings.Repeat(string(rune('a'+g)), 256<<10)
			for range 20 {
				_, err := c.Invoke(context.Background(), "upload", map[string]string{"blob": big}, true)
				var he *HError
				if assert.ErrorAs(t, err, &he) && he.Code != CodeNetwork {
					// The server may also reset the connection while the
					// body is still being written: a 600, equally fine here.
					assert.Equal(t, http.StatusRequestEntityTooLarge, he.Code, err.Error())
				}
			}
		}()
	}
	wg.Wait()
}
