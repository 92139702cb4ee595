package otel_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/mincloud-go/baas"
	baasotel "github.com/mincloud-go/baas/otel"
)

// BenchmarkInvokeInstrumented is the cost of tracing and measuring a small
// call, beside the same client uninstrumented, against the same loopback
// server in the same run. The spans are sampled and ended, then dropped
// (no exporter): what a service pays before its exporter's own cost.
func BenchmarkInvokeInstrumented(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"code":0,"data":"hello allen","error":{}}`)
	}))
	b.Cleanup(srv.Close)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() {
		tp.Shutdown(context.Background())
		mp.Shutdown(context.Background())
	})
	params := map[string]any{"name": "allen"}
	for _, bc := range []struct {
		name string
		opts []baas.Option
	}{
		{"baseline=sdk", nil},
		{"sdk+otel", []baas.Option{baasotel.Instrument(baasotel.WithTracerProvider(tp), baasotel.WithMeterProvider(mp),
			baasotel.WithPropagator(propagation.TraceContext{}))}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c, err := baas.New(append([]baas.Option{baas.WithClientID("bench"), baas.WithHost(srv.URL)}, bc.opts...)...)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := c.Invoke(ctx, "helloWorld", params, true); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
