package emulator

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The dashboard: a page at /_/ that lists the functions with an invoke
// form, the jobs as they run and the tables' records, and the JSON and
// event endpoints under /_/api/ it reads. `mincloud logs NAME --follow` reads /_/api/events too.
//
// It is for the developer at this machine: served only to loopback
// clients, under a Host that is an IP address or localhost (so that a web
// page cannot reach it by DNS rebinding), with no CORS, and it never
// shows the client secret. It invokes through the SDK's endpoint with the
// client id, as a mini program does.
//
// The Tables tab (dashboard_tables.go) browses the emulator's tables
// through the same datastore calls as the data API.

// DashboardPath is where the dashboard is served, below [Server.URL].
const DashboardPath = "/_/"

//go:embed dashboard
var dashboardFiles embed.FS

// sseKeepAlive is how often an idle stream gets a comment line, so that a
// client that went away is noticed by the failed write.
const sseKeepAlive = 15 * time.Second

// sseWriteTimeout bounds one write to a stream: a reader that stopped
// reading is cut off rather than holding a goroutine.
const sseWriteTimeout = 10 * time.Second

// dashboardRoutes adds the dashboard's routes to mux.
func (s *Server) dashboardRoutes(mux *http.ServeMux) {
	assets, err := fs.Sub(dashboardFiles, "dashboard")
	if err != nil {
		panic("emulator: " + err.Error()) // the embedded folder is there at build time
	}
	files := http.StripPrefix(DashboardPath, http.FileServerFS(assets))
	handle := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, localOnly(h)) }
	handle("GET /_/", files.ServeHTTP)
	handle("GET /_/api/info", s.dashInfo)
	handle("GET /_/api/functions", s.dashFunctions)
	handle("GET /_/api/jobs", s.dashJobs)
	handle("GET /_/api/jobs/{id}", s.dashJob)
	handle("GET /_/api/events", s.dashEvents)
	handle("GET /_/api/envs", s.dashEnvs)
	handle("GET /_/api/tables", s.dashTables)
	handle("GET /_/api/tables/{table}", s.dashRecords)
	handle("GET /_/api/tables/{table}/{id}", s.dashRecord)
	handle("GET /_/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "Not found: "+r.URL.Path)
	})
	mux.Handle("GET /_", http.RedirectHandler(DashboardPath, http.StatusFound))
}

// localOnly lets through requests from this machine only, and strips the
// CORS header that the SDK's endpoints need and the dashboard must not
// have: no other site may read the jobs.
func localOnly(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Del("Access-Control-Allow-Origin")
		h.Del("Vary")
		if !fromLoopback(r.RemoteAddr) || !literalHost(r.Host) {
			writeError(w, http.StatusForbidden, "The dashboard is served to this machine only: open it at http://127.0.0.1:PORT/_/ (or localhost).")
			return
		}
		// Nothing from elsewhere: the page works offline, and a script
		// injected through a job's log could not call out either.
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		next(w, r)
	})
}

func fromLoopback(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// literalHost reports whether the Host header names an IP address or
// localhost: a DNS name pointed at 127.0.0.1 by another site is refused.
func literalHost(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport // no port
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if net.ParseIP(host) != nil {
		return true
	}
	host = strings.ToLower(host)
	return host == "localhost" || strings.HasSuffix(host, ".localhost")
}

// dashInfo is what the page needs to invoke: the client id (public, as in
// any mini program), never the secret.
type dashInfo struct {
	ClientID   string `json:"client_id"`
	InvokePath string `json:"invoke_path"`
}

func (s *Server) dashInfo(w http.ResponseWriter, r *http.Request) {
	writeObject(w, http.StatusOK, dashInfo{ClientID: s.ClientID, InvokePath: pathInvoke})
}

// dashFunction is a function as the dashboard lists it.
type dashFunction struct {
	Name      string    `json:"name"`
	Remark    string    `json:"remark"`
	UpdatedAt time.Time `json:"updated_at"`
}

// dashFunctions serves GET /_/api/functions: every function, by name.
func (s *Server) dashFunctions(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	out := make([]dashFunction, 0, len(s.functions))
	for _, f := range s.functions {
		out = append(out, dashFunction{Name: f.name, Remark: f.remark, UpdatedAt: f.updated})
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, k int) bool { return out[i].Name < out[k].Name })
	writeObject(w, http.StatusOK, out)
}

const (
	dashDefaultJobs = 100
	dashMaxJobs     = 1000
)

// dashJobs serves GET /_/api/jobs?function=NAME&limit=N: the most recent
// jobs, newest first, without their logs.
func (s *Server) dashJobs(w http.ResponseWriter, r *http.Request) {
	limit := dashDefaultJobs
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, "limit must be a positive whole number.")
			return
		}
		limit = min(n, dashMaxJobs)
	}
	picked := s.records.newest(r.URL.Query().Get("function"), limit)
	out := make([]jobView, len(picked))
	for i, j := range picked {
		rec := j.summary()
		out[i] = viewOf(&rec)
	}
	writeObject(w, http.StatusOK, out)
}

// dashJob serves GET /_/api/jobs/{id}: one job with its log.
func (s *Server) dashJob(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	j, ok := s.Job(id)
	if err != nil || !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("Job %q not found: it never was, or newer jobs replaced its record.", r.PathValue("id")))
		return
	}
	writeObject(w, http.StatusOK, viewOf(&j))
}

// dashEvents serves GET /_/api/events?function=NAME: server-sent events,
// "job" when a job is created or changes status and "log" for each line
// it logs, of every function or of NAME only, and (without NAME) "table"
// when a table's records change (events_tables.go). A client that falls behind
// gets "lost" and the stream ends: it reconnects and reloads the jobs.
// The stream ends when the emulator closes.
func (s *Server) dashEvents(w http.ResponseWriter, r *http.Request) {
	sub, ok := s.events.subscribe(r.URL.Query().Get("function"))
	if !ok {
		writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("Too many event streams are open (at most %d): close a dashboard tab or a logs --follow.", maxSubscribers))
		return
	}
	defer s.events.unsubscribe(sub)
	rc := http.NewResponseController(w)
	// Close must not wait for a write stuck on a reader that stopped
	// reading: on Close the pending write fails at once, and no later
	// write gets a new deadline.
	var deadlineMu sync.Mutex
	closing := false
	stop := context.AfterFunc(s.ctx, func() {
		deadlineMu.Lock()
		closing = true
		rc.SetWriteDeadline(time.Now())
		deadlineMu.Unlock()
	})
	defer stop()
	armDeadline := func() bool {
		deadlineMu.Lock()
		defer deadlineMu.Unlock()
		return !closing && rc.SetWriteDeadline(time.Now().Add(sseWriteTimeout)) == nil
	}

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	// write writes b without flushing; flush sends what was written.
	write := func(b []byte) bool {
		if !armDeadline() {
			return false
		}
		_, err := w.Write(b)
		return err == nil
	}
	flush := func() bool { return rc.Flush() == nil }
	// retry: how long the browser waits before it reconnects.
	if !write([]byte("retry: 1000\n: stream of job events\n\n")) || !flush() {
		return
	}
	tick := time.NewTicker(sseKeepAlive)
	defer tick.Stop()
	for {
		select {
		case b := <-sub.ch:
			// Send what else is queued in the same flush: a burst of log
			// lines costs one write to the connection, not one each.
			sub.sent(b)
			ok := write(b)
			for more := true; ok && more; {
				select {
				case b := <-sub.ch:
					sub.sent(b)
					ok = write(b)
				default:
					more = false
				}
			}
			if !ok || !flush() {
				return
			}
		case <-sub.lost:
			write([]byte("event: lost\ndata: {}\n\n"))
			flush()
			return
		case <-tick.C:
			if !write([]byte(": keep-alive\n\n")) || !flush() {
				return
			}
		case <-r.Context().Done():
			return
		case <-s.ctx.Done():
			return
		}
	}
}
