package otel_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/mincloud-go/baas"
	"github.com/mincloud-go/baas/emulator"
	"github.com/mincloud-go/baas/function"
	baasotel "github.com/mincloud-go/baas/otel"
)

// telemetry collects what an instrumented client emits, in memory.
type telemetry struct {
	spans  *tracetest.SpanRecorder
	tp     *sdktrace.TracerProvider
	reader *sdkmetric.ManualReader
	mp     *sdkmetric.MeterProvider
}

func newTelemetry(t *testing.T) *telemetry {
	t.Helper()
	tel := &telemetry{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	tel.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(tel.spans))
	tel.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(tel.reader))
	t.Cleanup(func() {
		tel.tp.Shutdown(context.Background())
		tel.mp.Shutdown(context.Background())
	})
	return tel
}

// option instruments a client with this telemetry and the W3C propagator.
func (tel *telemetry) option() baas.Option {
	return baasotel.Instrument(baasotel.WithTracerProvider(tel.tp), baasotel.WithMeterProvider(tel.mp),
		baasotel.WithPropagator(propagation.TraceContext{}))
}

// span returns the one ended span named name.
func (tel *telemetry) span(t *testing.T, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	var found []sdktrace.ReadOnlySpan
	for _, s := range tel.spans.Ended() {
		if s.Name() == name {
			found = append(found, s)
		}
	}
	require.Len(t, found, 1, "spans named %s", name)
	return found[0]
}

// attempts returns the attempt spans, in order.
func (tel *telemetry) attempts() []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range tel.spans.Ended() {
		if s.Name() == "baas.attempt" {
			out = append(out, s)
		}
	}
	return out
}

// metrics collects the metrics, by name.
func (tel *telemetry) metrics(t *testing.T) map[string]metricdata.Aggregation {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, tel.reader.Collect(context.Background(), &rm))
	out := map[string]metricdata.Aggregation{}
	for _, sm := range rm.ScopeMetrics {
		assert.Equal(t, baasotel.ScopeName, sm.Scope.Name)
		for _, m := range sm.Metrics {
			out[m.Name] = m.Data
		}
	}
	return out
}

// assertMetrics checks that exactly one call was counted, with want as
// its attributes, in both metrics.
func (tel *telemetry) assertMetrics(t *testing.T, want ...attribute.KeyValue) {
	t.Helper()
	m := tel.metrics(t)
	wantSet := attribute.NewSet(want...)
	hist, ok := m[baasotel.DurationMetric].(metricdata.Histogram[float64])
	require.True(t, ok, "%s is a float64 histogram: %#v", baasotel.DurationMetric, m[baasotel.DurationMetric])
	require.Len(t, hist.DataPoints, 1)
	assert.Equal(t, uint64(1), hist.DataPoints[0].Count)
	assert.Greater(t, hist.DataPoints[0].Sum, 0.0)
	assert.Equal(t, wantSet.Encoded(attribute.DefaultEncoder()), hist.DataPoints[0].Attributes.Encoded(attribute.DefaultEncoder()))
	sum, ok := m[baasotel.CallsMetric].(metricdata.Sum[int64])
	require.True(t, ok, "%s is an int64 sum", baasotel.CallsMetric)
	assert.True(t, sum.IsMonotonic)
	require.Len(t, sum.DataPoints, 1)
	assert.Equal(t, int64(1), sum.DataPoints[0].Value)
	assert.Equal(t, wantSet.Encoded(attribute.DefaultEncoder()), sum.DataPoints[0].Attributes.Encoded(attribute.DefaultEncoder()))
}

func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	out := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes() {
		out[kv.Key] = kv.Value
	}
	return out
}

// newEmulator starts an emulator with the functions the tests call.
func newEmulator(t *testing.T) *emulator.Server {
	t.Helper()
	srv := emulator.New()
	t.Cleanup(srv.Close)
	srv.Register("helloWorld", func(ctx context.Context, ev *function.Event) (any, error) {
		var p struct {
			Name string `json:"name"`
		}
		if err := ev.Decode(&p); err != nil {
			return nil, err
		}
		function.Logger(ctx).Info("greeting", "name", p.Name)
		return "hello " + p.Name, nil
	})
	srv.Register("divide", func(ctx context.Context, ev *function.Event) (any, error) {
		return nil, &function.Error{Type: "RangeError", Message: "division by zero"}
	})
	return srv
}

func TestSuccessIsOneClientSpanUnderTheCallersWithTheJobFollowingTheTrace(t *testing.T) {
	tel := newTelemetry(t)
	srv := newEmulator(t)
	c, err := srv.Client(tel.option())
	require.NoError(t, err)

	ctx, parent := tel.tp.Tracer("test").Start(context.Background(), "handle request")
	res, err := c.Invoke(ctx, "helloWorld", map[string]any{"name": "allen"}, true)
	parent.End()
	require.NoError(t, err)
	require.Equal(t, `"hello allen"`, string(res.Data))

	call := tel.span(t, "baas.Invoke")
	assert.Equal(t, trace.SpanKindClient, call.SpanKind())
	assert.Equal(t, parent.SpanContext().SpanID(), call.Parent().SpanID(), "the call's span is a child of the caller's")
	assert.Equal(t, codes.Unset, call.Status().Code)
	a := attrs(call)
	assert.Equal(t, "helloWorld", a["faas.invoked_name"].AsString())
	assert.Equal(t, "mincloud", a["faas.invoked_provider"].AsString())
	assert.Equal(t, "http", a["faas.trigger"].AsString())
	assert.True(t, a["mincloud.invoke.sync"].AsBool())
	assert.Equal(t, int64(1), a["mincloud.attempts"].AsInt64())
	assert.Equal(t, int64(200), a["http.response.status_code"].AsInt64())
	assert.Equal(t, "success", a["mincloud.outcome"].AsString())
	assert.Equal(t, "POST", a["http.request.method"].AsString())
	assert.Equal(t, srv.URL+"/hserve/v1/cloud-function/job/", a["url.full"].AsString())
	assert.Equal(t, "127.0.0.1", a["server.address"].AsString())
	u, _ := url.Parse(srv.URL)
	assert.Equal(t, u.Port(), strconv.FormatInt(a["server.port"].AsInt64(), 10))
	assert.NotContains(t, a, attribute.Key("error.type"))
	assert.NotContains(t, a, attribute.Key("mincloud.job.id"))

	attempts := tel.attempts()
	require.Len(t, attempts, 1)
	assert.Equal(t, call.SpanContext().SpanID(), attempts[0].Parent().SpanID())
	assert.Equal(t, int64(200), attrs(attempts[0])["http.response.status_code"].AsInt64())
	assert.Equal(t, int64(0), attrs(attempts[0])["http.request.resend_count"].AsInt64())

	// The traceparent went out: the emulator's job carries the trace.
	jobs := srv.Jobs()
	require.Len(t, jobs, 1)
	traceID := call.SpanContext().TraceID().String()
	assert.Equal(t, traceID, jobs[0].TraceID)
	require.Len(t, jobs[0].Log, 1)
	assert.True(t, strings.HasSuffix(jobs[0].Log[0], "INFO greeting name=allen trace_id="+traceID), jobs[0].Log[0])

	tel.assertMetrics(t,
		attribute.String("faas.invoked_name", "helloWorld"), attribute.String("faas.invoked_provider", "mincloud"),
		attribute.Bool("mincloud.invoke.sync", true), attribute.String("mincloud.operation", "Invoke"),
		attribute.String("mincloud.outcome", "success"))
}

func TestFunctionFailureSetsTheSpanStatusWithTheFunctionsMessage(t *testing.T) {
	tel := newTelemetry(t)
	srv := newEmulator(t)
	c, err := srv.Client(tel.option())
	require.NoError(t, err)

	res, err := c.Invoke(context.Background(), "divide", nil, true)
	require.NoError(t, err, "a function failure is an HTTP 200")
	require.Equal(t, 1, res.Code)

	call := tel.span(t, "baas.Invoke")
	assert.Equal(t, codes.Error, call.Status().Code)
	assert.Equal(t, "division by zero", call.Status().Description)
	a := attrs(call)
	assert.Equal(t, "function_error", a["mincloud.outcome"].AsString())
	assert.Equal(t, "RangeError", a["error.type"].AsString())
	assert.Equal(t, int64(1), a["mincloud.function.code"].AsInt64())
	assert.Equal(t, int64(200), a["http.response.status_code"].AsInt64())
	assert.Empty(t, call.Events(), "the call worked: no exception is recorded")
	assert.Equal(t, call.SpanContext().TraceID().String(), srv.Jobs()[0].TraceID)

	tel.assertMetrics(t,
		attribute.String("faas.invoked_name", "divide"), attribute.String("faas.invoked_provider", "mincloud"),
		attribute.Bool("mincloud.invoke.sync", true), attribute.String("mincloud.operation", "Invoke"),
		attribute.String("mincloud.outcome", "function_error"), attribute.String("error.type", "RangeError"))
}

func TestHErrorIsRecordedWithItsCode(t *testing.T) {
	tel := newTelemetry(t)
	srv := newEmulator(t)
	c, err := srv.Client(tel.option())
	require.NoError(t, err)

	//lint:ignore SA1019 the deprecated method is a call of its own, named for it
	_, err = c.InvokeFunction(context.Background(), "missing", nil, true)
	var he *baas.HError
	require.ErrorAs(t, err, &he)
	require.Equal(t, 404, he.Code)

	call := tel.span(t, "baas.InvokeFunction")
	assert.Equal(t, codes.Error, call.Status().Code)
	assert.Equal(t, err.Error(), call.Status().Description)
	a := attrs(call)
	assert.Equal(t, "error", a["mincloud.outcome"].AsString())
	assert.Equal(t, "404", a["error.type"].AsString())
	assert.Equal(t, int64(404), a["http.response.status_code"].AsInt64())
	require.Len(t, call.Events(), 1)
	ev := call.Events()[0]
	assert.Equal(t, "exception", ev.Name)
	evAttrs := map[attribute.Key]attribute.Value{}
	for _, kv := range ev.Attributes {
		evAttrs[kv.Key] = kv.Value
	}
	assert.Equal(t, int64(404), evAttrs["mincloud.error.code"].AsInt64())
	assert.Equal(t, err.Error(), evAttrs["exception.message"].AsString())
	assert.Equal(t, "*baas.HError", evAttrs["exception.type"].AsString())

	tel.assertMetrics(t,
		attribute.String("faas.invoked_name", "missing"), attribute.String("faas.invoked_provider", "mincloud"),
		attribute.Bool("mincloud.invoke.sync", true), attribute.String("mincloud.operation", "InvokeFunction"),
		attribute.String("mincloud.outcome", "error"), attribute.String("error.type", "404"))
}

// busyProxy answers the first call 429 with Retry-After, as the platform
// does when the app runs too many jobs, and passes the next ones to the
// emulator; it keeps the traceparent of every request.
type busyProxy struct {
	*httptest.Server
	mu           sync.Mutex
	traceparents []string
}

func newBusyProxy(t *testing.T, target string, retryAfter string) *busyProxy {
	t.Helper()
	u, err := url.Parse(target)
	require.NoError(t, err)
	rp := httputil.NewSingleHostReverseProxy(u)
	p := &busyProxy{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.traceparents = append(p.traceparents, r.Header.Get("Traceparent"))
		first := len(p.traceparents) == 1
		p.mu.Unlock()
		if first {
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Retry-After", retryAfter)
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"status":"error","error_msg":"Too many requests"}`)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

func TestRetried429ShowsTheWaitBetweenAttemptSpans(t *testing.T) {
	tel := newTelemetry(t)
	srv := newEmulator(t)
	proxy := newBusyProxy(t, srv.URL, "1")
	c, err := srv.Client(tel.option(), baas.WithHost(proxy.URL))
	require.NoError(t, err)

	res, err := c.Invoke(context.Background(), "helloWorld", map[string]any{"name": "allen"}, true)
	require.NoError(t, err)
	require.Equal(t, 0, res.Code)

	call := tel.span(t, "baas.Invoke")
	assert.Equal(t, codes.Unset, call.Status().Code, "the call succeeded in the end")
	assert.Equal(t, int64(2), attrs(call)["mincloud.attempts"].AsInt64())

	attempts := tel.attempts()
	require.Len(t, attempts, 2)
	first, second := attempts[0], attempts[1]
	for _, s := range attempts {
		assert.Equal(t, call.SpanContext().SpanID(), s.Parent().SpanID())
	}
	assert.Equal(t, int64(429), attrs(first)["http.response.status_code"].AsInt64())
	assert.Equal(t, "429", attrs(first)["error.type"].AsString())
	assert.Equal(t, codes.Error, first.Status().Code)
	assert.Equal(t, 1.0, attrs(first)["mincloud.retry.wait"].AsFloat64(), "the server's Retry-After")
	assert.Equal(t, int64(200), attrs(second)["http.response.status_code"].AsInt64())
	assert.Equal(t, int64(1), attrs(second)["http.request.resend_count"].AsInt64())
	assert.NotContains(t, attrs(second), attribute.Key("mincloud.retry.wait"))
	assert.GreaterOrEqual(t, second.StartTime().Sub(first.EndTime()), time.Second, "the trace shows the wait")

	require.Len(t, call.Events(), 1)
	assert.Equal(t, "baas.retry", call.Events()[0].Name)
	assert.Equal(t, first.EndTime(), call.Events()[0].Time)

	// Both attempts carried the call's trace context; the job has it.
	traceID := call.SpanContext().TraceID().String()
	require.Len(t, proxy.traceparents, 2)
	for _, tp := range proxy.traceparents {
		assert.Equal(t, "00-"+traceID+"-"+call.SpanContext().SpanID().String()+"-01", tp)
	}
	require.Len(t, srv.Jobs(), 1)
	assert.Equal(t, traceID, srv.Jobs()[0].TraceID)

	tel.assertMetrics(t,
		attribute.String("faas.invoked_name", "helloWorld"), attribute.String("faas.invoked_provider", "mincloud"),
		attribute.Bool("mincloud.invoke.sync", true), attribute.String("mincloud.operation", "Invoke"),
		attribute.String("mincloud.outcome", "success"))
}

func TestAsyncCallIsFollowedIntoItsJob(t *testing.T) {
	tel := newTelemetry(t)
	srv := newEmulator(t)
	c, err := srv.Client(tel.option())
	require.NoError(t, err)

	res, err := c.Invoke(context.Background(), "helloWorld", map[string]any{"name": "later"}, false)
	require.NoError(t, err)
	require.True(t, res.IsAck())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, srv.Wait(ctx))

	call := tel.span(t, "baas.Invoke")
	a := attrs(call)
	assert.Equal(t, "other", a["faas.trigger"].AsString(), "an async call queues a job")
	assert.False(t, a["mincloud.invoke.sync"].AsBool())
	assert.Equal(t, "success", a["mincloud.outcome"].AsString())
	// The Web API's ack, {"status":"ok"}, carries no job id.
	assert.NotContains(t, a, attribute.Key("mincloud.job.id"))

	jobs := srv.Jobs()
	require.Len(t, jobs, 1)
	traceID := call.SpanContext().TraceID().String()
	assert.False(t, jobs[0].Sync)
	assert.Equal(t, emulator.StatusFulfilled, jobs[0].Status)
	assert.Equal(t, traceID, jobs[0].TraceID)
	require.Len(t, jobs[0].Log, 1)
	assert.True(t, strings.HasSuffix(jobs[0].Log[0], " trace_id="+traceID), jobs[0].Log[0])

	tel.assertMetrics(t,
		attribute.String("faas.invoked_name", "helloWorld"), attribute.String("faas.invoked_provider", "mincloud"),
		attribute.Bool("mincloud.invoke.sync", false), attribute.String("mincloud.operation", "Invoke"),
		attribute.String("mincloud.outcome", "success"))
}

// An answer that carries a job id (a key the protocol says to tolerate)
// puts it on the span.
func TestAsyncJobIDFromTheAnswer(t *testing.T) {
	tel := newTelemetry(t)
	platform := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, `{"status":"ok","job_id":7734}`)
	}))
	defer platform.Close()
	c, err := baas.New(baas.WithClientID("otel"), baas.WithHost(platform.URL), tel.option())
	require.NoError(t, err)
	_, err = c.Invoke(context.Background(), "report", nil, false)
	require.NoError(t, err)
	assert.Equal(t, "7734", attrs(tel.span(t, "baas.Invoke"))["mincloud.job.id"].AsString())
}

func TestOpenAPICallsAreSpansToo(t *testing.T) {
	tel := newTelemetry(t)
	srv := newEmulator(t)
	c, err := srv.Client(baas.WithClientSecret(srv.ClientSecret), tel.option())
	require.NoError(t, err)

	// An Open API call that runs a function is an invocation of it.
	resp, err := c.Do(context.Background(), baas.Request{Method: "POST", Path: "/oserve/v1.3/cloud-function/helloWorld/job/",
		Body: map[string]any{"data": map[string]any{"name": "open"}, "sync": true}, Name: "helloWorld"})
	require.NoError(t, err)
	require.Contains(t, string(resp.Body), "hello open")
	// One that does not is a span without the FaaS attributes.
	_, err = c.Do(context.Background(), baas.Request{Method: "GET", Path: "/oserve/v1.3/cloud-function/", Name: "list"})
	require.NoError(t, err)

	var do []sdktrace.ReadOnlySpan
	for _, s := range tel.spans.Ended() {
		if s.Name() == "baas.Do" {
			do = append(do, s)
		}
	}
	require.Len(t, do, 2, "one span per call: getting the access token is part of the first attempt")
	invoke, list := attrs(do[0]), attrs(do[1])
	assert.Equal(t, "helloWorld", invoke["faas.invoked_name"].AsString())
	assert.Equal(t, "mincloud", invoke["faas.invoked_provider"].AsString())
	assert.Equal(t, "helloWorld", invoke["mincloud.request.name"].AsString())
	assert.NotContains(t, list, attribute.Key("faas.invoked_name"))
	assert.Equal(t, "list", list["mincloud.request.name"].AsString())
	assert.Equal(t, "GET", list["http.request.method"].AsString())
	assert.Equal(t, do[0].SpanContext().TraceID().String(), srv.Jobs()[0].TraceID)
}
