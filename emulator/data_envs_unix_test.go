//go:build unix

package emulator_test

import (
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mincloud-go/baas/emulator"
)

// TestDataEnvOpeningDoesNotBlockOthers: while one environment's database
// opens (here stuck reading its schema file, a FIFO nobody writes yet),
// the calls of an environment already open are answered.
func TestDataEnvOpeningDoesNotBlockOthers(t *testing.T) {
	t.Parallel()
	fifo := filepath.Join(t.TempDir(), "schema.json")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	// feed gives the schema to the next open that reads it.
	feed := func() error {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0) // waits for a reader
		if err != nil {
			return err
		}
		_, err = f.WriteString(productSchema)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	}
	fed := make(chan error, 2)
	go func() { fed <- feed() }()
	srv := emulator.New(emulator.WithSchemaFile(fifo)) // the default tables read it
	t.Cleanup(srv.Close)
	require.NoError(t, <-fed)

	find := func(env string) <-chan int {
		out := make(chan int, 1)
		go func() {
			req, err := http.NewRequest("GET", srv.URL+"/hserve/v2.4/table/product/record/", nil)
			if err != nil {
				out <- -1
				return
			}
			req.Header.Set("X-Hydrogen-Client-ID", srv.ClientID)
			req.Header.Set("X-Hydrogen-Env-ID", env)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				out <- -1
				return
			}
			resp.Body.Close()
			out <- resp.StatusCode
		}()
		return out
	}
	go func() { fed <- feed() }()
	assert.Equal(t, 200, <-find("fast"), "env fast opens with the schema")
	require.NoError(t, <-fed)

	slow := find("slow")
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0) // returns once env slow is reading its schema
	require.NoError(t, err)
	select {
	case st := <-find("fast"):
		assert.Equal(t, 200, st)
	case <-time.After(30 * time.Second): // generous: the answer is blocked, not slow
		t.Error("a call to env fast waited for env slow to open")
	}
	_, err = w.WriteString(productSchema)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	assert.Equal(t, 200, <-slow, "env slow opens once its schema is read")
}
