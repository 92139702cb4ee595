package emulator_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mincloud-go/baas"
	"github.com/mincloud-go/baas/emulator"
	"github.com/mincloud-go/baas/function"
)

// BenchmarkEmulatorInvoke measures SDK → emulator → a trivial handler
// beside SDK → a bare httptest handler answering the same bytes, in the
// same run: the ratio is the emulator's cost.
func BenchmarkEmulatorInvoke(b *testing.B) {
	ctx := context.Background()
	params := map[string]any{"name": "allen"}
	run := func(b *testing.B, c *baas.Client) {
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			res, err := c.Invoke(ctx, "helloWorld", params, true)
			if err != nil || res.Code != 0 {
				b.Fatal(res, err)
			}
		}
	}
	b.Run("baseline=httptest", func(b *testing.B) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"code":0,"data":"hello allen","error":{}}`)
		}))
		defer srv.Close()
		c, err := baas.New(baas.WithClientID("bench"), baas.WithHost(srv.URL))
		if err != nil {
			b.Fatal(err)
		}
		run(b, c)
	})
	b.Run("emulator", func(b *testing.B) {
		srv := emulator.New()
		defer srv.Close()
		srv.Register("helloWorld", func(ctx context.Context, ev *function.Event) (any, error) {
			return "hello allen", nil
		})
		c, err := srv.Client()
		if err != nil {
			b.Fatal(err)
		}
		run(b, c)
	})
}
