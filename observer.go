package baas

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// An Observer is told of every call a [Client] makes, each of its
// attempts and its end, to trace or measure the calls (package
// github.com/mincloud-go/baas/otel builds one on OpenTelemetry). Set it
// with [WithObserver]. A client without one pays nothing for the hook.
//
// Calls are the public ones: [Client.Invoke] (and [InvokeAs], the
// package-level [Invoke]), [Client.InvokeFunction] and [Client.Do], which
// package manage goes through. Getting an Open API access token is part of
// the attempt that needed it, not a call of its own. A call refused before
// anything is sent (a 605 for a bad argument) is not observed.
//
// The methods are called on the calling goroutine, in order: StartCall
// once, Attempt once per attempt, EndCall once. They must be safe for
// concurrent use (a Client is) and quick: they hold up the call.
type Observer interface {
	// StartCall is called before the first attempt. The context it returns
	// is the call's from then on: the requests carry it, and Attempt and
	// EndCall receive it, so a span put in it here is the call's parent.
	// It must derive from ctx; nil means ctx. Headers put in call.Header
	// go out with every attempt (a trace context's traceparent), except
	// the ones the SDK sets itself.
	StartCall(ctx context.Context, call CallInfo) context.Context
	// Attempt is called after each attempt, before any wait for the next.
	Attempt(ctx context.Context, call CallInfo, attempt AttemptInfo)
	// EndCall is called once the call is over, with its outcome.
	EndCall(ctx context.Context, call CallInfo, end CallEnd)
}

// WithObserver adds an Observer of the client's calls. Several observers
// are called in the order given, each StartCall receiving the context the
// previous one returned; a nil one is ignored.
func WithObserver(o Observer) Option {
	return func(c *config) {
		if o != nil {
			c.observers = append(c.observers, o)
		}
	}
}

// Operation names the Client method a call came through.
type Operation string

// The observed operations.
const (
	OpInvoke         Operation = "Invoke"
	OpInvokeFunction Operation = "InvokeFunction"
	OpDo             Operation = "Do"
)

// CallInfo describes a call, as its Observer sees it throughout.
type CallInfo struct {
	Op Operation
	// Function is the function called; for [Client.Do], the Request's
	// Name (package manage sets it to the function the call is about).
	Function string
	// Sync is the sync flag of an invoke; false for [Client.Do].
	Sync   bool
	Method string
	// URL is the request's URL, host and query included. It never holds
	// a secret: tokens travel in headers.
	URL string
	// Start is when the call started.
	Start time.Time
	// Header holds headers the observer adds to every attempt's request;
	// it is empty when StartCall is called.
	Header http.Header
}

// AttemptInfo is one attempt of a call, as [Observer.Attempt] sees it.
type AttemptInfo struct {
	// N counts the attempts of the call from 1.
	N          int
	Start, End time.Time
	// StatusCode is the HTTP status of the answer, 0 when none came.
	StatusCode int
	// Err is the attempt's failure (an *HError), nil when it succeeded.
	Err error
	// Retry says that another attempt follows, after Wait: a 429 (Wait
	// then at least its Retry-After), a connection that could not be made,
	// or a refused Open API token (renewed at once, Wait 0). When the
	// call's context ends during the wait, the call ends instead.
	Retry bool
	Wait  time.Duration
}

// CallEnd is the outcome of a call, as [Observer.EndCall] sees it.
type CallEnd struct {
	// Attempts is how many attempts were made (0 when none could start).
	Attempts int
	End      time.Time
	// StatusCode is the HTTP status of the last answer, 0 when none came.
	StatusCode int
	// Result is what an invoke returned: a function failure is a Result
	// with a non-zero Code, not an Err. Nil for Do and on error.
	Result *Result
	// Err is the call's error, an *HError; nil when it worked.
	Err error
	// JobID is the job id the answer carried (its job_id key), as sent;
	// empty when it carried none, as the Web API's async answer
	// {"status":"ok"} does.
	JobID string
}

// observers calls several Observers in turn.
type observers []Observer

func (obs observers) StartCall(ctx context.Context, call CallInfo) context.Context {
	for _, o := range obs {
		if next := o.StartCall(ctx, call); next != nil {
			ctx = next
		}
	}
	return ctx
}

func (obs observers) Attempt(ctx context.Context, call CallInfo, a AttemptInfo) {
	for _, o := range obs {
		o.Attempt(ctx, call, a)
	}
}

func (obs observers) EndCall(ctx context.Context, call CallInfo, end CallEnd) {
	for _, o := range obs {
		o.EndCall(ctx, call, end)
	}
}

// observer returns the client's observer, nil when it has none.
func (cfg *config) observer() Observer {
	switch len(cfg.observers) {
	case 0:
		return nil
	case 1:
		return cfg.observers[0]
	}
	return observers(cfg.observers)
}

// jobIDOf reads the job_id an answer carried: a JSON string unquoted,
// a number as written.
func jobIDOf(res *Result) string {
	raw, ok := res.Extra["job_id"]
	if !ok || len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	}
	return string(raw)
}

// observedCall is a call being told to the client's Observer.
type observedCall struct {
	obs      Observer
	info     CallInfo
	ctx      context.Context // the call's, as StartCall returned it
	attempts int
	status   int // of the last attempt
}

// startObserved tells the observer that ex starts, and has every attempt
// carry the headers it adds.
func (c *Client) startObserved(ctx context.Context, ex *exchange, start time.Time) *observedCall {
	oc := &observedCall{obs: c.obs, info: CallInfo{
		Op: ex.op, Function: ex.fn, Sync: ex.sync, Method: ex.method, URL: ex.url,
		Start: start, Header: make(http.Header),
	}}
	oc.ctx = ctx
	if next := c.obs.StartCall(ctx, oc.info); next != nil {
		oc.ctx = next
	}
	if len(oc.info.Header) > 0 {
		ex.header = oc.info.Header
	}
	return oc
}

func (oc *observedCall) attempted(a AttemptInfo) {
	oc.attempts, oc.status = a.N, a.StatusCode
	oc.obs.Attempt(oc.ctx, oc.info, a)
}

// end tells the observer the call's outcome; res is the invoke's Result
// when it worked.
func (oc *observedCall) end(ans *answer, err error, res *Result) {
	e := CallEnd{Attempts: oc.attempts, End: time.Now(), StatusCode: oc.status, Err: err}
	if ans != nil {
		e.StatusCode = ans.status
	}
	if err == nil && res != nil {
		e.Result = res
		e.JobID = jobIDOf(res)
	}
	oc.obs.EndCall(oc.ctx, oc.info, e)
}
