// Package emulator is a local 知晓云 cloud-function service for tests and
// development: it hosts functions written in Go and answers the platform's
// invoke endpoint as the platform does, on loopback, with no account and
// no network.
//
// It feels like net/http/httptest: [New] starts it at once, [Server.URL]
// and [Server.ClientID] say where it is, [Server.Client] gives a baas
// client pointed at it, and [Server.Close] cancels running jobs and waits
// for them.
//
//	srv := emulator.New()
//	defer srv.Close()
//	srv.Register("helloWorld", func(ctx context.Context, ev *function.Event) (any, error) {
//		var p struct{ Name string }
//		ev.Decode(&p)
//		return "hello " + p.Name, nil
//	})
//	c, _ := srv.Client()
//	res, _ := c.Invoke(ctx, "helloWorld", map[string]any{"name": "allen"}, true)
//
// The platform's limits hold, each an option: 5 s for a sync job and 300 s
// for an async one, 100 jobs at once, a sync job waiting up to 2 s for a
// slot. The most recent jobs are recorded with their status, log and
// result ([Server.Jobs], [Server.WatchJobs]): at most 10,000
// ([WithMaxJobRecords]) holding at most 64 MiB of logs and results
// ([WithMaxJobRecordBytes]), so that the emulator can stay up for days
// without growing. An option's value the emulator cannot use is refused
// at start, naming the option.
package emulator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/mincloud-go/baas"
	"github.com/mincloud-go/baas/function"
)

// maxInnerClients caps the inner clients kept, one per environment id.
const maxInnerClients = 64

// callerHeader carries the key that marks a call made from inside one of
// the emulator's functions (event type cloud_function).
const callerHeader = "X-Mincloud-Emulator-Caller"

// Server is a running emulator.
type Server struct {
	// URL is the base URL, http://127.0.0.1:port, without a trailing slash.
	URL string
	// ClientID is the app's client id calls must carry.
	ClientID string
	// ClientSecret is the app's secret for the Open API.
	ClientSecret string

	cfg       config
	clock     clock // the real clock unless a test gave a fake
	ln        net.Listener
	hs        *http.Server
	ctx       context.Context // ends when Close starts
	cancel    context.CancelFunc
	callerKey string
	closeOnce sync.Once
	innerHTTP *http.Client
	served    chan struct{} // closed when Serve has returned

	// Each of these has its own lock.
	sched   *scheduler  // when jobs run: slots, queue, schedule waits
	records *jobRecords // the jobs kept for Jobs and the history
	oauth   oauthState  // the Open API's sessions, codes and tokens
	conns   connTracker // the open connections, for Close
	js      jsState     // the Node workers of JavaScript functions
	events  eventHub    // job events and log lines: WatchJobs, the dashboard and logs --follow (events.go)

	mu        sync.Mutex // guards the three below
	functions map[string]*fnRecord
	users     expiring[function.User]
	inner     map[string]*baas.Client // by environment id

	data *dataState // the tables (data.go)
}

// fnRecord is a function the emulator knows: registered in Go (h), or
// JavaScript registered or created over the Open API (js runs it in
// Node); both are nil only for one created without code.
type fnRecord struct {
	name, code, remark string
	created, updated   time.Time
	h                  function.Handler
	js                 *jsFunction // a JavaScript function, run instead of h
}

// New starts an emulator on a loopback port. It panics if it cannot
// listen, as httptest.NewServer does, or if an option's value is one the
// emulator cannot use, saying which (as [Listen] returns it): both are
// mistakes in the test that calls it.
//
// On Linux, once it first starts Node for a JavaScript function (to check,
// load or run one), the emulator makes its process the child
// subreaper (prctl PR_SET_CHILD_SUBREAPER), for the life of the process,
// so that what a function starts stays findable and is ended: in a
// program that embeds it, orphans of any of the process's descendants
// then come to the process instead of to init. The emulator reaps only
// its own marked ones; the program reaps the others. [Listen] does the
// same.
func New(opts ...Option) *Server {
	s, err := Listen("127.0.0.1:0", opts...)
	if err != nil {
		panic("emulator: " + err.Error())
	}
	return s
}

// Listen starts an emulator on addr, e.g. "127.0.0.1:8080". It fails,
// naming the option, if an option's value is one the emulator cannot use
// (a timeout of 0, a negative size, no job slot or record, a memory limit
// below [MinMemoryLimitInMB], an inspector address Node cannot listen on).
func Listen(addr string, opts ...Option) (*Server, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.clientID == "" {
		cfg.clientID = randomHex(10)
	}
	if cfg.clientSecret == "" {
		cfg.clientSecret = randomHex(20)
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if err := cfg.checkNode(); err != nil {
		return nil, err
	}
	cfg.deadlinesOffWhenInspecting()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		URL:          "http://" + ln.Addr().String(),
		ClientID:     cfg.clientID,
		ClientSecret: cfg.clientSecret,
		cfg:          cfg,
		clock:        clockOrReal(cfg.clock),
		ln:           ln,
		ctx:          ctx,
		cancel:       cancel,
		callerKey:    randomHex(16),
		sched:        newScheduler(ctx, clockOrReal(cfg.clock), cfg.maxJobs, cfg.queuedCap(), cfg.maxQueuedBytes, cfg.scheduleWait, cfg.asyncScheduleWait),
		records:      newJobRecords(clockOrReal(cfg.clock), cfg.maxJobRecords, cfg.maxJobRecordBytes),
		functions:    map[string]*fnRecord{},
		served:       make(chan struct{}),
		inner:        map[string]*baas.Client{},
	}
	if err := s.openData(); err != nil {
		ln.Close()
		cancel()
		return nil, err
	}
	s.innerHTTP = &http.Client{Transport: &callerTransport{key: s.callerKey, base: &http.Transport{
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     30 * time.Second,
	}}}
	s.hs = &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second, ConnState: s.conns.track}
	s.sched.start(
		func(j *job) { j.run(s.cfg.asyncTimeout, nil) },
		func(j *job) { j.finish(StatusScheduleFailed, nil) },
	)
	go func() {
		defer close(s.served)
		s.hs.Serve(ln)
	}()
	return s, nil
}

// Close stops the emulator as httptest's Close does, at once: it stops
// listening, closes idle connections and ones that never sent a request,
// cancels running jobs, marks waiting ones schedule_failed, and returns
// once the requests in flight and the handlers have returned.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.cancel()
		s.hs.SetKeepAlivesEnabled(false)
		s.conns.close(s.ln)
		<-s.served // no connection comes after this
		s.conns.wait()
		s.hs.Close() // nothing is left open; this only marks it closed
		s.sched.stop()
		s.events.close()
		s.closeJS()
		s.innerHTTP.CloseIdleConnections()
		s.closeData()
	})
}

// Register makes h callable as the function name, replacing any earlier
// one.
func (s *Server) Register(name string, h function.Handler) {
	now := time.Now()
	s.mu.Lock()
	if f, ok := s.functions[name]; ok {
		f.h, f.js, f.updated = h, nil, now
	} else {
		s.functions[name] = &fnRecord{name: name, h: h, remark: "Go handler", created: now, updated: now}
	}
	s.mu.Unlock()
}

// Client returns a baas client pointed at the emulator; opts add to or
// override its client id and host.
func (s *Server) Client(opts ...baas.Option) (*baas.Client, error) {
	return baas.New(append([]baas.Option{baas.WithClientID(s.ClientID), baas.WithHost(s.URL)}, opts...)...)
}

// Jobs returns a copy of the records of the most recent jobs, oldest
// first: at most [WithMaxJobRecords] of them, holding at most
// [WithMaxJobRecordBytes] of logs and results.
func (s *Server) Jobs() []Job {
	jobs := s.records.list()
	out := make([]Job, len(jobs))
	for i, j := range jobs {
		out[i] = j.snapshot()
	}
	return out
}

// Job returns the record of the job id, if it is still kept.
func (s *Server) Job(id int64) (Job, bool) {
	j, ok := s.records.get(id)
	if !ok {
		return Job{}, false
	}
	return j.snapshot(), true
}

// Wait blocks until no job is waiting or executing, or ctx ends.
func (s *Server) Wait(ctx context.Context) error { return s.sched.wait(ctx) }

// newJob records a job in the waiting state; traceID is the caller's.
func (s *Server) newJob(name, source string, sync bool, h function.Handler, js *jsFunction, ev *function.Event, traceID string) *job {
	j := &job{srv: s, h: h, js: js, event: ev, rec: Job{
		Function: name, Source: source, Sync: sync, Status: StatusWaiting, TraceID: traceID,
	}}
	s.sched.admitted()
	s.records.add(j)
	ev.JobID = j.rec.ID
	s.events.jobAdded(j)
	return j
}

// innerClient is the client a function's context carries: the function's
// own credentials, its environment, and the mark of a call from inside.
func (s *Server) innerClient(env *function.Env) *baas.Client {
	envID := ""
	if env != nil {
		envID = env.ID
	}
	s.mu.Lock()
	c, ok := s.inner[envID]
	s.mu.Unlock()
	if ok {
		return c
	}
	c, err := s.Client(baas.WithEnv(envID), baas.WithHTTPClient(s.innerHTTP))
	if err != nil {
		// The env id came from a request header the client refuses: the
		// function still runs, calling out without an environment.
		c, err = s.Client(baas.WithHTTPClient(s.innerHTTP))
		if err != nil {
			panic("emulator: " + err.Error()) // the options are the emulator's own
		}
	}
	s.mu.Lock()
	// The env id is the caller's to choose: cache a few, not every one.
	if len(s.inner) < maxInnerClients {
		s.inner[envID] = c
	}
	s.mu.Unlock()
	return c
}

// callerTransport marks requests as coming from inside a function.
type callerTransport struct {
	key  string
	base *http.Transport
}

func (t *callerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(callerHeader, t.key)
	return t.base.RoundTrip(r)
}

func (t *callerTransport) CloseIdleConnections() { t.base.CloseIdleConnections() }

// Functions returns the names of the registered functions, sorted.
func (s *Server) Functions() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.functions))
	for n := range s.functions {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
