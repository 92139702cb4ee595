package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mincloud-go/baas"
	"github.com/mincloud-go/baas/emulator/internal/noderun"
	"github.com/mincloud-go/baas/function"
	"github.com/mincloud-go/baas/internal/fnroot"
	"github.com/mincloud-go/baas/internal/nodebin"
)

// jsState is the emulator's Node side: the worker pool, started with the
// first JavaScript function and stopped by Close.
type jsState struct {
	mu      sync.Mutex
	pool    *noderun.Pool
	nodeErr error // why Node cannot be used, once found
	closed  bool
	sources map[string]string   // function name → folder of its written source
	bundles map[string][]string // function name → folders of its bundles, newest last (jsdir.go)
	gen     atomic.Int64        // gives every registration of code its own key
}

// maxJSResult caps a JavaScript function's result: what the SDK accepts
// as a whole answer (64 MiB), less room for the answer around it and a
// debug answer's log, so that a result too large says so in the job
// rather than failing in the caller's SDK.
const maxJSResult = baas.DefaultMaxResponseBytes - 2<<20

// warmWorkers is how many blank Node workers are kept started ahead, for
// whichever function is called next.
const warmWorkers = 2

// checkNode refuses, when the emulator starts, a Node given by WithNode or
// MINCLOUD_NODE that is there but is not a Node.js the worker runs on
// (not executable, not Node.js, too old), so that the mistake is said
// once, with its reason, instead of on every JavaScript call. A Node that
// is not there at all is left for the first JavaScript function to
// report: Go functions need no Node. The check runs `node --version` once
// per executable and process (nodebin caches it).
func (c *config) checkNode() error {
	if c.nodePath == "" && os.Getenv("MINCLOUD_NODE") == "" {
		return nil // node on PATH, looked up when a JavaScript function needs it
	}
	if _, err := nodebin.Find(c.nodePath); err != nil && !nodebin.Missing(err) {
		if c.nodePath != "" {
			return fmt.Errorf("WithNode: %w", err)
		}
		return err
	}
	return nil
}

// nodePool returns the worker pool, starting it on first use. Node is
// looked up and its version checked once: a path that is not a supported
// Node.js is refused then, with the reason, and the same answer is given
// after.
func (s *Server) nodePool() (*noderun.Pool, error) {
	s.js.mu.Lock()
	defer s.js.mu.Unlock()
	if s.js.closed {
		return nil, errors.New("the emulator is closed")
	}
	if s.js.pool != nil {
		return s.js.pool, nil
	}
	if s.js.nodeErr != nil {
		return nil, s.js.nodeErr
	}
	node, err := nodebin.Find(s.cfg.nodePath)
	if err != nil {
		s.js.nodeErr = err
		return nil, err
	}
	p, err := noderun.New(noderun.Config{
		Node:          node.Path,
		MemoryLimitMB: s.cfg.memoryLimitInMB,
		MaxWorkers:    s.workerCap(),
		NodeArgs:      s.inspectArgs(),
		Warm:          warmWorkers,
		MaxResult:     maxJSResult,
		Late:          s.noteLate,
		URL:           s.URL,
		ClientID:      s.ClientID,
		CallerHeader:  callerHeader,
		CallerKey:     s.callerKey,
		SyncTimeout:   s.cfg.syncTimeout,
		AfterFunc:     s.clock.afterFunc,
	})
	if err != nil {
		return nil, err
	}
	s.js.pool = p
	return p, nil
}

// closeJS stops every Node process; Close calls it once no job runs.
func (s *Server) closeJS() {
	s.js.mu.Lock()
	p := s.js.pool
	s.js.closed = true
	s.js.mu.Unlock()
	if p != nil {
		p.Close()
	}
}

// jsFunc is where a JavaScript function's code lives.
type jsFunc struct {
	name    string
	file    string       // absolute
	root    string       // file, or the functions folder it was loaded from
	display string       // as errors name the file
	mapper  *stackMapper // a bundle's source map for its stacks and logs; nil for a plain file
}

// RegisterJS makes the JavaScript source callable as the function name,
// replacing any earlier one: source is one file whose exports.main is the
// function, as the platform runs it. It fails when Node.js cannot be found
// or is not a supported version (see [WithNode]), and when source does not
// parse, with Node's SyntaxError and its line: the function then stays as
// it was.
func (s *Server) RegisterJS(name, source string) error {
	if err := checkName(name); err != nil {
		return err
	}
	f, err := s.writeSource(name, source)
	if err != nil {
		return err
	}
	s.setJS(f, source, "JavaScript")
	return nil
}

// RegisterJSFile makes the JavaScript file at path callable as the
// function name, replacing any earlier one. The file may require files
// beside it with relative paths, and Node's built-in modules. It is read
// again when it is registered again. A file that does not parse is
// refused, with Node's SyntaxError and its line.
func (s *Server) RegisterJSFile(name, path string) error {
	if err := checkName(name); err != nil {
		return err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("emulator: function %s: %w", name, err)
	}
	if _, err := s.nodePool(); err == nil {
		if why := s.syntaxProblem(abs); why != "" {
			return fmt.Errorf("emulator: function %s does not load: %s", name, why)
		}
	}
	return s.registerFile(jsFunc{name: name, file: abs, root: abs, display: filepath.Base(abs)})
}

func (s *Server) registerFile(f jsFunc) error {
	code, err := os.ReadFile(f.file)
	if err != nil {
		return fmt.Errorf("emulator: function %s: %w", f.name, err)
	}
	if _, err := s.nodePool(); err != nil {
		return fmt.Errorf("emulator: function %s: %w", f.name, err)
	}
	s.setJS(f, string(code), "JavaScript: "+f.file)
	return nil
}

// writeSource puts source where Node can load it, under the pool's
// folder, as <gen>/<name>.js so that errors name the file <name>.js and a
// new version never changes the file an older one runs. The previous
// version's folder is removed.
func (s *Server) writeSource(name, source string) (jsFunc, error) {
	p, err := s.nodePool()
	if err != nil {
		return jsFunc{}, fmt.Errorf("emulator: function %s: %w", name, err)
	}
	dir := filepath.Join(p.Dir(), "functions", strconv.FormatInt(s.js.gen.Add(1), 10))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return jsFunc{}, err
	}
	file := filepath.Join(dir, name+".js")
	if err := os.WriteFile(file, []byte(source), 0o600); err != nil {
		os.RemoveAll(dir)
		return jsFunc{}, err
	}
	if why := s.syntaxProblem(file); why != "" { // the version before stays
		os.RemoveAll(dir)
		return jsFunc{}, fmt.Errorf("emulator: function %s does not load: %s", name, why)
	}
	s.js.mu.Lock()
	if s.js.sources == nil {
		s.js.sources = map[string]string{}
	}
	old := s.js.sources[name]
	s.js.sources[name] = dir
	s.js.mu.Unlock()
	if old != "" {
		os.RemoveAll(old)
	}
	return jsFunc{name: name, file: file, root: file, display: name + ".js"}, nil
}

// dropSource removes the code written for name, when a function is
// deleted: an emulator that creates and deletes functions for days must not
// keep their files.
func (s *Server) dropSource(name string) {
	s.js.mu.Lock()
	dir := s.js.sources[name]
	delete(s.js.sources, name)
	s.js.mu.Unlock()
	if dir != "" {
		os.RemoveAll(dir)
	}
}

// setJS installs f as the function, with code as its function_code for
// the Open API.
func (s *Server) setJS(f jsFunc, code, remark string) {
	fn := &jsFunction{srv: s, f: f, key: f.name + "@" + strconv.FormatInt(s.js.gen.Add(1), 10)}
	fn.once.Do(func() {}) // written already
	now := time.Now()
	s.mu.Lock()
	if old, ok := s.functions[f.name]; ok {
		old.h, old.js, old.code, old.updated = nil, fn, code, now
	} else {
		s.functions[f.name] = &fnRecord{name: f.name, js: fn, code: code, remark: remark, created: now, updated: now}
	}
	s.mu.Unlock()
}

// codeFunction is code given over the Open API. The code is written for
// Node on the first call, so that a create or update that fails writes
// nothing; without Node, every call answers why.
func (s *Server) codeFunction(name, code string) *jsFunction {
	return &jsFunction{srv: s, name: name, code: code}
}

// checkName refuses a name the platform or a functions folder cannot
// hold: the one rule of internal/fnroot, for RegisterJS, RegisterJSFile
// and functions created over the Open API alike.
func checkName(name string) error {
	if err := fnroot.CheckName(name); err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	return nil
}

// jsFunction is a JavaScript function as a job runs it: not a Go
// function.Handler but a runner of its own, since its Node worker, not
// the job, says when it started (the deadline counts from then), how much
// memory it used, and what its result's JSON is, which goes out as it
// came.
type jsFunction struct {
	srv  *Server
	name string // for code written on the first call
	code string

	once sync.Once
	f    jsFunc
	key  string // the version of the code: one set of workers each
	err  error  // why the code could not be written
}

// jsRun is how a JavaScript job ended.
type jsRun struct {
	status  string
	res     *Result
	mem     int64
	started time.Time // zero when no worker took the job
}

// run runs the job on a worker of the function: the event is the JSON a
// Go function gets, the log lines go into the job's log.
func (fn *jsFunction) run(j *job, ev *function.Event, timeout time.Duration) jsRun {
	s := fn.srv
	fn.once.Do(func() {
		fn.f, fn.err = s.writeSource(fn.name, fn.code)
		fn.key = fn.name + "@" + strconv.FormatInt(s.js.gen.Add(1), 10)
	})
	if fn.err != nil {
		return jsRun{status: StatusExecutionFailed, res: failure("Error", fn.err.Error(), "")}
	}
	p, err := s.nodePool()
	if err != nil {
		return jsRun{status: StatusExecutionFailed, res: failure("Error", err.Error(), "")}
	}
	event, err := json.Marshal(ev)
	if err != nil {
		return jsRun{status: StatusExecutionFailed, res: failure("Error", err.Error(), "")}
	}
	ctx := s.ctx
	r, err := p.Run(ctx, noderun.Job{
		ID: ev.JobID, Name: fn.f.name, Key: fn.key, File: fn.f.file, Root: fn.f.root, Display: fn.f.display,
		Event: event, Timeout: timeout, Wait: timeout,
		Log: func(l noderun.LogLine) {
			j.logh.Handle(ctx, slog.NewRecord(l.Time, levelOf(l.Level), fn.f.mapper.text(l.Message), 0))
		},
		Started: j.startAt,
	})
	var nw *noderun.NoWorkerError
	switch {
	case errors.As(err, &nw):
		return jsRun{status: StatusScheduleFailed, res: failure("Error", nw.Error(), "")}
	case err != nil && ctx.Err() != nil:
		return jsRun{status: StatusExecutionFailed, res: failure("Error", "job canceled: the emulator is closing", "")}
	case err != nil:
		return jsRun{status: StatusExecutionFailed, res: failure("Error", err.Error(), "")}
	}
	out := jsRun{status: StatusFulfilled, mem: r.Mem, started: r.Started}
	switch {
	case r.TimedOut:
		out.status, out.res = StatusDeadlineExceeded, timedOut(timeout)
	case r.Code != 0:
		fn.f.mapper.failure(r.Error)
		out.status, out.res = StatusExecutionFailed, failure(r.Error.Type, r.Error.Message, r.Error.Stack)
	default:
		// The result's JSON as Node gave it: encoded once, in the worker.
		out.res = &Result{Data: r.Data}
	}
	return out
}

// runJS runs a JavaScript job to its end and ends the job with its
// outcome. The job is waiting until its worker takes it; from then on it
// executes, and its deadline runs.
func (j *job) runJS(timeout time.Duration, answer func(res *Result, early bool)) {
	j.mu.Lock()
	fn, ev := j.js, j.event
	j.logh.job = j
	j.mu.Unlock()
	r := fn.run(j, ev, timeout)
	j.mu.Lock()
	j.rec.MemUsage = r.mem
	j.mu.Unlock()
	if j.finish(r.status, r.res) && answer != nil {
		answer(r.res, false)
	}
}

// noteLate adds to a job's record what code it left behind did after it
// ended (a log line, a second answer, a throw), if the record is still
// kept; it never goes into another job's. It takes the one path of every
// log line: the streams, the log output, the trace id, the cap.
func (s *Server) noteLate(id int64, l noderun.LogLine) {
	j, ok := s.records.get(id)
	if !ok {
		return
	}
	j.appendLog(l.Time.UTC().Format(logTimeFormat)+" "+l.Level+" (after the job ended) "+l.Message, true)
}

func levelOf(name string) slog.Level {
	switch name {
	case "WARN":
		return slog.LevelWarn
	case "ERROR":
		return slog.LevelError
	case "DEBUG":
		return slog.LevelDebug
	}
	return slog.LevelInfo
}
