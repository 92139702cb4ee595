package emulator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/mincloud-go/baas/emulator/bundle"
	"github.com/mincloud-go/baas/function"
	"github.com/mincloud-go/baas/internal/fnroot"
)

// LoadDir registers every function in dir, laid out as the hosted CLI
// lays out a functions folder: <name>.js or <name>/index.js, or the same
// in TypeScript (.ts). Each is bundled as deploy bundles it (see package
// bundle) and runs as that one file; a plain .js file that requires
// nothing but Node's built-ins runs as it is. A function that cannot be
// bundled (a syntax error, a package not installed) is registered all the
// same, so that one broken file does not stop the others, and its calls
// answer code 1 with esbuild's message. It returns the names it
// registered, sorted, and, when some of them do not load, an error
// joining a [*LoadError] for each, with esbuild's message and file:line.
// With no names, the folder could not be served at all.
func (s *Server) LoadDir(dir string) ([]string, error) {
	root, fns, err := listDir(dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(fns))
	var problems []error
	for _, f := range fns {
		d := buildFunc(root, f)
		if err := s.registerBuilt(root, d); err != nil {
			return nil, err
		}
		if d.err != nil {
			problems = append(problems, &LoadError{Function: f.Name, Problem: d.problem()})
		}
		names = append(names, f.Name)
	}
	return names, errors.Join(problems...)
}

// A LoadError is why one function of a functions folder does not load:
// it cannot be bundled. [Server.LoadDir]'s error joins one per such
// function, so that a caller can tell which of the names it returned are
// served but fail every call (mincloud serve suggests calling another).
type LoadError struct {
	Function string // the function's name
	Problem  string // esbuild's message, with file:line
}

func (e *LoadError) Error() string {
	return "emulator: function " + e.Function + " does not load: " + e.Problem
}

// listDir reads the functions of the folder dir, made absolute.
func listDir(dir string) (string, []fnroot.Function, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return "", nil, err
	}
	fns, err := fnroot.List(root)
	if err != nil {
		return "", nil, fmt.Errorf("emulator: cannot read the functions folder: %w", err)
	}
	return root, fns, nil
}

// dirFunc is a function of a functions folder as last bundled.
type dirFunc struct {
	fn  fnroot.Function
	b   *bundle.Bundle // nil when bundling failed
	err error          // why it failed
}

func buildFunc(root string, f fnroot.Function) dirFunc {
	b, err := bundle.Build(root, f.Name, f.File)
	return dirFunc{fn: f, b: b, err: err}
}

// problem is why d cannot be bundled, as a watcher reports it.
func (d dirFunc) problem() string {
	var be *bundle.Error
	if errors.As(d.err, &be) {
		return strings.Join(be.Messages, "; ")
	}
	return d.err.Error()
}

// touchedBy reports whether a change to any of the paths concerns d: one
// is a file its bundle took in, or a folder holding one. A function that
// could not be bundled is tried again on any change (the package it
// lacked installed, the syntax fixed).
func (d dirFunc) touchedBy(paths map[string]bool) bool {
	if d.err != nil {
		return len(paths) > 0
	}
	for _, in := range d.b.Inputs {
		if paths[in] {
			return true
		}
		for p := range paths {
			if strings.HasPrefix(in, p+string(filepath.Separator)) {
				return true
			}
		}
	}
	return false
}

// sameOutcome reports whether two builds of a function came out alike:
// the same bundle, or the same failure.
func sameOutcome(a, b dirFunc) bool {
	if a.err != nil || b.err != nil {
		return a.err != nil && b.err != nil && a.err.Error() == b.err.Error()
	}
	return bytes.Equal(a.b.Code, b.b.Code)
}

// registerBuilt makes d callable: a plain file runs as it is, a bundle
// from a file of its own under the pool's folder (the bytes deploy
// uploads), and a function that cannot be bundled answers why.
func (s *Server) registerBuilt(root string, d dirFunc) error {
	name := d.fn.Name
	rel := filepath.ToSlash(strings.TrimPrefix(d.fn.File, root+string(filepath.Separator)))
	if d.err != nil {
		s.dropBundles(name)
		code, _ := os.ReadFile(d.fn.File)
		s.setFailing(name, string(code), d.err.Error(), "JavaScript: "+d.fn.File)
		return nil
	}
	code := string(d.b.Code)
	if !d.b.Bundled {
		if _, err := s.nodePool(); err != nil {
			return fmt.Errorf("emulator: function %s: %w", name, err)
		}
		s.dropBundles(name)
		s.setJS(jsFunc{name: name, file: d.fn.File, root: d.fn.File, display: rel}, code, "JavaScript: "+d.fn.File)
		return nil
	}
	f, err := s.writeBundle(name, d.b.Code)
	if err != nil {
		return fmt.Errorf("emulator: function %s: %w", name, err)
	}
	f.display = rel
	f.mapper = newStackMapper(f.file, rel, root, d.b.Code)
	s.setJS(f, code, "JavaScript: "+d.fn.File+" (bundled)")
	return nil
}

// keptBundles is how many versions of a function's bundle stay on disk:
// a call that took the previous version's handler just before a reload
// still finds its file.
const keptBundles = 2

// writeBundle puts a bundle where Node runs it, as <gen>/<name>.js under
// the pool's folder, and removes versions older than keptBundles.
func (s *Server) writeBundle(name string, code []byte) (jsFunc, error) {
	p, err := s.nodePool()
	if err != nil {
		return jsFunc{}, err
	}
	dir := filepath.Join(p.Dir(), "bundles", strconv.FormatInt(s.js.gen.Add(1), 10))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return jsFunc{}, err
	}
	file := filepath.Join(dir, name+".js")
	if err := os.WriteFile(file, code, 0o600); err != nil {
		os.RemoveAll(dir)
		return jsFunc{}, err
	}
	s.js.mu.Lock()
	if s.js.bundles == nil {
		s.js.bundles = map[string][]string{}
	}
	dirs := append(s.js.bundles[name], dir)
	var old []string
	if len(dirs) > keptBundles {
		old, dirs = dirs[:len(dirs)-keptBundles], dirs[len(dirs)-keptBundles:]
	}
	s.js.bundles[name] = dirs
	s.js.mu.Unlock()
	for _, d := range old {
		os.RemoveAll(d)
	}
	return jsFunc{name: name, file: file, root: file}, nil
}

// dropBundles removes the bundles written for name, once it is removed
// or no longer bundled.
func (s *Server) dropBundles(name string) {
	s.js.mu.Lock()
	dirs := s.js.bundles[name]
	delete(s.js.bundles, name)
	s.js.mu.Unlock()
	for _, d := range dirs {
		os.RemoveAll(d)
	}
}

// sameCode reports whether name is registered with code already, as
// serve's LoadDir leaves it for WatchDir: registering it again would
// only make its next call load it anew.
func (s *Server) sameCode(name string, code []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.functions[name]
	return ok && f.code == string(code)
}

// setFailing installs a function whose every call answers code 1 with
// msg, with code as its function_code for the Open API.
func (s *Server) setFailing(name, code, msg, remark string) {
	h := func(context.Context, *function.Event) (any, error) {
		return nil, &function.Error{Type: "Error", Message: msg}
	}
	now := time.Now()
	s.mu.Lock()
	if old, ok := s.functions[name]; ok {
		old.h, old.js, old.code, old.updated = h, nil, code, now
	} else {
		s.functions[name] = &fnRecord{name: name, h: h, code: code, remark: remark, created: now, updated: now}
	}
	s.mu.Unlock()
}

// editorFile reports whether path is an editor's or a tool's scratch
// file (backup~, .#lock, .swp, .tmp, any dot file), which reloads nothing.
func editorFile(path string) bool {
	b := filepath.Base(path)
	return strings.HasPrefix(b, ".") || strings.HasSuffix(b, "~") ||
		strings.HasSuffix(b, ".swp") || strings.HasSuffix(b, ".tmp")
}

// watchSettle is how long a burst of file events is let settle before
// the folder is read again (an editor's save is several events).
const watchSettle = 100 * time.Millisecond

// WatchDir loads dir as [Server.LoadDir] does, then keeps the emulator in
// step with it until ctx ends. A change to a file a function's bundle took
// in (esbuild's metafile says which) rebuilds and reloads that function
// and no other, so the others keep their module state; a function added or
// removed takes effect for the next call; editor files (*~, .#*, *.swp,
// *.tmp, dot files) change nothing. report, when not nil, hears of each
// ("loaded helloWorld", "reloaded helloWorld", "removed helloWorld", or
// why a function cannot be bundled, with esbuild's file:line:
// "helloWorld does not load: helloWorld.js:2:1: ...").
//
// node_modules is watched at its top level only: a package installed
// there is seen, an edit deep inside one is not (save the function).
func (s *Server) WatchDir(ctx context.Context, dir string, report func(msg string)) error {
	if report == nil {
		report = func(string) {}
	}
	root, fns, err := listDir(dir)
	if err != nil {
		return err
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("emulator: cannot watch %s: %w", dir, err)
	}
	defer w.Close()
	if err := w.Add(root); err != nil {
		return fmt.Errorf("emulator: cannot watch %s: %w", dir, err)
	}
	have := make(map[string]dirFunc, len(fns))
	for _, f := range fns {
		d := buildFunc(root, f)
		if d.err != nil || !s.sameCode(f.Name, d.b.Code) {
			if err := s.registerBuilt(root, d); err != nil {
				return err
			}
		}
		if d.err != nil {
			report(f.Name + " does not load: " + d.problem())
		}
		have[f.Name] = d
	}
	watchFolders(w, root)

	changed := map[string]bool{}
	var settle <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			report("watch error: " + err.Error())
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if editorFile(ev.Name) || ev.Op == fsnotify.Chmod {
				continue
			}
			if ev.Has(fsnotify.Create) {
				if st, err := os.Stat(ev.Name); err == nil && st.IsDir() {
					watchFolders(w, ev.Name)
				}
			}
			changed[ev.Name] = true
			if settle == nil {
				settle = time.After(watchSettle)
			}
		case <-settle:
			settle = nil
			have = s.resync(root, have, changed, report)
			clear(changed)
			watchFolders(w, root)
		}
	}
}

// resync brings the registered functions in line with the folder after
// the files changed changed: it rebuilds the functions they concern and
// reloads those whose bundle came out different.
func (s *Server) resync(root string, have map[string]dirFunc, changed map[string]bool, report func(string)) map[string]dirFunc {
	fns, err := fnroot.List(root)
	if err != nil {
		report("cannot read the functions folder: " + err.Error())
		return have
	}
	now := make(map[string]dirFunc, len(fns))
	for _, f := range fns {
		old, known := have[f.Name]
		if known && old.fn == f && !old.touchedBy(changed) {
			now[f.Name] = old
			continue
		}
		d := buildFunc(root, f)
		if known && old.fn == f && sameOutcome(old, d) {
			now[f.Name] = d // saved unchanged, or failing as before: nothing to reload or report
			continue
		}
		if err := s.registerBuilt(root, d); err != nil {
			report(err.Error())
			if known {
				now[f.Name] = old
			}
			continue
		}
		now[f.Name] = d
		verb := "loaded "
		if known {
			verb = "reloaded "
		}
		if d.err != nil {
			// Registered all the same (its calls say why), but "loaded"
			// would contradict what follows.
			report(f.Name + " does not load: " + d.problem())
		} else {
			report(verb + f.Name)
		}
	}
	var gone []string
	for n := range have {
		if _, ok := now[n]; !ok {
			gone = append(gone, n)
		}
	}
	sort.Strings(gone)
	for _, n := range gone {
		s.removeFunction(n)
		report("removed " + n)
	}
	return now
}

// watchFolders adds every folder under root to the watcher, and the top
// of root's node_modules; adding one twice is harmless.
func watchFolders(w *fsnotify.Watcher, root string) {
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if p != root && fnroot.Ignored(d.Name()) {
			return filepath.SkipDir
		}
		w.Add(p)
		return nil
	})
	w.Add(filepath.Join(root, "node_modules")) // fails harmlessly when absent
}
