package emulator

import (
	"bytes"
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// The one mechanism for job events: a job was created or changed status
// ("job"), a job logged a line ("log"). Two kinds of listener take them
// from the same hub, under the same lock, in the same order: the streams
// behind the dashboard's live view and `mincloud logs --follow` (encoded
// SSE frames, "job" and "log"), and [Server.WatchJobs]' watchers (a
// [JobEvent] per "job"). Publishers never wait and every listener is
// bounded: a stream that falls behind is dropped (it ends with a "lost"
// event and the client reloads); a watcher's channel holds watchBuffer
// events and it misses the rest, counted in its next event's Dropped.
// The streams also carry "table" events, a table's records changed
// (events_tables.go).

const (
	// subscriberBuffer and subscriberBytes are how far a subscriber may
	// be behind, in events and in bytes, before it is dropped: a burst of
	// log lines fits, a stalled reader does not. A job's log is capped at
	// 1 MB, whose JSON may take up to 6 MB (\u003c for each <), and 100
	// jobs log at once.
	subscriberBuffer = 1024
	subscriberBytes  = 8 << 20
	// streamResultBytes caps the result data a stream's "job" event
	// carries: a result may be 62 MiB, past subscriberBytes, and would drop
	// every open stream. The event carries a preview and result_cut; the
	// page reads the whole record from /_/api/jobs/{id}.
	streamResultBytes = 64 << 10
	// maxSubscribers caps the streams open at once: a dashboard tab or a
	// `logs --follow` each hold one.
	maxSubscribers = 64
)

// logEvent is a "log" event's data; a "job" event's is a [jobView]
// without its log.
type logEvent struct {
	ID       int64  `json:"id"`
	Function string `json:"function"`
	// N is the line's index in the job's log, so that a client which also
	// read the log from /_/api/jobs/{id} can tell what it has.
	N    int    `json:"n"`
	Line string `json:"line"`
}

// eventHub fans events out to the streams and the watchers. The zero
// value is ready. Its lock is taken inside a job's lock (logAppended) and
// takes no other.
type eventHub struct {
	// n counts streams and watchers, nStreams the streams alone; both are
	// read without the lock so that no listener costs nothing and a job
	// change is encoded for streams only when one is open.
	n        atomic.Int32
	nStreams atomic.Int32
	mu       sync.Mutex
	subs     map[*subscriber]struct{}
	watchers map[*watcher]struct{}
	closed   bool // Close was called: no new watcher
}

// watcher is one [Server.WatchJobs] channel.
type watcher struct {
	ch      chan JobEvent
	dropped int // events missed since the last one sent
}

// count refreshes the counters; the caller holds h.mu.
func (h *eventHub) count() {
	h.nStreams.Store(int32(len(h.subs)))
	h.n.Store(int32(len(h.subs) + len(h.watchers)))
}

// subscriber is one stream's queue of encoded events.
type subscriber struct {
	function string        // only this function's events; "" for all
	ch       chan []byte   // "event: ...\ndata: ...\n\n" frames
	lost     chan struct{} // closed when the subscriber was dropped for falling behind
	queued   atomic.Int64  // the bytes of the frames in ch
}

// sent tells that the subscriber's reader has taken frame off ch.
func (sub *subscriber) sent(frame []byte) { sub.queued.Add(-int64(len(frame))) }

// subscribe adds a subscriber to the function's events (all functions
// when fn is ""); false when too many are open.
func (h *eventHub) subscribe(fn string) (*subscriber, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.subs) >= maxSubscribers {
		return nil, false
	}
	if h.subs == nil {
		h.subs = map[*subscriber]struct{}{}
	}
	sub := &subscriber{function: fn, ch: make(chan []byte, subscriberBuffer), lost: make(chan struct{})}
	h.subs[sub] = struct{}{}
	h.count()
	return sub, true
}

// unsubscribe removes sub; it may have been dropped already.
func (h *eventHub) unsubscribe(sub *subscriber) {
	h.mu.Lock()
	delete(h.subs, sub)
	h.count()
	h.mu.Unlock()
}

// watch adds a watcher of job changes; after close its channel comes
// closed.
func (h *eventHub) watch() *watcher {
	w := &watcher{ch: make(chan JobEvent, watchBuffer)}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		close(w.ch)
		return w
	}
	if h.watchers == nil {
		h.watchers = map[*watcher]struct{}{}
	}
	h.watchers[w] = struct{}{}
	h.count()
	return w
}

// unwatch ends w's watch and closes its channel, once.
func (h *eventHub) unwatch(w *watcher) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.watchers[w]; ok {
		delete(h.watchers, w)
		h.count()
		close(w.ch)
	}
}

// close ends every watch, on Close. Streams end on the server's context.
func (h *eventHub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for w := range h.watchers {
		close(w.ch)
	}
	h.watchers = nil
	h.count()
}

// frame encodes one SSE event.
func frame(kind string, ev any) []byte {
	data, err := json.Marshal(ev)
	if err != nil {
		return nil // cannot happen: strings, numbers and times
	}
	var b bytes.Buffer
	b.Grow(len(kind) + len(data) + 16)
	b.WriteString("event: ")
	b.WriteString(kind)
	b.WriteString("\ndata: ")
	b.Write(data) // JSON holds no raw newline, so one data line is enough
	b.WriteString("\n\n")
	return b.Bytes()
}

// publish sends one frame to the function's streams, dropping those
// whose buffer is full.
func (h *eventHub) publish(fn, kind string, ev any) {
	f := frame(kind, ev)
	if f == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sendStreams(fn, f)
}

// sendStreams gives frame to the function's streams; the caller holds
// h.mu.
func (h *eventHub) sendStreams(fn string, frame []byte) {
	for sub := range h.subs {
		if sub.function != "" && sub.function != fn {
			continue
		}
		if sub.queued.Add(int64(len(frame))) <= subscriberBytes {
			select {
			case sub.ch <- frame:
				continue
			default:
			}
		}
		delete(h.subs, sub)
		close(sub.lost)
	}
	h.count()
}

// The hooks the job code calls. Each costs one atomic load when nobody
// listens.

// jobChanged publishes rec, a job's record without its log: call it
// after a job is created, starts or ends, outside the job's lock.
func (h *eventHub) jobChanged(rec Job) {
	if h.n.Load() == 0 {
		return
	}
	h.publishJob(rec)
}

// publishJob is jobChanged's work, apart so that jobChanged allocates
// nothing when nobody listens (rec escapes here). The frame is encoded
// before the lock, and only when a stream is open; watchers and streams
// then get the change under one lock, so both see the same order.
func (h *eventHub) publishJob(rec Job) {
	var f []byte
	if h.nStreams.Load() > 0 {
		v := viewOf(&rec)
		v.cutResult(streamResultBytes)
		f = frame("job", &v)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for w := range h.watchers {
		select {
		case w.ch <- JobEvent{Job: rec, Dropped: w.dropped}:
			w.dropped = 0
		default:
			w.dropped++
		}
	}
	if f != nil {
		h.sendStreams(rec.Function, f)
	}
}

// jobAdded publishes the new job j: call it once j is recorded.
func (h *eventHub) jobAdded(j *job) {
	if h.n.Load() == 0 {
		return
	}
	h.jobChanged(j.summary())
}

// logAppended publishes line, the n-th of j's log, to the streams
// (watchers get no log lines): call it with j.mu held, right after
// appending, so that the lines go out in the log's order.
func (h *eventHub) logAppended(j *job, n int, line string) {
	if h.nStreams.Load() == 0 {
		return
	}
	h.publish(j.rec.Function, "log", &logEvent{ID: j.rec.ID, Function: j.rec.Function, N: n, Line: line})
}

// jobView is a job as the dashboard's API and events show it.
type jobView struct {
	ID         int64         `json:"id"`
	Function   string        `json:"function"`
	Source     string        `json:"source"`
	Sync       bool          `json:"sync"`
	Status     string        `json:"status"`
	CreatedAt  time.Time     `json:"created_at"`
	StartedAt  *time.Time    `json:"started_at"`
	FinishedAt *time.Time    `json:"finished_at"`
	MemUsage   int64         `json:"mem_usage"`
	TraceID    string        `json:"trace_id,omitempty"` // the caller's W3C trace id, when it sent one
	Result     *resultAnswer `json:"result"`             // null until the job has ended with a result
	// ResultCut tells that Result.Data is only a preview: a JSON string
	// of the data's first bytes (the stream's events only).
	ResultCut bool     `json:"result_cut,omitempty"`
	Log       []string `json:"log,omitempty"`
}

func viewOf(j *Job) jobView {
	v := jobView{
		ID: j.ID, Function: j.Function, Source: j.Source, Sync: j.Sync, Status: j.Status,
		CreatedAt: j.CreatedAt, MemUsage: j.MemUsage, TraceID: j.TraceID, Log: j.Log,
	}
	if !j.StartedAt.IsZero() {
		v.StartedAt = &j.StartedAt
	}
	if !j.FinishedAt.IsZero() {
		v.FinishedAt = &j.FinishedAt
	}
	if j.Result != nil {
		r := resultOf(j.Result)
		v.Result = &r
	}
	return v
}

// cutResult replaces result data longer than max bytes with a preview, a
// JSON string holding its first bytes (cut at a character's start), and
// marks the view cut; the error, small and what a reader looks for, stays.
func (v *jobView) cutResult(max int) {
	if v.Result == nil || len(v.Result.Data) <= max {
		return
	}
	head := v.Result.Data[:max]
	for len(head) > 0 && !utf8.RuneStart(v.Result.Data[len(head)]) {
		head = head[:len(head)-1]
	}
	preview, err := json.Marshal(string(head))
	if err != nil {
		return // cannot happen: a string always encodes
	}
	r := *v.Result
	r.Data = preview
	v.Result = &r
	v.ResultCut = true
}
