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
// slot. The most recent jobs, 10,000 by default ([WithMaxJobRecords]), are
// recorded with their status and log ([Server.Jobs]); the emulator can stay
// up for days without growing.
package emulator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
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
	ln        net.Listener
	hs        *http.Server
	ctx       context.Context // ends when Close starts
	cancel    context.CancelFunc
	callerKey string
	slots     chan struct{}
	nextID    atomic.Int64
	closeOnce sync.Once

	// handlers counts the dispatcher and the async jobs' goroutines; sync
	// jobs run on their request's goroutine, which Close also waits for.
	handlers sync.WaitGroup

	mu        sync.Mutex
	functions map[string]*fnRecord
	users     expiring[function.User]
	records   *jobRecords
	pending   int           // jobs not yet ended
	idle      chan struct{} // closed while pending == 0
	queue     []*job        // async jobs waiting for a slot
	queued    chan struct{} // signals the dispatcher
	inner     map[string]*baas.Client
	innerHTTP *http.Client
	oauth     oauthState
	conns     connTracker
	served    chan struct{} // closed when Serve has returned

	js jsState // the Node workers of JavaScript functions
}

// fnRecord is a function the emulator knows: registered in Go, or
// JavaScript registered or created over the Open API (h runs it in Node;
// h is nil only for one created without code).
type fnRecord struct {
	name, code, remark string
	created, updated   time.Time
	h                  function.Handler
	js                 *jsFunction // a JavaScript function, run instead of h
}

// New starts an emulator on a loopback port. It panics if it cannot
// listen, as httptest.NewServer does.
func New(opts ...Option) *Server {
	s, err := Listen("127.0.0.1:0", opts...)
	if err != nil {
		panic("emulator: " + err.Error())
	}
	return s
}

// Listen starts an emulator on addr, e.g. "127.0.0.1:8080".
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
	cfg.maxJobs = max(cfg.maxJobs, 1)
	cfg.maxJobRecords = max(cfg.maxJobRecords, 1)
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
		ln:           ln,
		ctx:          ctx,
		cancel:       cancel,
		callerKey:    randomHex(16),
		slots:        make(chan struct{}, cfg.maxJobs),
		functions:    map[string]*fnRecord{},
		records:      newJobRecords(cfg.maxJobRecords),
		served:       make(chan struct{}),
		idle:         make(chan struct{}),
		queued:       make(chan struct{}, 1),
		inner:        map[string]*baas.Client{},
	}
	close(s.idle)
	s.nextID.Store(1_000_000)
	s.innerHTTP = &http.Client{Transport: &callerTransport{key: s.callerKey, base: &http.Transport{
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     30 * time.Second,
	}}}
	s.hs = &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second, ConnState: s.conns.track}
	s.handlers.Add(1)
	go s.dispatch()
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
		s.handlers.Wait()
		s.closeJS()
		s.innerHTTP.CloseIdleConnections()
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
// first: at most [WithMaxJobRecords] of them.
func (s *Server) Jobs() []Job {
	s.mu.Lock()
	jobs := append([]*job(nil), s.records.all.slice()...)
	s.mu.Unlock()
	out := make([]Job, len(jobs))
	for i, j := range jobs {
		out[i] = j.snapshot()
	}
	return out
}

// Job returns the record of the job id, if it is still kept.
func (s *Server) Job(id int64) (Job, bool) {
	s.mu.Lock()
	j, ok := s.records.byID[id]
	s.mu.Unlock()
	if !ok {
		return Job{}, false
	}
	return j.snapshot(), true
}

// Wait blocks until no job is waiting or executing, or ctx ends.
func (s *Server) Wait(ctx context.Context) error {
	for {
		s.mu.Lock()
		idle := s.idle
		s.mu.Unlock()
		select {
		case <-idle:
			s.mu.Lock()
			done := s.pending == 0
			s.mu.Unlock()
			if done {
				return nil
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// newJob records a job in the waiting state.
func (s *Server) newJob(name, source string, sync bool, h function.Handler, ev *function.Event) *job {
	j := &job{srv: s, h: h, event: ev, rec: Job{
		Function: name, Source: source, Sync: sync, Status: StatusWaiting,
	}}
	s.mu.Lock()
	// Ids and times are taken under the lock so that the records are in
	// both orders at once, which the history's binary search needs.
	j.rec.ID = s.nextID.Add(1)
	j.rec.CreatedAt = time.Now()
	ev.JobID = j.rec.ID
	s.records.add(j)
	if s.pending == 0 {
		s.idle = make(chan struct{})
	}
	s.pending++
	s.mu.Unlock()
	return j
}

func (s *Server) jobEnded() {
	s.mu.Lock()
	s.pending--
	if s.pending == 0 {
		close(s.idle)
	}
	s.mu.Unlock()
}

// runSync waits up to the schedule wait for a slot, then runs the job on
// the calling goroutine. It returns false when no slot came, the caller
// went away or the emulator is closing: the job is then schedule_failed
// and answer is not called.
func (s *Server) runSync(ctx context.Context, j *job, answer func(*baas.Result, bool)) bool {
	if !s.acquireSync(ctx) {
		j.finish(StatusScheduleFailed, nil)
		return false
	}
	defer s.release()
	j.run(s.cfg.syncTimeout, answer)
	return true
}

func (s *Server) acquireSync(ctx context.Context) bool {
	select {
	case s.slots <- struct{}{}:
	default:
		t := time.NewTimer(s.cfg.scheduleWait)
		defer t.Stop()
		select {
		case s.slots <- struct{}{}:
		case <-t.C:
			return false
		case <-ctx.Done():
			return false
		case <-s.ctx.Done():
			return false
		}
	}
	if s.ctx.Err() != nil { // a slot freed by Close is no slot
		s.release()
		return false
	}
	return true
}

func (s *Server) release() { <-s.slots }

// enqueue queues an async job for the dispatcher.
func (s *Server) enqueue(j *job) {
	s.mu.Lock()
	s.queue = append(s.queue, j)
	s.mu.Unlock()
	select {
	case s.queued <- struct{}{}:
	default:
	}
}

// dispatch runs queued async jobs in order as slots free up; a job that
// waits longer than the async schedule wait is marked schedule_failed.
func (s *Server) dispatch() {
	defer s.handlers.Done()
	for {
		s.mu.Lock()
		var j *job
		if len(s.queue) > 0 {
			j = s.queue[0]
			s.queue[0] = nil
			s.queue = s.queue[1:]
		}
		s.mu.Unlock()
		if j == nil {
			select {
			case <-s.queued:
				continue
			case <-s.ctx.Done():
				return
			}
		}
		if !s.acquireAsync(j) {
			j.finish(StatusScheduleFailed, nil)
			if s.ctx.Err() != nil {
				s.failQueue()
				return
			}
			continue
		}
		s.handlers.Add(1)
		go func() {
			defer s.handlers.Done()
			defer s.release()
			j.run(s.cfg.asyncTimeout, nil)
		}()
	}
}

func (s *Server) acquireAsync(j *job) bool {
	select {
	case s.slots <- struct{}{}:
		return true
	default:
	}
	wait := time.Until(j.rec.CreatedAt.Add(s.cfg.asyncScheduleWait))
	if wait <= 0 {
		return false
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case s.slots <- struct{}{}:
		return true
	case <-t.C:
	case <-s.ctx.Done():
	}
	return false
}

// failQueue marks every queued job schedule_failed, on Close.
func (s *Server) failQueue() {
	s.mu.Lock()
	q := s.queue
	s.queue = nil
	s.mu.Unlock()
	for _, j := range q {
		j.finish(StatusScheduleFailed, nil)
	}
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
