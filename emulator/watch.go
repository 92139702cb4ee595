package emulator

import (
	"sync"
	"sync/atomic"
)

// watchBuffer is how many events a watcher's channel holds; past it, events
// are dropped for that watcher rather than slowing the jobs down.
const watchBuffer = 256

// JobEvent is a change of one job record, as [Server.WatchJobs] sends it:
// the job was created (StatusWaiting), started (StatusExecuting) or ended.
type JobEvent struct {
	// Job is the record at the change, without its log (read it with
	// [Server.Job]).
	Job Job
	// Dropped counts the events this watcher missed just before this one
	// because it read too slowly; when it is not 0, [Server.Jobs] says
	// where things stand.
	Dropped int
}

// WatchJobs returns a channel of the changes of job records, and stop,
// which ends the watch and closes the channel (as Close does for every
// watch). The channel holds 256 events; a watcher that falls further
// behind misses events, counted in the next one's Dropped, so that a slow
// reader never slows a job.
func (s *Server) WatchJobs() (events <-chan JobEvent, stop func()) {
	w := s.records.watch.add()
	return w.ch, func() { s.records.watch.remove(w) }
}

// watchers are the open watches of job records, with their own lock: it
// is taken inside the records' lock and takes no other.
type watchers struct {
	n      atomic.Int32 // len(subs), read without the lock when no one watches
	mu     sync.Mutex
	subs   map[*watcher]struct{}
	closed bool
}

type watcher struct {
	ch      chan JobEvent
	dropped int
}

func (ws *watchers) add() *watcher {
	w := &watcher{ch: make(chan JobEvent, watchBuffer)}
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.closed {
		close(w.ch)
		return w
	}
	if ws.subs == nil {
		ws.subs = map[*watcher]struct{}{}
	}
	ws.subs[w] = struct{}{}
	ws.n.Store(int32(len(ws.subs)))
	return w
}

func (ws *watchers) remove(w *watcher) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if _, ok := ws.subs[w]; ok {
		delete(ws.subs, w)
		ws.n.Store(int32(len(ws.subs)))
		close(w.ch)
	}
}

// closeAll ends every watch, on Close.
func (ws *watchers) closeAll() {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	ws.closed = true
	for w := range ws.subs {
		close(w.ch)
	}
	ws.subs = nil
	ws.n.Store(0)
}

// active reports whether anyone watches, so that a job builds no event
// when no one does.
func (ws *watchers) active() bool { return ws.n.Load() > 0 }

// send gives every watcher j without blocking.
func (ws *watchers) send(j Job) {
	if !ws.active() {
		return
	}
	ws.mu.Lock()
	defer ws.mu.Unlock()
	for w := range ws.subs {
		select {
		case w.ch <- JobEvent{Job: j, Dropped: w.dropped}:
			w.dropped = 0
		default:
			w.dropped++
		}
	}
}
