package emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mincloud-go/baas"
	"github.com/mincloud-go/baas/function"
)

// Job statuses, as the platform names them.
const (
	StatusWaiting          = "waiting"
	StatusExecuting        = "executing"
	StatusFulfilled        = "fulfilled"
	StatusExecutionFailed  = "execution_failed"
	StatusDeadlineExceeded = "deadline_exceeded"
	StatusScheduleFailed   = "schedule_failed"
)

// Job sources, the event types the emulator produces.
const (
	SourceSDK           = "sdk"
	SourceCloudFunction = "cloud_function"
	SourceOpenAPI       = "open_api"
)

// Job is the record of one run, as [Server.Jobs] returns it.
type Job struct {
	ID       int64
	Function string
	Source   string // the event type: sdk, cloud_function, open_api
	Sync     bool
	Status   string
	// CreatedAt is when the call arrived; StartedAt and FinishedAt are zero
	// until the job starts and ends.
	CreatedAt  time.Time
	StartedAt  time.Time
	FinishedAt time.Time
	// Log holds the function's log lines, "<ISO time> <LEVEL> <message>".
	Log []string
	// Result is the function's outcome once the job has ended; nil before,
	// and for a job that never ran.
	Result *baas.Result
}

// Done reports whether the job has ended, one way or another.
func (j *Job) Done() bool {
	switch j.Status {
	case StatusWaiting, StatusExecuting:
		return false
	}
	return true
}

// job is a Job being run, guarded by its own lock.
type job struct {
	mu  sync.Mutex
	rec Job

	event *function.Event
	h     function.Handler
	srv   *Server
}

func (j *job) snapshot() Job {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := j.rec
	out.Log = append([]string(nil), j.rec.Log...)
	return out
}

func (j *job) start() {
	j.mu.Lock()
	j.rec.Status = StatusExecuting
	j.rec.StartedAt = time.Now()
	j.mu.Unlock()
}

// finish ends the job once; later calls change nothing.
func (j *job) finish(status string, res *baas.Result) bool {
	j.mu.Lock()
	if j.rec.Done() {
		j.mu.Unlock()
		return false
	}
	j.rec.Status = status
	j.rec.FinishedAt = time.Now()
	j.rec.Result = res
	j.mu.Unlock()
	j.srv.jobEnded()
	return true
}

func (j *job) appendLog(line string) {
	j.mu.Lock()
	j.rec.Log = append(j.rec.Log, line)
	j.mu.Unlock()
	if w := j.srv.cfg.logOutput; w != nil {
		fmt.Fprintf(w, "[%s #%d] %s\n", j.rec.Function, j.rec.ID, line)
	}
}

// run runs the handler under the job's deadline and ends the job with its
// outcome. release is called when the handler has returned, even if the
// job ended before (a handler that ignores its context keeps its slot).
func (j *job) run(timeout time.Duration, release func()) *baas.Result {
	s := j.srv
	ctx, cancel := context.WithTimeout(s.ctx, timeout)
	ctx = function.WithLogger(ctx, slog.New(&logHandler{job: j}))
	ctx = baas.NewContext(ctx, s.innerClient(j.event.Env))
	j.start()

	done := make(chan *baas.Result, 1)
	s.handlers.Add(1)
	go func() {
		defer s.handlers.Done()
		defer release()
		defer cancel()
		done <- callHandler(ctx, j.h, j.event)
	}()

	var res *baas.Result
	status := StatusFulfilled
	select {
	case res = <-done:
	case <-ctx.Done():
	}
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		status = StatusDeadlineExceeded
		res = failure("TimeoutError", fmt.Sprintf("function timed out after %d ms", timeout.Milliseconds()), "")
	case res == nil: // the emulator is closing
		status = StatusExecutionFailed
		res = failure("Error", "job canceled: the emulator is closing", "")
	case res.Code != 0:
		status = StatusExecutionFailed
	}
	j.finish(status, res)
	return res
}

// callHandler runs h and turns what it returns, or its panic, into the
// platform's result.
func callHandler(ctx context.Context, h function.Handler, ev *function.Event) (res *baas.Result) {
	defer func() {
		if p := recover(); p != nil {
			res = failure("PanicError", fmt.Sprint(p), string(debugStack()))
		}
	}()
	v, err := h(ctx, ev)
	if err != nil {
		if fe, ok := err.(*function.Error); ok {
			typ := fe.Type
			if typ == "" {
				typ = "Error"
			}
			return failure(typ, fe.Message, fe.Stack)
		}
		return failure("Error", err.Error(), "")
	}
	data, err := marshal(v)
	if err != nil {
		return failure("TypeError", "the function's result cannot be encoded as JSON: "+err.Error(), "")
	}
	return &baas.Result{Data: data, Error: &baas.FunctionError{}}
}

// failure is a code-1 result. A missing stack is given the first line a
// JS stack has, "<type>: <message>".
func failure(typ, msg, stack string) *baas.Result {
	if stack == "" {
		stack = typ + ": " + msg
	}
	return &baas.Result{Code: 1, Error: &baas.FunctionError{Message: msg, Type: typ, Stack: stack}}
}

// marshal encodes v as JSON.stringify would: no HTML escaping, no newline.
func marshal(v any) (json.RawMessage, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return json.RawMessage(strings.TrimSuffix(b.String(), "\n")), nil
}

// logHandler writes slog records into a job's log, one line each:
// "<ISO time> <LEVEL> <message> key=value ...".
type logHandler struct {
	job    *job
	attrs  []slog.Attr
	prefix string // group prefix, "g." per open group
}

func (h *logHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *logHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Time.UTC().Format("2006-01-02T15:04:05.000Z"))
	b.WriteByte(' ')
	b.WriteString(r.Level.String())
	b.WriteByte(' ')
	b.WriteString(r.Message)
	for _, a := range h.attrs {
		writeAttr(&b, "", a)
	}
	r.Attrs(func(a slog.Attr) bool {
		writeAttr(&b, h.prefix, a)
		return true
	})
	h.job.appendLog(b.String())
	return nil
}

func writeAttr(b *strings.Builder, prefix string, a slog.Attr) {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return
	}
	if a.Value.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, g := range a.Value.Group() {
			writeAttr(b, p, g)
		}
		return
	}
	b.WriteByte(' ')
	b.WriteString(prefix)
	b.WriteString(a.Key)
	b.WriteByte('=')
	v := a.Value.String()
	if strings.ContainsAny(v, " \t\n\"=") || v == "" {
		v = strconv.Quote(v)
	}
	b.WriteString(v)
}

func (h *logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	n := *h
	n.attrs = append([]slog.Attr(nil), h.attrs...)
	for _, a := range attrs {
		if h.prefix != "" {
			a.Key = h.prefix + a.Key
		}
		n.attrs = append(n.attrs, a)
	}
	return &n
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	n := *h
	n.prefix = h.prefix + name + "."
	return &n
}
