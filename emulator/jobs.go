package emulator

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mincloud-go/baas"
	"github.com/mincloud-go/baas/emulator/internal/jsjson"
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
	// Queued is how long the job waited before its function received it:
	// for a slot, and for a JavaScript function for its Node worker too.
	// Its run time, FinishedAt - StartedAt, starts after.
	Queued time.Duration
	// Result is the function's outcome once the job has ended; nil before,
	// and for a job that never ran, but for a JavaScript job that got no
	// Node worker, whose result says so.
	Result *Result
	// TraceID is the caller's W3C trace id, from its traceparent header,
	// so that a trace can be followed into the job; empty when the call
	// carried none. Each log line then ends with trace_id=<id>.
	TraceID string
	// MemUsage is the memory used, in bytes: for a JavaScript function its
	// Node worker's resident memory at the end of the job; for a Go handler
	// what the emulator's process allocated while it ran (a rough figure,
	// since Go jobs share one process).
	MemUsage int64
}

// ServiceType is "time_sensitive" for a sync job and "batch" for an async
// one, as the job history names them.
func (j *Job) ServiceType() string {
	if j.Sync {
		return "time_sensitive"
	}
	return "batch"
}

// Done reports whether the job has ended, one way or another.
func (j *Job) Done() bool {
	switch j.Status {
	case StatusWaiting, StatusExecuting:
		return false
	}
	return true
}

// withoutLog is the record without its log, for listings and events that
// do not show it.
func (j Job) withoutLog() Job {
	j.Log = nil
	return j
}

// job is a Job being run, guarded by its own lock.
type job struct {
	mu  sync.Mutex
	rec Job

	event *function.Event // dropped when the job ends
	h     function.Handler
	js    *jsFunction // run instead of h
	srv   *Server
	logh  logHandler // the job's log, kept here to save an allocation per job

	logBytes int  // the bytes of rec.Log
	logCut   bool // rec.Log stopped at maxLogBytes

	// Guarded by jobRecords.mu, not mu: whether the record is still kept,
	// and the bytes of log and result it counts against the cap.
	kept bool
	size int64

	// Guarded by scheduler.mu: the event data it counts while queued.
	queuedBytes int64
}

func (j *job) snapshot() Job {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := j.rec
	out.Log = append([]string(nil), j.rec.Log...)
	return out
}

// summary is the record without its log, for listings that do not show it.
func (j *job) summary() Job {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.rec.withoutLog()
}

func (j *job) start() { j.startAt(j.srv.clock.now()) }

// startAt marks the job executing from t: for a Go handler when it is
// called, for a JavaScript job when its worker took it. The time before
// is the job's queued time.
func (j *job) startAt(t time.Time) {
	j.mu.Lock()
	j.rec.Status = StatusExecuting
	j.rec.StartedAt = t
	j.rec.Queued = t.Sub(j.rec.CreatedAt)
	ev := j.rec.withoutLog()
	j.mu.Unlock()
	j.srv.events.jobChanged(ev)
}

// finish ends the job once; later calls change nothing.
func (j *job) finish(status string, res *Result) bool {
	j.mu.Lock()
	if j.rec.Done() {
		j.mu.Unlock()
		return false
	}
	j.rec.Status = status
	j.rec.FinishedAt = j.srv.clock.now()
	j.rec.Result = res
	j.event, j.h, j.js = nil, nil, nil // a record outlives its run: keep only what it shows
	ev := j.rec.withoutLog()
	j.mu.Unlock()
	j.srv.records.grew(j, res.size())
	j.srv.events.jobChanged(ev)
	j.srv.sched.ended()
	return true
}

// logTimeFormat is the time of a log line, as the platform prints it
// (2017-07-05T05:13:35.920Z).
const logTimeFormat = "2006-01-02T15:04:05.000Z"

// maxLogBytes caps the log one job record keeps: a function logging in a
// loop for its 300 s would otherwise hold gigabytes in a record that lives
// until 10,000 newer jobs replace it.
const maxLogBytes = 1 << 20

// appendLog adds a line to the job's log: its record (up to maxLogBytes,
// then one truncation marker), the event streams and the log output, each
// with the caller's trace id. A line logged after the job ended is
// dropped, unless late: what a JavaScript job's leftover code did after
// its end (a log line, a second answer, a throw), which the record notes
// so that it shows in that job's record, never in the next job's.
func (j *job) appendLog(line string, late bool) {
	if j.rec.TraceID != "" { // set before the job runs, never changed
		line += " trace_id=" + j.rec.TraceID
	}
	kept := 0
	j.mu.Lock()
	switch {
	case !late && !j.rec.FinishedAt.IsZero():
		// The job has ended (a Go handler running past its deadline): its
		// record is final.
	case j.logBytes+len(line) <= maxLogBytes:
		j.logBytes += len(line)
		j.rec.Log = append(j.rec.Log, line)
		kept = len(line)
		j.srv.events.logAppended(j, len(j.rec.Log)-1, line)
	case !j.logCut:
		j.logCut = true
		cut := fmt.Sprintf("%s WARN log truncated: the job logged more than %d bytes", time.Now().UTC().Format(logTimeFormat), maxLogBytes)
		j.rec.Log = append(j.rec.Log, cut)
		kept = len(cut)
		j.srv.events.logAppended(j, len(j.rec.Log)-1, cut)
	}
	j.mu.Unlock()
	if kept > 0 {
		j.srv.records.grew(j, int64(kept))
	}
	if w := j.srv.cfg.logOutput; w != nil {
		fmt.Fprintf(w, "[%s #%d] %s\n", j.rec.Function, j.rec.ID, line) // one Write per line
	}
}

// run runs the handler on the calling goroutine under the job's deadline
// and ends the job with its outcome. If the deadline passes, or the
// emulator closes, before the handler returns, the job ends at that moment
// and answer is called then, from another goroutine, while the handler
// runs on; run itself returns only once the handler has. answer, when not
// nil, is called exactly once, and never after run has returned.
func (j *job) run(timeout time.Duration, answer func(res *Result, early bool)) {
	j.mu.Lock()
	js := j.js
	j.mu.Unlock()
	if js != nil {
		j.runJS(timeout, answer) // its worker times its deadline
		return
	}
	s := j.srv
	j.mu.Lock()
	h, ev := j.h, j.event
	j.logh.job = j
	j.mu.Unlock()
	ctx, cancel := s.clock.withTimeout(s.ctx, timeout) // the deadline on the emulator's clock, which a test may drive
	defer cancel()
	ctx = function.WithLogger(ctx, slog.New(&j.logh))
	ctx = baas.NewContext(ctx, s.innerClient(ev.Env))
	j.start()

	conclude := func(status string, res *Result, early bool) {
		if j.finish(status, res) && answer != nil {
			answer(res, early)
		}
	}
	watchdogDone := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(watchdogDone)
		if ctx.Err() == context.DeadlineExceeded {
			conclude(StatusDeadlineExceeded, timedOut(timeout), true)
		} else {
			conclude(StatusExecutionFailed, failure("Error", "job canceled: the emulator is closing", ""), true)
		}
	})
	allocs := heapAllocs()
	res := callHandler(ctx, h, ev)
	used := int64(heapAllocs() - allocs)
	j.mu.Lock()
	j.rec.MemUsage = used
	j.mu.Unlock()
	if !stop() {
		<-watchdogDone // the job ended without the handler; wait for its answer
	}
	switch {
	case res.Code != 0 && ctx.Err() == context.DeadlineExceeded:
		conclude(StatusDeadlineExceeded, timedOut(timeout), false)
	case res.Code != 0:
		conclude(StatusExecutionFailed, res, false)
	default:
		conclude(StatusFulfilled, res, false)
	}
}

// heapAllocs reads the bytes the process has allocated so far.
func heapAllocs() uint64 {
	sample := [1]metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(sample[:])
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return sample[0].Value.Uint64()
}

// callHandler runs h and turns what it returns, or its panic, into the
// platform's result.
func callHandler(ctx context.Context, h function.Handler, ev *function.Event) (res *Result) {
	defer func() {
		if p := recover(); p != nil {
			res = failure("PanicError", fmt.Sprint(p), string(debug.Stack()))
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
	data, err := jsjson.Marshal(v)
	if err != nil {
		return failure("TypeError", "the function's result cannot be encoded as JSON: "+err.Error(), "")
	}
	return &Result{Data: data}
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
	b.WriteString(r.Time.UTC().Format(logTimeFormat))
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
	h.job.appendLog(b.String(), false)
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
