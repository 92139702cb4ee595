// Package noderun runs JavaScript cloud functions in a pool of Node.js
// worker processes, one job per process at a time.
//
// Each worker runs the embedded bootstrap script. Jobs go to it as JSON
// lines on fd 3 and its answers and log lines come back on fd 4, so that a
// function is free to write to stdout (which becomes log lines too). A
// worker answers once the function has answered and Node's event loop has
// drained, as the platform does. A worker that crashes, exits, runs out of
// memory or passes its deadline is killed and replaced; the pool never
// goes down with it.
package noderun

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
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
	Warm          int    // idle workers kept started ahead
	IdleTimeout   time.Duration
	// What BaaS.invoke inside a function needs.
	URL, ClientID, CallerHeader, CallerKey string
	SyncTimeout                            time.Duration
	// NodeArgs go to node before the bootstrap script, e.g. --inspect.
	NodeArgs []string
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
}

// Result is how a job ended.
type Result struct {
	Code  int
	Data  json.RawMessage // when Code is 0
	Error *ErrorInfo      // when Code is not 0
	Mem   int64           // the worker's resident memory, bytes
}

// Pool is a set of Node workers.
type Pool struct {
	cfg    Config
	dir    string // holds the bootstrap script
	script string

	mu       sync.Mutex
	idle     []*worker // most recently used last
	total    int       // started or starting
	starting int
	waiters  []*waiter
	closed   bool
	all      map[*worker]struct{}
	done     chan struct{}
	bg       sync.WaitGroup
	startErr error // the last start failure, for waiters
	// lastMove is when a worker last freed up or took an idle one's job:
	// workers that have done neither for growDelay are stuck. Taking
	// counts so that the first calls after a quiet spell, served by the
	// warm workers in a moment, do not look stuck and start more.
	lastMove time.Time
	spareCap int // Warm plus one per core
}

// New checks that cfg.Node runs and starts the warm workers in the
// background.
func New(cfg Config) (*Pool, error) {
	if cfg.MaxWorkers < 1 {
		cfg.MaxWorkers = 1
	}
	cfg.Warm = min(max(cfg.Warm, 0), cfg.MaxWorkers)
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 30 * time.Second
	}
	dir, err := os.MkdirTemp("", "mincloud-node-")
	if err != nil {
		return nil, err
	}
	p := &Pool{cfg: cfg, dir: dir, script: filepath.Join(dir, "bootstrap.js"), all: map[*worker]struct{}{}, done: make(chan struct{}),
		spareCap: cfg.Warm + runtime.NumCPU()}
	if err := os.WriteFile(p.script, bootstrap, 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "baas_data.js"), baasData, 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	p.mu.Lock()
	for i := 0; i < cfg.Warm; i++ {
		p.spawnLocked()
	}
	p.mu.Unlock()
	p.bg.Add(1)
	go p.reap()
	return p, nil
}

// Dir is a folder the pool owns and removes on Close.
func (p *Pool) Dir() string { return p.dir }

// spawnLocked starts a worker in the background; it goes to a waiter or
// to the idle list.
func (p *Pool) spawnLocked() {
	p.total++
	p.starting++
	p.bg.Add(1)
	go func() {
		defer p.bg.Done()
		w, err := p.start()
		p.mu.Lock()
		p.starting--
		if err != nil {
			p.total--
			p.startErr = err
			// Wake one waiter so that it sees the failure.
			if len(p.waiters) > 0 {
				wt := p.waiters[0]
				p.waiters = p.waiters[1:]
				close(wt.ch)
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
		p.all[w] = struct{}{}
		p.mu.Unlock()
		p.put(w)
	}()
}

// maxStarting bounds the workers starting at once, so that a burst of
// short calls is served by the workers that free up rather than by a
// crowd of new processes.
const maxStarting = 2

// waiter is a job waiting for a worker. The job that frees a worker
// writes the waiter's run line to it at once and then hands it over, so
// that the worker does not idle while the waiter wakes up.
type waiter struct {
	ch   chan *worker // gets the worker, with sent set; closed when none comes
	line []byte
	log  func(LogLine)
}

// get returns a worker: an idle one, to which the caller sends the job,
// or, with sent set, one to which line has been sent for it. When none is
// idle it waits for one to free up, and starts a new one (within
// MaxWorkers) only when no worker has freed up for growDelay: short jobs
// then share a few processes, which serve a burst faster than many
// processes on few cores, while jobs that wait (timers, calls to other
// functions) still get a process each.
func (p *Pool) get(ctx context.Context, name string, line []byte, log func(LogLine)) (*worker, error) {
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, errClosed
		}
		if len(p.idle) > 0 {
			i := p.pickLocked(name)
			w := p.idle[i]
			p.idle = append(p.idle[:i], p.idle[i+1:]...)
			select {
			case <-w.dead: // it died between jobs
				p.mu.Unlock()
				p.discard(w)
				continue
			default:
			}
			p.lastMove = time.Now()
			// Keep the warm ones warm, up to spareCap workers in all:
			// beyond about one per core, more processes only slow short
			// jobs down, and the pool grows for stuck ones in wait.
			if len(p.idle)+p.starting < p.cfg.Warm && p.total < min(p.spareCap, p.cfg.MaxWorkers) {
				p.spawnLocked()
			}
			p.mu.Unlock()
			return w, nil
		}
		wt := &waiter{ch: make(chan *worker, 1), line: line, log: log}
		p.waiters = append(p.waiters, wt)
		if p.total < p.cfg.Warm || p.total == 0 {
			p.growLocked()
		}
		p.mu.Unlock()
		w, err, again := p.wait(ctx, wt)
		if !again {
			return w, err
		}
	}
}

// pickLocked chooses the idle worker for a job of the function name: one
// that last ran name, else one that has run nothing, else the most
// recently idle. On the platform each function has a container of its
// own; this keeps one function's globals away from another's as far as
// the idle workers allow.
func (p *Pool) pickLocked(name string) int {
	fresh := -1
	for i := len(p.idle) - 1; i >= 0; i-- {
		switch p.idle[i].last {
		case name:
			return i
		case "":
			if fresh < 0 {
				fresh = i
			}
		}
	}
	if fresh >= 0 {
		return fresh
	}
	return len(p.idle) - 1
}

// growDelay is how long a job waits for a busy worker before a new one
// is started for it.
const growDelay = 10 * time.Millisecond

// wait waits for a worker, growing the pool while the workers are
// stuck; again says that a start failed and get should look again.
func (p *Pool) wait(ctx context.Context, wt *waiter) (*worker, error, bool) {
	t := time.NewTimer(growDelay)
	defer t.Stop()
	for {
		select {
		case w, ok := <-wt.ch:
			if ok && w != nil {
				return w, nil, false
			}
			p.mu.Lock()
			// Woken by a failed start: with no worker running to wait for,
			// the failure is the answer (a retry would fail alike).
			err, closed, none := p.startErr, p.closed, p.total-p.starting == 0
			p.mu.Unlock()
			if closed {
				return nil, errClosed, false
			}
			if err != nil && none {
				return nil, err, false
			}
			return nil, nil, true
		case <-t.C:
			p.mu.Lock()
			// Grow only when the workers are stuck: none freed up lately.
			if since := time.Since(p.lastMove); since >= growDelay {
				p.growLocked()
				t.Reset(growDelay)
			} else {
				t.Reset(growDelay - since)
			}
			p.mu.Unlock()
		case <-ctx.Done():
			p.mu.Lock()
			queued := false
			for i, c := range p.waiters {
				if c == wt {
					p.waiters = append(p.waiters[:i], p.waiters[i+1:]...)
					queued = true
					break
				}
			}
			p.mu.Unlock()
			if !queued {
				// Taken off the queue meanwhile: a worker is on its way,
				// or the channel closes. One running this job goes as
				// at a deadline.
				if w, ok := <-wt.ch; ok && w != nil {
					if w.sent {
						p.discard(w)
					} else {
						p.put(w)
					}
				}
			}
			return nil, ctx.Err(), false
		}
	}
}

// growLocked starts a worker if the limits allow.
func (p *Pool) growLocked() {
	if !p.closed && p.total < p.cfg.MaxWorkers && p.starting < maxStarting {
		p.spawnLocked()
	}
}

var errClosed = errors.New("the emulator is closing")

// put hands a healthy worker to the first waiter, its job sent, or makes
// it idle.
func (p *Pool) put(w *worker) {
	w.setLog(nil)
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		go w.stop()
		return
	}
	now := time.Now()
	p.lastMove = now
	if len(p.waiters) == 0 {
		w.idleAt = now
		p.idle = append(p.idle, w)
		p.mu.Unlock()
		return
	}
	wt := p.waiters[0]
	p.waiters = p.waiters[1:]
	p.mu.Unlock()
	// A long line the waiter sends itself, not to hold this job's answer.
	if len(wt.line) <= maxKeptBuf {
		w.setLog(wt.log)
		_, w.sendErr = w.in.Write(wt.line)
		w.sent = true
	}
	wt.ch <- w
}

// discard forgets a worker that is dead or being killed, and starts a
// replacement if the warm ones are short or someone waits.
func (p *Pool) discard(w *worker) {
	w.kill()
	go func() { <-w.dead; w.release() }()
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.all[w]; !ok {
		return
	}
	delete(p.all, w)
	p.total--
	if p.closed {
		return
	}
	if len(p.idle)+p.starting < p.cfg.Warm {
		p.growLocked()
	}
}

// reap stops workers idle for longer than the idle timeout, beyond the
// warm ones, so that a burst does not leave processes behind for good.
func (p *Pool) reap() {
	defer p.bg.Done()
	tick := time.NewTicker(max(p.cfg.IdleTimeout/4, 10*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-tick.C:
		}
		var stale []*worker
		p.mu.Lock()
		// idle is oldest first: the front ones have waited longest.
		for len(p.idle) > p.cfg.Warm && time.Since(p.idle[0].idleAt) > p.cfg.IdleTimeout {
			w := p.idle[0]
			p.idle = p.idle[1:]
			delete(p.all, w)
			p.total--
			stale = append(stale, w)
		}
		p.mu.Unlock()
		for _, w := range stale {
			w.stop()
		}
	}
}

// Workers returns how many Node processes are running or starting.
func (p *Pool) Workers() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.total
}

// Run runs job on a worker and returns how it ended. When ctx ends first
// the worker is killed and replaced, and Run returns ctx's error.
func (p *Pool) Run(ctx context.Context, job Job) (*Result, error) {
	buf := lineBufs.Get().(*[]byte)
	line := runLine((*buf)[:0], &job)
	w, err := p.get(ctx, job.Name, line, job.Log)
	if err == nil && !w.sent {
		w.setLog(job.Log)
		_, w.sendErr = w.in.Write(line)
	}
	if cap(line) <= maxKeptBuf {
		*buf = line[:0]
		lineBufs.Put(buf)
	}
	if err != nil {
		return nil, err
	}
	sendErr := w.sendErr
	w.sent, w.sendErr = false, nil
	w.last = job.Name // the worker is this job's alone until put back
	if sendErr != nil {
		p.discard(w)
		return p.crashed(w), nil
	}
	// At the deadline the worker is killed, which ends the read below.
	stop := context.AfterFunc(ctx, w.kill)
	m, err := w.next()
	if !stop() {
		w.setLog(nil)
		p.discard(w)
		return nil, ctx.Err()
	}
	if err != nil {
		p.discard(w)
		return p.crashed(w), nil
	}
	if m.T != "done" || m.ID != job.ID {
		p.discard(w)
		return nil, fmt.Errorf("the Node worker answered out of step (%q for job %d)", m.T, m.ID)
	}
	p.put(w)
	res := &Result{Code: m.Code, Mem: m.Mem}
	if m.Code == 0 {
		res.Data = m.Data
	} else {
		res.Error = m.Error
		if res.Error == nil {
			res.Error = &ErrorInfo{Type: "Error", Message: "the function failed"}
		}
	}
	return res, nil
}

// lineBufs holds buffers for run lines.
var lineBufs = sync.Pool{New: func() any { return new([]byte) }}

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
	oom := w.oom
	var stack string
	if w.fatal != nil {
		stack = w.fatal.Stack
	}
	typ := "Error"
	if w.fatal != nil && w.fatal.Type != "" {
		typ = w.fatal.Type
	}
	w.mu.Unlock()
	if oom {
		why = fmt.Sprintf("out of memory: the function used more than %d MB", p.cfg.MemoryLimitMB)
		typ = "RangeError"
	}
	return &Result{Code: 1, Error: &ErrorInfo{Type: typ, Message: why, Stack: stack}}
}

// Close stops every worker and waits until they are gone.
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
	p.all = map[*worker]struct{}{}
	p.idle = nil
	for _, wt := range p.waiters {
		close(wt.ch)
	}
	p.waiters = nil
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.kill()
			<-w.dead
			w.release()
		}()
	}
	wg.Wait()
	p.bg.Wait() // workers still starting see closed and stop themselves
	os.RemoveAll(p.dir)
}

// LookNode finds the node executable: path if set, else $MINCLOUD_NODE,
// else node on PATH.
func LookNode(path string) (string, error) {
	src := "the option"
	if path == "" {
		path, src = os.Getenv("MINCLOUD_NODE"), "MINCLOUD_NODE"
	}
	if path == "" {
		path, src = "node", "PATH"
	}
	found, err := exec.LookPath(path)
	if err != nil {
		return "", fmt.Errorf("JavaScript functions need Node.js, and %q (from %s) was not found: "+
			"install Node.js (https://nodejs.org) and put node on PATH, or give its path with "+
			"MINCLOUD_NODE or emulator.WithNode; Go functions work without it", path, src)
	}
	return found, nil
}
