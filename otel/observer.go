package otel

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/mincloud-go/baas"
)

// ScopeName is the instrumentation scope of the spans and metrics.
const ScopeName = "github.com/mincloud-go/baas/otel"

// InvokedProvider is the value of faas.invoked_provider. The semantic
// conventions list the big clouds only (aws, azure, gcp, alibaba_cloud,
// tencent_cloud) and allow other values; for 知晓云 (MinCloud, by ifanr)
// this package uses "mincloud", the name the SDK's module, command and
// environment variables go by.
const InvokedProvider = "mincloud"

// The attributes this package adds to the semantic conventions'.
const (
	SyncKey         = attribute.Key("mincloud.invoke.sync")   // an invoke's sync flag
	AttemptsKey     = attribute.Key("mincloud.attempts")      // how many attempts the call made
	JobIDKey        = attribute.Key("mincloud.job.id")        // the job id the answer carried
	OutcomeKey      = attribute.Key("mincloud.outcome")       // OutcomeSuccess, OutcomeFunctionError or OutcomeError
	OperationKey    = attribute.Key("mincloud.operation")     // the method: Invoke, InvokeFunction, Do (metrics)
	RequestNameKey  = attribute.Key("mincloud.request.name")  // a Do call's Request.Name
	FunctionCodeKey = attribute.Key("mincloud.function.code") // a failed function's code
	ErrorCodeKey    = attribute.Key("mincloud.error.code")    // an HError's code, on its exception event
	RetryWaitKey    = attribute.Key("mincloud.retry.wait")    // seconds before the next attempt
)

const (
	attemptKey      = attribute.Key("mincloud.attempt") // the attempt a retry event follows
	functionErrType = "function_error"                  // error.type of a failure without a JS type
	attemptSpanName = "baas.attempt"
	retryEventName  = "baas.retry"
	spanNamePrefix  = "baas."
)

// The values of mincloud.outcome.
const (
	OutcomeSuccess       = "success"        // the function ran and succeeded, or the Open API call worked
	OutcomeFunctionError = "function_error" // the function ran and failed (a non-zero code)
	OutcomeError         = "error"          // the call failed: an HError
)

// Observer is a [baas.Observer] that traces and measures calls. Build it
// with [NewObserver]; it is safe for concurrent use.
type Observer struct {
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator // nil: the global one, at each call
	metrics    instruments
}

var _ baas.Observer = (*Observer)(nil)

// NewObserver returns an Observer for [baas.WithObserver].
func NewObserver(opts ...Option) *Observer {
	cfg := config{}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	tp := cfg.tp
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	mp := cfg.mp
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	return &Observer{
		tracer:     tp.Tracer(ScopeName, trace.WithInstrumentationVersion(baas.Version)),
		propagator: cfg.propagator,
		metrics:    newInstruments(mp),
	}
}

// StartCall starts the call's span and writes the trace context into the
// headers every attempt sends.
func (o *Observer) StartCall(ctx context.Context, call baas.CallInfo) context.Context {
	attrs := make([]attribute.KeyValue, 0, 12)
	attrs = append(attrs, invocationAttrs(call)...)
	attrs = append(attrs, semconv.HTTPRequestMethodKey.String(call.Method), semconv.URLFull(call.URL))
	if u, err := url.Parse(call.URL); err == nil {
		host, port := u.Hostname(), u.Port()
		attrs = append(attrs, semconv.ServerAddress(host))
		if p, err := strconv.Atoi(port); err == nil {
			attrs = append(attrs, semconv.ServerPort(p))
		} else if port == "" {
			attrs = append(attrs, semconv.ServerPort(defaultPort(u.Scheme)))
		}
	}
	if call.Op == baas.OpDo && call.Function != "" {
		attrs = append(attrs, RequestNameKey.String(call.Function))
	}
	ctx, _ = o.tracer.Start(ctx, spanNamePrefix+string(call.Op),
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithTimestamp(call.Start),
		trace.WithAttributes(attrs...))
	if call.Header != nil { // always, when the SDK calls
		o.prop().Inject(ctx, propagation.HeaderCarrier(call.Header))
	}
	return ctx
}

// Attempt records the attempt as a child span of the call's, after the
// fact, with its own start and end.
func (o *Observer) Attempt(ctx context.Context, call baas.CallInfo, a baas.AttemptInfo) {
	attrs := []attribute.KeyValue{semconv.HTTPRequestResendCount(a.N - 1)}
	if a.StatusCode != 0 {
		attrs = append(attrs, semconv.HTTPResponseStatusCode(a.StatusCode))
	}
	if a.Retry {
		attrs = append(attrs, RetryWaitKey.Float64(a.Wait.Seconds()))
	}
	_, span := o.tracer.Start(ctx, attemptSpanName,
		trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithTimestamp(a.Start),
		trace.WithAttributes(attrs...))
	if a.Err != nil {
		span.SetAttributes(semconv.ErrorTypeKey.String(errorType(a.Err)))
		span.SetStatus(codes.Error, a.Err.Error())
	}
	span.End(trace.WithTimestamp(a.End))
	if a.Retry {
		ev := []attribute.KeyValue{attemptKey.Int(a.N), RetryWaitKey.Float64(a.Wait.Seconds())}
		if a.StatusCode != 0 {
			ev = append(ev, semconv.HTTPResponseStatusCode(a.StatusCode))
		}
		trace.SpanFromContext(ctx).AddEvent(retryEventName, trace.WithTimestamp(a.End), trace.WithAttributes(ev...))
	}
}

// EndCall ends the call's span with the outcome, and records the metrics.
func (o *Observer) EndCall(ctx context.Context, call baas.CallInfo, end baas.CallEnd) {
	span := trace.SpanFromContext(ctx)
	outcome, errType := outcomeOf(end)
	attrs := []attribute.KeyValue{AttemptsKey.Int(end.Attempts), OutcomeKey.String(outcome)}
	if end.StatusCode != 0 {
		attrs = append(attrs, semconv.HTTPResponseStatusCode(end.StatusCode))
	}
	if end.JobID != "" {
		attrs = append(attrs, JobIDKey.String(end.JobID))
	}
	if errType != "" {
		attrs = append(attrs, semconv.ErrorTypeKey.String(errType))
	}
	span.SetAttributes(attrs...)
	switch {
	case end.Err != nil:
		var ea []attribute.KeyValue
		var he *baas.HError
		if errors.As(end.Err, &he) {
			ea = append(ea, ErrorCodeKey.Int(he.Code))
		}
		span.RecordError(end.Err, trace.WithTimestamp(end.End), trace.WithAttributes(ea...))
		span.SetStatus(codes.Error, end.Err.Error())
	case outcome == OutcomeFunctionError:
		span.SetAttributes(FunctionCodeKey.Int(end.Result.Code))
		span.SetStatus(codes.Error, end.Result.Err().Error())
	}
	span.End(trace.WithTimestamp(end.End))
	o.metrics.record(ctx, call, end, outcome, errType)
}

func (o *Observer) prop() propagation.TextMapPropagator {
	if o.propagator != nil {
		return o.propagator
	}
	return otel.GetTextMapPropagator()
}

// invocationAttrs returns the FaaS attributes of a call that runs a
// function, and none for other Open API calls.
func invocationAttrs(call baas.CallInfo) []attribute.KeyValue {
	name, ok := invokedName(call)
	if !ok {
		return nil
	}
	attrs := []attribute.KeyValue{semconv.FaaSInvokedName(name), semconv.FaaSInvokedProviderKey.String(InvokedProvider)}
	if call.Op != baas.OpDo {
		trigger := semconv.FaaSTriggerHTTP
		if !call.Sync {
			trigger = semconv.FaaSTriggerOther
		}
		attrs = append(attrs, trigger, SyncKey.Bool(call.Sync))
	}
	return attrs
}

// invokedName returns the function a call runs: an invoke's, or an Open
// API POST to /oserve/v1.3/cloud-function/<name>/job/ or .../debug/.
func invokedName(call baas.CallInfo) (string, bool) {
	if call.Op != baas.OpDo {
		return call.Function, true
	}
	if call.Method != "POST" {
		return "", false
	}
	u, err := url.Parse(call.URL)
	if err != nil {
		return "", false
	}
	rest, ok := strings.CutPrefix(u.Path, "/oserve/v1.3/cloud-function/")
	if !ok {
		return "", false
	}
	name, tail, ok := strings.Cut(rest, "/")
	if !ok || name == "" || (tail != "job/" && tail != "debug/") {
		return "", false
	}
	return name, true
}

// outcomeOf says how the call ended, and its error.type when not a
// success.
func outcomeOf(end baas.CallEnd) (outcome, errType string) {
	switch {
	case end.Err != nil:
		return OutcomeError, errorType(end.Err)
	case end.Result != nil && end.Result.Code != 0:
		if end.Result.Error != nil && end.Result.Error.Type != "" {
			return OutcomeFunctionError, end.Result.Error.Type
		}
		return OutcomeFunctionError, functionErrType
	}
	return OutcomeSuccess, ""
}

// errorType is an HError's code ("429", "601"): few values, and the ones
// an alert is written for.
func errorType(err error) string {
	var he *baas.HError
	if errors.As(err, &he) {
		return strconv.Itoa(he.Code)
	}
	return semconv.ErrorTypeOther.Value.AsString()
}

func defaultPort(scheme string) int {
	if scheme == "http" {
		return 80
	}
	return 443
}
