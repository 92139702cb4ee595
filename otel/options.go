package otel

import (
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/mincloud-go/baas"
)

// An Option configures an [Observer] built by [NewObserver] or [Instrument].
type Option func(*config)

type config struct {
	tp         trace.TracerProvider
	mp         metric.MeterProvider
	propagator propagation.TextMapPropagator
}

// WithTracerProvider sets the tracer provider; the default is the global
// one.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) { c.tp = tp }
}

// WithMeterProvider sets the meter provider; the default is the global
// one.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) { c.mp = mp }
}

// WithPropagator sets the propagator that writes the trace context into
// every request's headers; the default is the global one, read at each
// call.
func WithPropagator(p propagation.TextMapPropagator) Option {
	return func(c *config) { c.propagator = p }
}

// Instrument returns the option that makes a [baas.Client] traced and
// measured: baas.New(baas.WithClientID(id), baasotel.Instrument()).
func Instrument(opts ...Option) baas.Option {
	return baas.WithObserver(NewObserver(opts...))
}
