// Package otel traces and measures a [baas.Client]'s calls with
// OpenTelemetry: one span per [baas.Client.Invoke],
// [baas.Client.InvokeFunction] or Open API call ([baas.Client.Do], which
// package manage goes through), a child span per attempt, the trace
// context sent in the request headers, and two metrics. It is a module of
// its own, so that importing baas never pulls in OpenTelemetry.
//
// Import it under a name of your choice beside go.opentelemetry.io/otel,
// and give the client its observer:
//
//	import baasotel "github.com/mincloud-go/baas/otel"
//
//	c, err := baas.New(baas.WithClientID(id), baasotel.Instrument())
//
// By default it uses the global tracer provider, meter provider and text
// map propagator (otel.SetTracerProvider, ...), read at each call, so they
// may be set after the client is built. The global propagator does nothing
// until one is set: set propagation.TraceContext{} there, or pass
// [WithPropagator], for the W3C traceparent header to go out.
//
// # Spans
//
// A call's span is named for the method, "baas.Invoke",
// "baas.InvokeFunction" or "baas.Do", of kind client, and carries the
// semantic conventions' attributes of an outgoing FaaS invocation:
// faas.invoked_name, faas.invoked_provider ([InvokedProvider]: the
// conventions have no value for 知晓云) and, for Invoke and InvokeFunction,
// faas.trigger ("http" for a sync call, whose function runs within the
// request; "other" for an async one, queued as a job), with http.request.method, url.full, server.address,
// server.port and http.response.status_code, and of this package:
// mincloud.invoke.sync (Invoke and InvokeFunction), mincloud.attempts, mincloud.job.id (when the answer
// carried one), mincloud.outcome, and for [baas.Client.Do]
// mincloud.request.name. An Open API call that runs a function (a POST to
// /oserve/v1.3/cloud-function/<name>/job/ or .../debug/) is an invocation
// too, named for its function.
//
// A function that failed (code 1, an HTTP 200) sets the span's status to
// error with the function's message, mincloud.function.code and error.type
// (the JS error's type, e.g. "TypeError"). A call that failed (a
// [*baas.HError]) records the error as an exception event carrying
// mincloud.error.code, sets the status to error with its text, and
// error.type to the code ("404", "601").
//
// Each attempt is a child span "baas.attempt", from when it was sent to
// when its answer was read, with http.request.resend_count,
// http.response.status_code and, when another attempt follows,
// mincloud.retry.wait (seconds); the call's span also gets a "baas.retry"
// event then. So a trace shows a 429, the wait, and the attempt that
// followed.
//
// # Metrics
//
// mincloud.client.call.duration (histogram, seconds) and
// mincloud.client.calls (counter, {call}), each with faas.invoked_name
// (calls that run a function), faas.invoked_provider, mincloud.operation,
// mincloud.invoke.sync (Invoke and InvokeFunction), mincloud.outcome
// ("success", "function_error" or "error") and error.type (when not a
// success).
package otel
