package otel_test

import (
	"context"
	"fmt"
	"log"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/mincloud-go/baas"
	"github.com/mincloud-go/baas/emulator"
	"github.com/mincloud-go/baas/function"
	baasotel "github.com/mincloud-go/baas/otel"
)

func Example() {
	// A service sets its providers once, at start-up; here the spans go to
	// memory (see the README for an OTLP exporter to a collector).
	spans := tracetest.NewSpanRecorder()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans)))
	otel.SetTextMapPropagator(propagation.TraceContext{}) // traceparent goes out

	// The emulator stands in for the platform, so that the example runs
	// offline.
	srv := emulator.New()
	defer srv.Close()
	srv.Register("helloWorld", func(ctx context.Context, ev *function.Event) (any, error) {
		return "hello", nil
	})

	c, err := baas.New(baas.WithClientID(srv.ClientID), baas.WithHost(srv.URL), baasotel.Instrument())
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.Invoke(context.Background(), "helloWorld", nil, true); err != nil {
		log.Fatal(err)
	}

	for _, s := range spans.Ended() {
		fmt.Println(s.Name())
		if s.Name() == "baas.Invoke" {
			fmt.Println("job in the trace:", srv.Jobs()[0].TraceID == s.SpanContext().TraceID().String())
		}
	}
	// Output:
	// baas.attempt
	// baas.Invoke
	// job in the trace: true
}
