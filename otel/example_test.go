package otel_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/mincloud-go/baas"
	"github.com/mincloud-go/baas/emulator"
	"github.com/mincloud-go/baas/function"
	baasotel "github.com/mincloud-go/baas/otel"
)

// The providers given to Instrument: here the spans go to memory (see
// the README for an OTLP exporter to a collector). A service more often
// sets the global ones once, at start-up, as Example_globalProviders
// shows; this example passes its own so that it leaves the process's
// globals as they were.
func Example() {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	defer tp.Shutdown(context.Background())

	// The emulator stands in for the platform, so that the example runs
	// offline.
	srv := emulator.New()
	defer srv.Close()
	srv.Register("helloWorld", func(ctx context.Context, ev *function.Event) (any, error) {
		return "hello", nil
	})

	c, err := baas.New(baas.WithClientID(srv.ClientID), baas.WithHost(srv.URL),
		baasotel.Instrument(
			baasotel.WithTracerProvider(tp),
			baasotel.WithPropagator(propagation.TraceContext{}), // traceparent goes out
		))
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

// The usual wiring of a service: the global providers, set once at
// start-up, which Instrument reads at each call by default. (Not run as
// a test: setting the globals would carry over into this package's other
// tests and examples.)
func Example_globalProviders() {
	ctx := context.Background()
	tp := sdktrace.NewTracerProvider( /* sdktrace.WithBatcher(an OTLP exporter), ... */ )
	defer tp.Shutdown(ctx) // flushes the spans still buffered
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{}) // traceparent goes out

	c, err := baas.New(baas.WithClientID("your-client-id"), baasotel.Instrument())
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.Invoke(ctx, "helloWorld", nil, true); err != nil {
		log.Fatal(err)
	}
}

// Example leaves the process's global providers as it found them: they
// would otherwise reach every test and example run after it. Not
// parallel: it silences os.Stdout while Example prints.
func TestExampleLeavesTheGlobalsAlone(t *testing.T) {
	tp, prop := otel.GetTracerProvider(), otel.GetTextMapPropagator()
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	stdout := os.Stdout
	os.Stdout = devNull
	defer func() { os.Stdout = stdout }()
	Example()
	if otel.GetTracerProvider() != tp {
		t.Error("Example set the global tracer provider")
	}
	if otel.GetTextMapPropagator() != prop {
		t.Error("Example set the global propagator")
	}
}
