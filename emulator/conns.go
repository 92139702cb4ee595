package emulator

import (
	"net"
	"net/http"
	"sync"
)

// connTracker follows the server's connections so that Close can end the
// idle ones and those that never sent a request at once, as httptest does:
// http.Server.Shutdown counts a new connection busy for five seconds.
type connTracker struct {
	mu      sync.Mutex
	closing bool
	conns   map[net.Conn]http.ConnState
	wg      sync.WaitGroup // one per open connection
}

// track is the server's ConnState hook.
func (t *connTracker) track(c net.Conn, state http.ConnState) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch state {
	case http.StateNew:
		if t.conns == nil {
			t.conns = map[net.Conn]http.ConnState{}
		}
		t.conns[c] = state
		t.wg.Add(1)
		if t.closing {
			c.Close()
		}
	case http.StateActive:
		t.conns[c] = state
	case http.StateIdle:
		t.conns[c] = state
		if t.closing {
			c.Close()
		}
	case http.StateHijacked, http.StateClosed:
		if _, ok := t.conns[c]; ok {
			delete(t.conns, c)
			t.wg.Done()
		}
	}
}

// close stops ln and closes every connection that is not serving a
// request; the busy ones close as their request ends.
func (t *connTracker) close(ln net.Listener) {
	t.mu.Lock()
	t.closing = true
	for c, st := range t.conns {
		if st != http.StateActive {
			c.Close()
		}
	}
	t.mu.Unlock()
	ln.Close()
}

// wait returns once every connection has closed; call it after Serve has
// returned, when no new one can come.
func (t *connTracker) wait() { t.wg.Wait() }
