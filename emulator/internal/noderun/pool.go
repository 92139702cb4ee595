// Package noderun runs JavaScript cloud functions in Node.js worker
// processes, each the container of one function, one job at a time.
//
// A worker serves one function (one version of its code) for its whole
// life, as a platform container does: its globals, its module state and
// its /tmp outlive a job, but never reach another function. Jobs go to it
// as JSON lines on fd 3; its answers and log lines come back on fd 4, each
// starting with a secret the function cannot read, so that a function is
// free to write to stdout (which becomes log lines too) and cannot forge
// an answer. A worker answers once the function has answered and Node's
// event loop has drained, as the platform does. A worker that crashes,
// exits, breaks the protocol, runs out of memory or passes its deadline is
// killed with everything it started; the pool never goes down with it.
package noderun

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

//go:embed bootstrap.js
var bootstrap []byte

// baasData is the BaaS data API (TableObject, Query, ...), which the
// bootstrap loads from beside itself.
//
//go:embed baas_data.js
var baasData []byte

// Config says how to start workers and how functions reach the emulator.
type Config struct {
	Node          string // the node executable
	MemoryLimitMB int    // --max-old-space-size; 0 leaves Node's default
	MaxWorkers    int    // at most this many processes (the emulator's max jobs)
	Warm          int    // blank workers kept started ahead, for any function
	IdleTimeout   time.Duration
	// MaxResult caps a function's result, in bytes of JSON; 0 means 64 MiB.
	MaxResult int
	// Late, when set, hears of what code left behind by a job that has
	// ended did (a log line, a second answer, a throw), for that job's
	// record: it never goes to the running job.
	Late func(jobID int64, l LogLine)
	// What BaaS.invoke inside a function needs.
	URL, ClientID, CallerHeader, CallerKey string
	SyncTimeout                            time.Duration
	// NodeArgs go to node before the bootstrap script, e.g. --inspect.
	NodeArgs []string

	// now is the clock idleness is judged by (time.Now when nil), and
	// reapEvery how often the idle reaper looks (IdleTimeout/4 when 0):
	// tests move the clock instead of waiting for workers to idle out.
	now       func() time.Time
	reapEvery time.Duration
	// growDelay replaces the package's growDelay when set: tests make it
	// long to see how many workers short jobs get without it.
	growDelay time.Duration

	// AfterFunc, when set, times the jobs' deadlines and their waits for
	// a worker in place of time.AfterFunc: it calls f once d has passed,
	// and its stop reports whether it stopped f. The emulator passes its
	// clock's, so that a test moving a fake clock sees them pass.
	AfterFunc func(d time.Duration, f func()) (stop func() bool)
}

// afterFunc calls f after d on the pool's clock.
func (p *Pool) afterFunc(d time.Duration, f func()) func() bool {
	if p.cfg.AfterFunc != nil {
		return p.cfg.AfterFunc(d, f)
	}
	return time.AfterFunc(d, f).Stop
}

// growAfter is how long a function's jobs wait for one of its busy
// workers before another is started for them.
func (p *Pool) growAfter() time.Duration {
	if p.cfg.growDelay > 0 {
		return p.cfg.growDelay
	}
	return growDelay
}

// clock is the time idleness is judged by.
func (p *Pool) clock() time.Time {
	if p.cfg.now != nil {
		return p.cfg.now()
	}
	return time.Now()
}

// LogLine is one line of a job's log.
type LogLine struct {
	Time    time.Time
	Level   string // INFO, WARN, ERROR, DEBUG
	Message string
}

// ErrorInfo is a function failure as the platform reports it.
type ErrorInfo struct {
	Message string `json:"message"`
	Stack   string `json:"stack,omitempty"`
	Type    string `json:"type"`
}

// Job is one run of a function.
type Job struct {
	ID      int64
	Name    string          // the function's name
	Key     string          // changes whenever the function's code does
	File    string          // absolute path of the function's file
	Root    string          // File, or the folder whose modules are the function's (a functions folder)
	Display string          // the file as errors name it, e.g. helloWorld.js
	Event   json.RawMessage // valid JSON, as json.Marshal gives it
	Log     func(LogLine)
	// Timeout is the function's deadline, counted from the moment its
	// worker receives the job: when the job's line has been written to the
	// idle worker's pipe, which it reads at once; 0 means none.
	Timeout time.Duration
	// Wait bounds the wait for a worker; 0 means as long as ctx allows.
	Wait time.Duration
	// Started, when set, is called as the worker receives the job (its
	// line written to the idle worker's pipe).
	Started func(time.Time)
}

// Result is how a job ended.
type Result struct {
	Code  int
	Data  json.RawMessage // when Code is 0: the function's result, as its JSON
	Error *ErrorInfo      // when Code is not 0
	Mem   int64           // the worker's resident memory, bytes
	// Started is when the worker received the job: its line was written
	// to the idle worker's pipe.
	Started time.Time
	// TimedOut says the job passed its Timeout and its worker was killed.
	TimedOut bool
}

// NoWorkerError says no worker was free for a job within its wait.
type NoWorkerError struct {
	Wait          time.Duration
	Busy, Max     int
	LastStartFail error // why the last worker start failed, if one did
}

func (e *NoWorkerError) Error() string {
	msg := fmt.Sprintf("no Node worker was free within %d ms: %d busy, at most %d (the emulator's max jobs)",
		e.Wait.Milliseconds(), e.Busy, e.Max)
	if e.LastStartFail != nil {
		msg += "; the last worker start failed: " + e.LastStartFail.Error()
	}
	return msg
}

// ErrClosed is the error of a job the closing pool did not run.
var ErrClosed = errors.New("the emulator is closing")

// Pool is a set of Node workers, grouped by the function each serves.
type Pool struct {
	cfg    Config
	dir    string // holds the bootstrap script; removed on Close
	script string
	nextN  atomic.Int64

	mu       sync.Mutex
	closed   bool
	blank    []*worker      // started, no function yet
	checkers []chan *worker // syntax checks waiting for a blank worker
	checkN   int64
	sets     map[string]*fnSet  // by function version (Job.Key)
	all      map[*worker]string // every worker running, by key ("" blank)
	total    int                // started or starting
	starting int
	startErr error // the last start failure, for waiters
	done     chan struct{}
	bg       sync.WaitGroup
	jobs     sync.WaitGroup // Runs under way
}

// fnSet is the workers of one function version.
type fnSet struct {
	key, name string
	idle      []*worker // most recently freed last
	waiters   []*waiter
	starting  int
	busy      int
	lastMove  time.Time // a worker freed up
	growArmed bool      // growTick will look at the set
	retired   bool      // a newer version replaced it
}

// waiter is a job waiting for a worker of its function. The one that
// frees a worker sends the waiter's job to it at once (sent, sendErr),
// so that the worker does not idle while the waiter wakes up.
type waiter struct {
	ch      chan *worker // gets the worker; closed when none will come
	c       *call
	line    []byte
	sent    bool
	sendErr error
}

// New starts the warm workers in the background. cfg.Node must be a
// checked Node.js (nodebin.Find).
func New(cfg Config) (*Pool, error) {
	if cfg.MaxWorkers < 1 {
		cfg.MaxWorkers = 1
	}
	cfg.Warm = min(max(cfg.Warm, 0), cfg.MaxWorkers)
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 30 * time.Second
	}
	takeOrphans()
	cleanStale()
	dir, err := os.MkdirTemp("", dirPrefix)
	if err != nil {
		return nil, err
	}
	p := &Pool{cfg: cfg, dir: dir, script: filepath.Join(dir, "bootstrap.js"),
		sets: map[string]*fnSet{}, all: map[*worker]string{}, done: make(chan struct{})}
	err = os.WriteFile(p.script, bootstrap, 0o600)
	if err == nil {
		err = writeOwner(dir)
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "baas_data.js"), baasData, 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	p.mu.Lock()
	for i := 0; i < cfg.Warm; i++ {
		p.spawnLocked(nil)
	}
	p.mu.Unlock()
	p.bg.Add(1)
	go p.reap()
	return p, nil
}

// Dir is a folder the pool owns and removes on Close.
func (p *Pool) Dir() string { return p.dir }

// maxResult is the cap on a result's JSON.
func (p *Pool) maxResult() int {
	if p.cfg.MaxResult > 0 {
		return p.cfg.MaxResult
	}
	return 64 << 20
}

// maxLine caps one line from a worker: a result, or a failure with its
// stack, and then some.
func (p *Pool) maxLine() int { return p.maxResult() + 1<<20 }

// maxStarting bounds the workers starting at once: more only slow each
// other down on a few cores.
var maxStarting = max(4, 2*runtime.NumCPU())

// spawnLocked starts a worker in the background, for set (nil: blank).
func (p *Pool) spawnLocked(set *fnSet) {
	p.total++
	p.starting++
	if set != nil {
		set.starting++
	}
	n := p.nextN.Add(1)
	p.bg.Add(1)
	go func() {
		defer p.bg.Done()
		w, err := p.start(n)
		p.mu.Lock()
		p.starting--
		if set != nil {
			set.starting--
		}
		if err != nil {
			p.total--
			p.startErr = err
			// Wake the set's waiters so that they see the failure.
			if set != nil {
				for _, wt := range set.waiters {
					close(wt.ch)
				}
				set.waiters = nil
			}
			// And the syntax checks waiting for a blank worker, once no
			// other is on its way.
			if set == nil && p.blankStarting() == 0 {
				for _, ch := range p.checkers {
					close(ch)
				}
				p.checkers = nil
			}
			p.mu.Unlock()
			return
		}
		if p.closed {
			p.total--
			p.mu.Unlock()
			w.stop()
			return
		}
		p.startErr = nil
		if set != nil {
			w.key = set.key
		}
		p.all[w] = w.key
		wt := p.putLocked(w, set) // in the same hold: the set is never a worker short
		p.mu.Unlock()
		p.handOver(w, wt)
	}()
}

// setLocked returns the set of a function version, making it; a new
// version of a function retires the older ones' workers.
func (p *Pool) setLocked(key, name string) *fnSet {
	if s, ok := p.sets[key]; ok {
		return s
	}
	s := &fnSet{key: key, name: name, lastMove: time.Now()} // its jobs wait from now
	for k, old := range p.sets {
		if old.name == name {
			old.retired = true
			for _, w := range old.idle {
				p.dropLocked(w)
			}
			old.idle = nil
			if old.busy == 0 && len(old.waiters) == 0 {
				delete(p.sets, k)
			}
		}
	}
	p.sets[key] = s
	return s
}

// dropLocked forgets w and stops it in the background.
func (p *Pool) dropLocked(w *worker) {
	if _, ok := p.all[w]; !ok {
		return
	}
	delete(p.all, w)
	p.total--
	p.bg.Add(1)
	go func() { defer p.bg.Done(); w.stop() }()
}

// growDelay is how long the jobs of a function wait for one of its busy
// workers to free up before another is started for them: short jobs then
// share a few processes, which serve a burst faster than many processes
// on few cores, while jobs that wait (timers, calls to other functions)
// still get a process each.
const growDelay = 10 * time.Millisecond

// get returns a worker of the job's function: an idle one, a blank one
// (which becomes the function's), or one started for it.
func (p *Pool) get(ctx context.Context, job *Job, c *call, line []byte) (*worker, *fnSet, *waiter, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, nil, nil, ErrClosed
	}
	set := p.setLocked(job.Key, job.Name)
	c.mu.Lock()
	c.set = set // for the reader, which hands the worker on at the answer
	c.mu.Unlock()
	for len(set.idle) > 0 {
		w := set.idle[len(set.idle)-1]
		set.idle = set.idle[:len(set.idle)-1]
		if isClosed(w.exited) { // it died between jobs
			p.dropLocked(w)
			continue
		}
		set.busy++
		p.mu.Unlock()
		return w, set, nil, nil
	}
	if set.size() < parallelWorkers {
		if w := p.takeBlankLocked(set); w != nil {
			set.busy++
			p.mu.Unlock()
			return w, set, nil, nil
		}
	}
	wt := &waiter{ch: make(chan *worker, 1), c: c, line: line}
	set.waiters = append(set.waiters, wt)
	if set.wantsCoreLocked(p) {
		p.growLocked(set) // fewer workers than cores: nothing to wait for
	}
	p.armGrowLocked(set, min(p.growAfter(), growDelay))
	p.mu.Unlock()

	for {
		select {
		case w, ok := <-wt.ch:
			if ok {
				return w, set, wt, nil // set.busy counted by the giver
			}
			p.mu.Lock()
			err, closed := p.startErr, p.closed
			p.mu.Unlock()
			if closed {
				return nil, nil, nil, ErrClosed
			}
			if err == nil {
				err = errors.New("no Node worker could be started")
			}
			return nil, nil, nil, err
		case <-ctx.Done():
			p.mu.Lock()
			queued := false
			for i, q := range set.waiters {
				if q == wt {
					set.waiters = append(set.waiters[:i], set.waiters[i+1:]...)
					queued = true
					break
				}
			}
			p.mu.Unlock()
			if !queued {
				// Taken off the queue meanwhile: a worker is on its way (or
				// the channel closes). Back it goes, or, when it has the job
				// already, it goes as at a deadline.
				w, ok := <-wt.ch
				switch {
				case ok && wt.sent:
					if c.end() { // else it answered already, and its reader handed w on
						c.stop()
						p.discard(w, set)
					}
				case ok:
					p.release(w, set)
				}
			}
			return nil, nil, nil, ctx.Err()
		}
	}
}

// armGrowLocked has growTick look at set after d, unless it will already.
// One timer per function, not one per waiting job: a busy function's
// jobs wait by the hundred, each a few microseconds.
func (p *Pool) armGrowLocked(set *fnSet, d time.Duration) {
	if set.growArmed {
		return
	}
	set.growArmed = true
	time.AfterFunc(d, func() { p.growTick(set) })
}

// growTick starts workers for set's waiting jobs when they need more:
// fewer workers than cores (wantsCoreLocked), or none of them freed up
// for the grow delay (jobs that wait on timers or calls). Blank workers on
// their way count as coming: on a few cores, more starts at once only slow
// each other down.
func (p *Pool) growTick(set *fnSet) {
	p.mu.Lock()
	defer p.mu.Unlock()
	set.growArmed = false
	if p.closed || len(set.waiters) == 0 {
		return // the next waiting job arms it again
	}
	grow := p.growAfter()
	since := time.Since(set.lastMove)
	next := min(grow, growDelay) // waiting on starts or on the cap: no tighter
	if since < grow {
		next = max(min(grow-since, growDelay), time.Millisecond)
	}
	for range len(set.waiters) {
		if !set.wantsCoreLocked(p) && (since < grow || set.starting+p.blankStarting() >= len(set.waiters)) {
			break
		}
		if !p.growLocked(set) {
			break
		}
		next = min(grow, growDelay)
	}
	p.armGrowLocked(set, next)
}

// growLocked starts a worker for set if the limits allow, making room by
// stopping an idle worker of another function (or a blank one) when every
// process the pool may run is started.
func (p *Pool) growLocked(set *fnSet) bool {
	if p.closed {
		return false
	}
	if set != nil && len(set.waiters) > 0 {
		// A blank worker is quicker than a new one.
		if w := p.takeBlankLocked(set); w != nil {
			// Counted as starting for set until put counts it (both counts,
			// so that blankStarting stays right), handed over outside the lock.
			p.starting++
			set.starting++
			p.bg.Add(1)
			go func() {
				defer p.bg.Done()
				p.mu.Lock()
				p.starting--
				set.starting--
				wt := p.putLocked(w, set)
				p.mu.Unlock()
				p.handOver(w, wt)
			}()
			return true
		}
	}
	if p.starting >= maxStarting {
		return false
	}
	if p.total >= p.cfg.MaxWorkers && !p.evictLocked(set) {
		return false
	}
	p.spawnLocked(set)
	return true
}

// takeBlankLocked takes a live blank worker, dropping dead ones, or
// returns nil. Given a set, the worker becomes that function's, and the
// blank ones kept ahead are refilled; without, it stays blank (a syntax
// check borrows it).
func (p *Pool) takeBlankLocked(set *fnSet) *worker {
	for len(p.blank) > 0 {
		w := p.blank[len(p.blank)-1]
		p.blank = p.blank[:len(p.blank)-1]
		if isClosed(w.exited) {
			p.dropLocked(w)
			continue
		}
		if set != nil {
			w.key = set.key
			p.all[w] = set.key
			p.refillLocked()
		}
		return w
	}
	return nil
}

// parallelWorkers is how many workers a function gets at once when its
// jobs wait, without waiting for one of them to free up: as many as there
// are cores to run them (at least two). More only come when its workers
// stay busy (growDelay), as jobs that wait on timers or calls do: short
// jobs are then served by a few warm processes, not by many cold ones,
// each compiling the same code again.
var parallelWorkers = max(2, runtime.NumCPU())

// size counts the set's workers: running, idle or on their way.
func (s *fnSet) size() int { return s.busy + len(s.idle) + s.starting }

// wantsCoreLocked says the set's waiting jobs should have a worker
// started now: it has fewer than parallelWorkers, and no blank worker is
// on its way (a blank one goes to such a set as it is ready).
func (s *fnSet) wantsCoreLocked(p *Pool) bool {
	return len(s.waiters) > s.starting && s.size() < parallelWorkers && p.blankStarting() == 0
}

// evictLocked stops the longest-idle worker not of set; false if none is
// idle.
func (p *Pool) evictLocked(set *fnSet) bool {
	if n := len(p.blank); n > 0 {
		w := p.blank[0]
		p.blank = p.blank[1:]
		p.dropLocked(w)
		return true
	}
	var from *fnSet
	for _, s := range p.sets {
		if s != set && len(s.idle) > 0 && (from == nil || s.idle[0].idleAt.Before(from.idle[0].idleAt)) {
			from = s
		}
	}
	if from == nil {
		return false
	}
	w := from.idle[0]
	from.idle = from.idle[1:]
	p.dropLocked(w)
	return true
}

// refillLocked starts blank workers up to the warm count.
func (p *Pool) refillLocked() {
	for len(p.blank)+p.blankStarting() < p.cfg.Warm && p.total < p.cfg.MaxWorkers && p.starting < maxStarting {
		p.spawnLocked(nil)
	}
}

// blankStarting counts blank workers starting.
func (p *Pool) blankStarting() int {
	n := p.starting
	for _, s := range p.sets {
		n -= s.starting
	}
	return n
}

// put hands a healthy worker to the first waiter of its function, or
// makes it idle. set is nil for a blank worker.
func (p *Pool) put(w *worker, set *fnSet) {
	p.mu.Lock()
	wt := p.putLocked(w, set)
	p.mu.Unlock()
	p.handOver(w, wt)
}

// handOver sends wt's job to w, which putLocked gave it.
func (p *Pool) handOver(w *worker, wt *waiter) {
	if wt == nil {
		return
	}
	// A long line the waiter sends itself, not to hold this job's end.
	if len(wt.line) <= maxKeptBuf {
		wt.sendErr = w.deliver(wt.c, wt.line)
		wt.sent = true
	}
	wt.ch <- w
}

// putLocked does put's bookkeeping; it returns the waiter w goes to.
func (p *Pool) putLocked(w *worker, set *fnSet) *waiter {
	if _, ok := p.all[w]; !ok || p.closed {
		go w.stop()
		return nil
	}
	now := time.Now()
	w.idleAt = p.clock()
	if set == nil {
		// A blank worker: to a syntax check, to whoever waits for a first
		// worker, else kept.
		if len(p.checkers) > 0 {
			p.checkers[0] <- w
			p.checkers = p.checkers[1:]
			return nil
		}
		for _, s := range p.sets {
			if len(s.waiters) > 0 && (s.size() < parallelWorkers || now.Sub(s.lastMove) >= p.growAfter()) {
				w.key = s.key
				p.all[w] = s.key
				wt := p.giveLocked(s)
				p.refillLocked() // the blank ones kept ahead
				return wt
			}
		}
		p.blank = append(p.blank, w)
		return nil
	}
	set.lastMove = now
	// Jobs of a version that a newer one retired still run on its workers.
	if len(set.waiters) > 0 {
		return p.giveLocked(set)
	}
	if set.retired {
		p.dropLocked(w)
		p.forgetLocked(set)
		return nil
	}
	set.idle = append(set.idle, w)
	// Another function's jobs, or a syntax check, wait while every process
	// is started: this one makes room for them.
	if p.total >= p.cfg.MaxWorkers {
		if len(p.checkers) > 0 && p.blankStarting() == 0 {
			p.growLocked(nil)
			return nil
		}
		for _, s := range p.sets {
			if s != set && len(s.waiters) > s.starting {
				p.growLocked(s)
				break
			}
		}
	}
	return nil
}

// giveLocked takes set's first waiter, to be given a worker.
func (p *Pool) giveLocked(set *fnSet) *waiter {
	wt := set.waiters[0]
	set.waiters = set.waiters[1:]
	set.busy++
	return wt
}

// release returns a worker that was given a job but never sent it.
// Under one hold of the lock, so that no one sees the set a worker short.
func (p *Pool) release(w *worker, set *fnSet) {
	p.mu.Lock()
	set.busy--
	wt := p.putLocked(w, set)
	p.mu.Unlock()
	p.handOver(w, wt)
}

// forgetLocked drops a retired set once nothing uses it.
func (p *Pool) forgetLocked(set *fnSet) {
	if set.retired && set.busy == 0 && len(set.waiters) == 0 && p.sets[set.key] == set {
		delete(p.sets, set.key)
	}
}

// discard kills a worker that is dead, damaged or past a deadline; a
// replacement comes when a job needs one.
func (p *Pool) discard(w *worker, set *fnSet) {
	w.kill()
	p.mu.Lock()
	if set != nil {
		set.busy--
		p.forgetLocked(set)
	}
	_, ok := p.all[w]
	if ok {
		delete(p.all, w)
		p.total--
	}
	// Jobs of the set may wait on this one's freeing up.
	if set != nil && len(set.waiters) > set.starting && !p.closed {
		p.growLocked(set)
	}
	p.mu.Unlock()
	p.bg.Add(1)
	go func() {
		defer p.bg.Done()
		<-w.done
		p.endDescendants(p.mark(w.n))
	}()
}

// reap stops workers idle for longer than the idle timeout: a function
// keeps as many warm workers as its recent concurrency asked for, and a
// burst leaves no processes behind for good.
func (p *Pool) reap() {
	defer p.bg.Done()
	every := p.cfg.reapEvery
	if every <= 0 {
		every = max(p.cfg.IdleTimeout/4, 10*time.Millisecond)
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-tick.C:
		}
		p.mu.Lock()
		for k, s := range p.sets {
			// idle is oldest first: the front ones have waited longest.
			for len(s.idle) > 0 && p.clock().Sub(s.idle[0].idleAt) > p.cfg.IdleTimeout {
				p.dropLocked(s.idle[0])
				s.idle = s.idle[1:]
			}
			if len(s.idle) == 0 && s.busy == 0 && s.starting == 0 && len(s.waiters) == 0 {
				delete(p.sets, k)
			}
		}
		p.refillLocked()
		p.mu.Unlock()
		reapOrphans()
	}
}

// Check parses file as Node loads a module, without running it, on a
// blank worker (which stays blank), so that a file that does not parse is
// refused where it is registered at no cost of a Node start. It returns
// "" or Node's report: "<file>:<line>", the code, a caret, "SyntaxError:
// ...". An error says no worker could check.
func (p *Pool) Check(ctx context.Context, file string) (string, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return "", ErrClosed
	}
	w := p.takeBlankLocked(nil)
	var wait chan *worker
	if w == nil {
		wait = make(chan *worker, 1)
		p.checkers = append(p.checkers, wait)
		if p.blankStarting() == 0 {
			p.growLocked(nil)
		}
	}
	p.checkN++
	id := p.checkN
	p.mu.Unlock()
	if w == nil {
		select {
		case w = <-wait:
			if w == nil { // closed: the blank worker did not start
				p.mu.Lock()
				err := p.startErr
				p.mu.Unlock()
				if err == nil {
					err = errors.New("it ended as it started")
				}
				return "", fmt.Errorf("no Node worker could be started for the syntax check: %w", err)
			}
		case <-ctx.Done():
			p.mu.Lock()
			for i, c := range p.checkers {
				if c == wait {
					p.checkers = append(p.checkers[:i], p.checkers[i+1:]...)
					break
				}
			}
			p.mu.Unlock()
			select {
			case w = <-wait: // handed over meanwhile
				if w != nil {
					p.put(w, nil)
				}
			default:
			}
			return "", ctx.Err()
		}
	}
	ch := make(chan string, 1)
	w.mu.Lock()
	w.checking, w.checkID = ch, id
	w.mu.Unlock()
	line, _ := json.Marshal(map[string]any{"t": "check", "id": id, "file": file})
	w.in.SetWriteDeadline(time.Now().Add(ackTimeout))
	if _, err := w.in.Write(append(line, '\n')); err != nil {
		p.discardBlank(w)
		return "", err
	}
	t := time.NewTimer(ackTimeout)
	defer t.Stop()
	select {
	case report := <-ch:
		p.put(w, nil)
		return report, nil
	case <-w.exited:
	case <-t.C:
	case <-ctx.Done():
	}
	p.discardBlank(w)
	return "", errors.New("the worker did not answer the syntax check")
}

// discardBlank kills a blank worker that failed a check.
func (p *Pool) discardBlank(w *worker) {
	w.kill()
	p.mu.Lock()
	if _, ok := p.all[w]; ok {
		delete(p.all, w)
		p.total--
	}
	p.refillLocked()
	p.mu.Unlock()
}

// Workers returns how many Node processes are running or starting.
func (p *Pool) Workers() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.total
}

// ackTimeout is how long a worker may take to acknowledge a job it was
// sent: an idle worker does at once, so one that does not was damaged by
// its last job (stopped, spinning, its pipe closed) and the job goes to
// another.
const ackTimeout = 3 * time.Second

// deliveries bounds the workers a job is offered to.
const deliveries = 3

// Run runs job on a worker of its function and returns how it ended. It
// waits for a worker up to job.Wait (a *NoWorkerError then); the
// function's deadline starts when its worker receives the job (its line
// written to the idle worker, which reads it at once). When ctx ends
// first the worker is killed and Run returns ctx's error.
func (p *Pool) Run(ctx context.Context, job Job) (*Result, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, ErrClosed
	}
	p.jobs.Add(1)
	p.mu.Unlock()
	defer p.jobs.Done()
	waitCtx := ctx
	if job.Wait > 0 { // ends job.Wait from now on the pool's clock
		var cancel context.CancelFunc
		waitCtx, cancel = context.WithCancel(ctx)
		defer cancel()
		defer p.afterFunc(job.Wait, cancel)()
	}
	buf := lineBufs.Get().(*[]byte)
	line := runLine((*buf)[:0], &job)
	defer func() {
		if cap(line) <= maxKeptBuf { // a huge event's buffer is not kept
			*buf = line[:0]
			lineBufs.Put(buf)
		}
	}()
	var lastErr error
	for range deliveries {
		c := newCall(&job, p.afterFunc)
		w, set, wt, err := p.get(waitCtx, &job, c, line)
		if err != nil {
			if ctx.Err() == nil && waitCtx.Err() != nil {
				p.mu.Lock()
				busy, last := len(p.all)-len(p.blank), p.startErr
				p.mu.Unlock()
				return nil, &NoWorkerError{Wait: job.Wait, Busy: busy, Max: p.cfg.MaxWorkers, LastStartFail: last}
			}
			return nil, err
		}
		sent, sendErr := false, error(nil)
		if wt != nil {
			sent, sendErr = wt.sent, wt.sendErr
		}
		res, err, delivered := p.runOn(ctx, w, set, c, &job, line, sent, sendErr)
		if delivered {
			return res, err
		}
		lastErr = err
	}
	return nil, fmt.Errorf("no Node worker took the job: %d workers in a row did not acknowledge it (%v)", deliveries, lastErr)
}

// runOn runs job on w; delivered is false when w never took the job (it
// is then discarded, and the job may go to another). The deadline timer is
// armed when the job's line has been written to w's pipe (call.sent), not
// at the acknowledgement: w is idle and reads the line at once, so that
// write is the moment the worker receives the job, when issue 13 says the
// deadline and the run time start. The timer closes c.expired, so that
// this goroutine wakes once, for the end.
// At an answer the worker's reader also hands w on to the next job of
// its function before this goroutine wakes (call.end says which of the
// two ends the call: only that one touches w after).
func (p *Pool) runOn(ctx context.Context, w *worker, set *fnSet, c *call, job *Job, line []byte, sent bool, sendErr error) (res *Result, err error, delivered bool) {
	defer func() {
		c.stop()
		w.mu.Lock()
		if w.job == c { // once freed, w may have the next job already
			w.job = nil
		}
		w.mu.Unlock()
	}()
	if !sent {
		sendErr = w.deliver(c, line)
	}
	if sendErr != nil {
		p.discard(w, set)
		return nil, fmt.Errorf("the worker did not take the job: %w", sendErr), false
	}
	// answered: the reader has the answer and has handed w on already.
	answered := func() (*Result, error, bool) {
		return c.result(<-c.answer), nil, true
	}
	for {
		select {
		case a := <-c.answer:
			return c.result(a), nil, true
		case <-w.exited:
			if !c.end() {
				return answered()
			}
			<-w.done
			if !isClosed(c.acked) && !w.jobTaken() {
				p.discard(w, set)
				return nil, errors.New("the worker ended before it took the job: " + w.why()), false
			}
			p.discard(w, set)
			select { // an answer that came just before the end still counts
			case a := <-c.answer:
				return c.result(a), nil, true
			default:
			}
			res := p.crashed(w)
			res.Started = c.startedAt()
			return res, nil, true
		case <-c.noAck:
			if isClosed(c.acked) {
				continue // it came as the timer fired
			}
			if w.jobTaken() {
				c.ack() // running, and quiet so far
				continue
			}
			if !c.end() {
				return answered()
			}
			p.discard(w, set)
			return nil, errors.New("the worker did not acknowledge the job"), false
		case <-c.expired:
			if !c.end() {
				return answered()
			}
			if !isClosed(c.acked) && !w.jobTaken() {
				p.discard(w, set)
				return nil, errors.New("the worker did not acknowledge the job"), false
			}
			mem := residentMemory(w.cmd)
			p.discard(w, set)
			return &Result{Code: 1, TimedOut: true, Started: c.startedAt(), Mem: mem,
				Error: &ErrorInfo{Type: "TimeoutError", Message: fmt.Sprintf("function timed out after %d ms", job.Timeout.Milliseconds())}}, nil, true
		case <-ctx.Done():
			if !c.end() {
				return answered()
			}
			p.discard(w, set)
			return nil, ctx.Err(), isClosed(c.acked)
		}
	}
}

// lineBufs holds buffers for run lines.
var lineBufs = sync.Pool{New: func() any { return new([]byte) }}

// maxKeptBuf bounds a run line buffer kept for reuse.
const maxKeptBuf = 64 << 10

// runLine appends the line that sends job to a worker,
// {"t":"run","id":..,"name":..,"key":..,"file":..,"root":..,"display":..,"event":..},
// written by hand: json.Marshal would check and copy the event once more.
func runLine(b []byte, job *Job) []byte {
	b = append(b, `{"t":"run","id":`...)
	b = strconv.AppendInt(b, job.ID, 10)
	for _, f := range [...]struct{ k, v string }{{"name", job.Name}, {"key", job.Key},
		{"file", job.File}, {"root", job.Root}, {"display", job.Display}} {
		b = append(b, `,"`...)
		b = append(b, f.k...)
		b = append(b, `":`...)
		b = appendString(b, f.v)
	}
	b = append(b, `,"event":`...)
	b = append(b, job.Event...)
	return append(b, "}\n"...)
}

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			q, _ := json.Marshal(s) // rare: a string needs escapes or is not ASCII
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// crashed words the end of a worker that died during a job.
func (p *Pool) crashed(w *worker) *Result {
	why := w.why()
	w.mu.Lock()
	defer w.mu.Unlock()
	typ, stack := "Error", ""
	if w.broken == "" && w.fatal != nil {
		stack = w.fatal.Stack
		if w.fatal.Type != "" {
			typ = w.fatal.Type
		}
	}
	var mem int64
	if w.oom && w.broken == "" {
		mem = w.oomMem
		if mem == 0 {
			mem = int64(p.cfg.MemoryLimitMB) << 20
		}
		why = fmt.Sprintf("out of memory: the function used more than %d MB", p.cfg.MemoryLimitMB)
		if p.cfg.MemoryLimitMB == 0 {
			why = "out of memory: the function used more than Node's default heap"
		}
		typ = "RangeError"
	}
	return &Result{Code: 1, Mem: mem, Error: &ErrorInfo{Type: typ, Message: why, Stack: stack}}
}

// Close stops every worker and what it started, and waits until they
// are gone. Jobs still running end as their workers do.
func (p *Pool) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	close(p.done)
	ws := make([]*worker, 0, len(p.all))
	for w := range p.all {
		ws = append(ws, w)
	}
	p.all = map[*worker]string{}
	p.blank = nil
	for _, s := range p.sets {
		for _, wt := range s.waiters {
			close(wt.ch)
		}
		s.waiters, s.idle = nil, nil
	}
	p.checkers = nil // their waits end with their contexts
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.kill()
			<-w.done
		}()
	}
	wg.Wait()
	p.jobs.Wait()
	p.bg.Wait() // workers still starting see closed and stop themselves
	p.endDescendants(p.dir + "#")
	os.RemoveAll(p.dir)
}
