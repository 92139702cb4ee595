package emulator_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/mincloud-go/baas/emulator"
	"github.com/mincloud-go/baas/function"
)

// BenchmarkInvokeWatched measures a sync call whose function logs a line,
// with one event stream open and read (a dashboard tab, or logs
// --follow), beside the same call with none open, in the same run: the
// ratio is what streaming a job's four events costs. With no stream open
// the job code's hooks are one atomic load each.
func BenchmarkInvokeWatched(b *testing.B) {
	run := func(b *testing.B, watched bool) {
		srv := emulator.New()
		defer srv.Close()
		srv.Register("hello", func(ctx context.Context, ev *function.Event) (any, error) {
			function.Logger(ctx).Info("hello")
			return "hello", nil
		})
		if watched {
			// A reader dropped for falling behind (a loaded machine)
			// reconnects, as the page does, so that the stream stays.
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			open := func() *http.Response {
				req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/_/api/events", nil)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return nil
				}
				return resp
			}
			resp := open() // open before the clock starts
			if resp == nil {
				b.Fatal("cannot open the stream")
			}
			go func() {
				for resp != nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					resp = open()
				}
			}()
		}
		c, err := srv.Client()
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if res, err := c.Invoke(ctx, "hello", nil, true); err != nil || res.Code != 0 {
				b.Fatal(res, err)
			}
		}
	}
	b.Run("baseline=no-stream", func(b *testing.B) { run(b, false) })
	b.Run("one-stream", func(b *testing.B) { run(b, true) })
}
