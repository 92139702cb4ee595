package otel

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/mincloud-go/baas"
)

// The metrics' names, named as the semantic conventions name their own
// ({namespace}.client.{operation}.duration in seconds, and a count).
const (
	DurationMetric = "mincloud.client.call.duration"
	CallsMetric    = "mincloud.client.calls"
)

// durationBuckets are the conventions' HTTP client buckets, stretched to
// the 300 s an async call may take.
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60, 120, 300}

type instruments struct {
	duration metric.Float64Histogram
	calls    metric.Int64Counter
}

func newInstruments(mp metric.MeterProvider) instruments {
	m := mp.Meter(ScopeName, metric.WithInstrumentationVersion(baas.Version))
	var in instruments
	var err error
	in.duration, err = m.Float64Histogram(DurationMetric,
		metric.WithDescription("Duration of cloud function and Open API calls, from the start of the call to the end of its last attempt, retries included."),
		metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	if err != nil {
		otel.Handle(err)
		in.duration = noop.Float64Histogram{}
	}
	in.calls, err = m.Int64Counter(CallsMetric,
		metric.WithDescription("Cloud function and Open API calls, by function and outcome."),
		metric.WithUnit("{call}"))
	if err != nil {
		otel.Handle(err)
		in.calls = noop.Int64Counter{}
	}
	return in
}

// record adds the call to both metrics.
func (in instruments) record(ctx context.Context, call baas.CallInfo, end baas.CallEnd, outcome, errType string) {
	attrs := make([]attribute.KeyValue, 0, 6)
	if name, ok := invokedName(call); ok {
		attrs = append(attrs, semconv.FaaSInvokedName(name))
		if call.Op != baas.OpDo {
			attrs = append(attrs, SyncKey.Bool(call.Sync))
		}
	}
	attrs = append(attrs, semconv.FaaSInvokedProviderKey.String(InvokedProvider),
		OperationKey.String(string(call.Op)), OutcomeKey.String(outcome))
	if errType != "" {
		attrs = append(attrs, semconv.ErrorTypeKey.String(errType))
	}
	set := metric.WithAttributeSet(attribute.NewSet(attrs...))
	in.duration.Record(ctx, end.End.Sub(call.Start).Seconds(), set)
	in.calls.Add(ctx, 1, set)
}
