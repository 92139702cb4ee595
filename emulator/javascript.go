package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mincloud-go/baas/emulator/internal/noderun"
	"github.com/mincloud-go/baas/function"
	"github.com/mincloud-go/baas/internal/fnroot"
)

// jsState is the emulator's Node side: the worker pool, started with the
// first JavaScript function and stopped by Close.
type jsState struct {
	mu      sync.Mutex
	pool    *noderun.Pool
	closed  bool
	sources map[string]string   // function name → folder of its written source
	bundles map[string][]string // function name → folders of its bundles, newest last (jsdir.go)
	gen     atomic.Int64        // gives every registration of code its own key
}

// warmWorkers is how many idle Node workers are kept started ahead.
const warmWorkers = 2

// nodePool returns the worker pool, starting it on first use.
func (s *Server) nodePool() (*noderun.Pool, error) {
	s.js.mu.Lock()
	defer s.js.mu.Unlock()
	if s.js.closed {
		return nil, errors.New("the emulator is closed")
	}
	if s.js.pool != nil {
		return s.js.pool, nil
	}
	node, err := noderun.LookNode(s.cfg.nodePath)
	if err != nil {
		return nil, err
	}
	p, err := noderun.New(noderun.Config{
		Node:          node,
		MemoryLimitMB: s.cfg.memoryLimitInMB,
		MaxWorkers:    s.workerCap(),
		Warm:          warmWorkers,
		NodeArgs:      s.inspectArgs(),
		URL:           s.URL,
		ClientID:      s.ClientID,
		CallerHeader:  callerHeader,
		CallerKey:     s.callerKey,
		SyncTimeout:   s.cfg.syncTimeout,
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
// (see [WithNode]).
func (s *Server) RegisterJS(name, source string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if err := fnroot.CheckName(name); err != nil {
		return fmt.Errorf("emulator: %w", err)
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
// again when it is registered again.
func (s *Server) RegisterJSFile(name, path string) error {
	if err := checkName(name); err != nil {
		return err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("emulator: function %s: %w", name, err)
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

// setJS installs f as the function's handler, with code as its
// function_code for the Open API.
func (s *Server) setJS(f jsFunc, code, remark string) {
	h := s.jsHandler(f, f.name+"@"+strconv.FormatInt(s.js.gen.Add(1), 10))
	now := time.Now()
	s.mu.Lock()
	if old, ok := s.functions[f.name]; ok {
		old.h, old.code, old.updated = h, code, now
	} else {
		s.functions[f.name] = &fnRecord{name: f.name, h: h, code: code, remark: remark, created: now, updated: now}
	}
	s.mu.Unlock()
}

// codeHandler runs code given over the Open API. The code is written for
// Node on the first call, so that a create or update that fails writes
// nothing; without Node, every call answers why.
func (s *Server) codeHandler(name, code string) function.Handler {
	var (
		once sync.Once
		h    function.Handler
	)
	return func(ctx context.Context, ev *function.Event) (any, error) {
		once.Do(func() {
			f, err := s.writeSource(name, code)
			if err != nil {
				h = func(context.Context, *function.Event) (any, error) {
					return nil, &function.Error{Type: "Error", Message: err.Error()}
				}
				return
			}
			h = s.jsHandler(f, name+"@"+strconv.FormatInt(s.js.gen.Add(1), 10))
		})
		return h(ctx, ev)
	}
}

func checkName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) {
		return fmt.Errorf("emulator: %q is not a function name: give a non-empty name without / or \\", name)
	}
	return nil
}

// jsHandler is the function.Handler that runs f in a Node worker: the
// event is the JSON a Go function gets, the log lines go into the job's
// log, and the worker's memory is the job's mem_usage.
func (s *Server) jsHandler(f jsFunc, key string) function.Handler {
	return func(ctx context.Context, ev *function.Event) (any, error) {
		p, err := s.nodePool()
		if err != nil {
			return nil, &function.Error{Type: "Error", Message: err.Error()}
		}
		event, err := json.Marshal(ev)
		if err != nil {
			return nil, err
		}
		logger := function.Logger(ctx).Handler()
		res, err := p.Run(ctx, noderun.Job{
			ID: ev.JobID, Name: f.name, Key: key, File: f.file, Root: f.root, Display: f.display,
			Event: event,
			Log: func(l noderun.LogLine) {
				logger.Handle(ctx, slog.NewRecord(l.Time, levelOf(l.Level), f.mapper.text(l.Message), 0))
			},
		})
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err() // the job already ended at its deadline
			}
			return nil, &function.Error{Type: "Error", Message: err.Error()}
		}
		if box, ok := ctx.Value(memKey{}).(*atomic.Int64); ok {
			box.Store(res.Mem)
		}
		if res.Code != 0 {
			f.mapper.failure(res.Error)
			return nil, &function.Error{Type: res.Error.Type, Message: res.Error.Message, Stack: res.Error.Stack}
		}
		return res.Data, nil
	}
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

// memKey carries a job's memory box: a handler that knows its memory
// better than the Go heap does (a Node worker) stores it there.
type memKey struct{}

func withMemReport(ctx context.Context, box *atomic.Int64) context.Context {
	return context.WithValue(ctx, memKey{}, box)
}
