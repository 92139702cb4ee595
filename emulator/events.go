package emulator

import (
	"bytes"
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"
)

// The job events behind the dashboard's live view and `mincloud logs
// --follow`: a job was created or changed status ("job"), a job logged a
// line ("log"). Publishers never wait: each subscriber has a fixed buffer,
// and one that falls behind is dropped (its stream ends with a "lost"
// event and the client reloads), so a slow or stuck reader costs a
// bounded amount of memory and never slows a job.

const (
	// subscriberBuffer and subscriberBytes are how far a subscriber may
	// be behind, in events and in bytes, before it is dropped: a burst of
	// log lines fits, a stalled reader does not. A job's log is capped at
	// 1 MB, whose JSON may take up to 6 MB (\u003c for each <), and 100
	// jobs log at once.
	subscriberBuffer = 1024
	subscriberBytes  = 8 << 20
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

// eventHub fans events out to the subscribers. The zero value is ready.
type eventHub struct {
	n    atomic.Int32 // subscribers; read without the lock so that no listener costs nothing
	mu   sync.Mutex
	subs map[*subscriber]struct{}
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
	h.n.Store(int32(len(h.subs)))
	return sub, true
}

// unsubscribe removes sub; it may have been dropped already.
func (h *eventHub) unsubscribe(sub *subscriber) {
	h.mu.Lock()
	delete(h.subs, sub)
	h.n.Store(int32(len(h.subs)))
	h.mu.Unlock()
}

// publish sends one frame to the function's subscribers, dropping those
// whose buffer is full.
func (h *eventHub) publish(fn, kind string, ev any) {
	data, err := json.Marshal(ev)
	if err != nil {
		return // cannot happen: strings, numbers and times
	}
	var b bytes.Buffer
	b.Grow(len(kind) + len(data) + 16)
	b.WriteString("event: ")
	b.WriteString(kind)
	b.WriteString("\ndata: ")
	b.Write(data) // JSON holds no raw newline, so one data line is enough
	b.WriteString("\n\n")
	frame := b.Bytes()
	h.mu.Lock()
	defer h.mu.Unlock()
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
	h.n.Store(int32(len(h.subs)))
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
// nothing when nobody listens (rec escapes here).
func (h *eventHub) publishJob(rec Job) {
	v := viewOf(&rec)
	h.publish(rec.Function, "job", &v)
}

// jobAdded publishes the new job j: call it once j is recorded.
func (h *eventHub) jobAdded(j *job) {
	if h.n.Load() == 0 {
		return
	}
	h.jobChanged(j.summary())
}

// logAppended publishes line, the n-th of j's log: call it with j.mu
// held, right after appending, so that the lines go out in the log's
// order.
func (h *eventHub) logAppended(j *job, n int, line string) {
	if h.n.Load() == 0 {
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
	Log        []string      `json:"log,omitempty"`
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
