package emulator

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/mincloud-go/baas/internal/fnroot"
)

// LoadDir registers every function in dir, laid out as the hosted CLI
// lays out a functions folder: <name>.js, or <name>/index.js (which may
// require files beside it). It returns the names it loaded, sorted. When
// both forms name one function, <name>/index.js wins. A function file
// that does not parse fails the load, with Node's SyntaxError and its line.
func (s *Server) LoadDir(dir string) ([]string, error) {
	found, err := scanDir(dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(found))
	for name, f := range found {
		if why := s.syntaxProblem(f.file); why != "" {
			return nil, fmt.Errorf("emulator: function %s does not load: %s", name, why)
		}
		if err := s.registerFile(f.jsFunc); err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	sort.Strings(names)
	return names, nil
}

// dirFunc is a function found in a functions folder, with a fingerprint
// of its files to tell when it changed.
type dirFunc struct {
	jsFunc
	sum string // the function's files and the folder's shared ones
	own string // the function's own file
}

// scanDir finds the functions in dir.
func scanDir(dir string) (map[string]dirFunc, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	fns, err := fnroot.List(abs)
	if err != nil {
		return nil, fmt.Errorf("emulator: cannot read the functions folder: %w", err)
	}
	entries, err := os.ReadDir(abs)
	if err != nil {
		return nil, fmt.Errorf("emulator: cannot read the functions folder: %w", err)
	}
	// A function may require any file of the folder (./shared.js from
	// <name>.js, ../shared.js from <name>/index.js), so every function's
	// fingerprint takes in the folder's top-level files and the subfolders
	// that are not functions, and its cached modules are the folder's.
	ownFolder := map[string]bool{}
	for _, f := range fns {
		ownFolder[f.Name] = f.Dir
	}
	shared := sha256.New()
	for _, e := range entries {
		if fnroot.Ignored(e.Name()) || (e.IsDir() && ownFolder[e.Name()]) {
			continue
		}
		io.WriteString(shared, fingerprint(filepath.Join(abs, e.Name())))
	}
	common := fmt.Sprintf("%x", shared.Sum(nil))
	found := make(map[string]dirFunc, len(fns))
	for _, f := range fns {
		jf := jsFunc{name: f.Name, file: f.File, root: abs, display: f.Name + ".js"}
		sum := common
		if f.Dir {
			jf.display = f.Name + "/index.js"
			sum = fingerprint(filepath.Dir(f.File)) + common
		}
		found[f.Name] = dirFunc{jsFunc: jf, sum: sum, own: fingerprint(f.File)}
	}
	return found, nil
}

// fingerprint hashes the files under path (a file or a folder).
func fingerprint(path string) string {
	h := sha256.New()
	filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if p != path && fnroot.Ignored(d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return nil
		}
		defer f.Close()
		io.WriteString(h, p+"\x00")
		io.Copy(h, f)
		return nil
	})
	return fmt.Sprintf("%x", h.Sum(nil))
}

// syntaxProblem asks Node to parse file without running it, so that a
// watcher can say at once that a saved file does not load, instead of at
// the next call. It returns Node's first line of complaint, or "".
func (s *Server) syntaxProblem(file string) string {
	out, failed := s.checkSyntax(file)
	if !failed {
		return ""
	}
	// Node prints "<file>:<line>", the code, a caret, then "SyntaxError: ...".
	var where, what string
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case where == "" && strings.HasPrefix(line, file+":"):
			where = filepath.Base(file) + strings.TrimPrefix(line, file)
		case what == "" && strings.Contains(line, "Error: "):
			what = strings.TrimSpace(line)
		}
	}
	if what == "" {
		return strings.TrimSpace(string(out))
	}
	if where != "" {
		return what + " (" + where + ")"
	}
	return what
}

// watchSettle is how long a burst of file events is let settle before
// the folder is read again (an editor's save is several events).
const watchSettle = 100 * time.Millisecond

// WatchDir loads dir as [Server.LoadDir] does, then keeps the emulator in
// step with it until ctx ends: a function added, changed or removed takes
// effect for the next call, and report, when not nil, hears of each
// ("loaded helloWorld", "reloaded helloWorld", "removed helloWorld", or
// why a function could not be loaded).
func (s *Server) WatchDir(ctx context.Context, dir string, report func(msg string)) error {
	if report == nil {
		report = func(string) {}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("emulator: cannot watch %s: %w", dir, err)
	}
	defer w.Close()
	if err := w.Add(abs); err != nil {
		return fmt.Errorf("emulator: cannot watch %s: %w", dir, err)
	}
	have, err := scanDir(abs)
	if err != nil {
		return err
	}
	for _, f := range have {
		if err := s.registerFile(f.jsFunc); err != nil {
			return err
		}
	}
	watchFolders(w, abs)

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
			if ev.Has(fsnotify.Create) {
				if st, err := os.Stat(ev.Name); err == nil && st.IsDir() {
					watchFolders(w, ev.Name)
				}
			}
			if settle == nil {
				settle = time.After(watchSettle)
			}
		case <-settle:
			settle = nil
			have = s.resync(abs, have, report)
			watchFolders(w, abs)
		}
	}
}

// resync brings the registered functions in line with the folder.
func (s *Server) resync(dir string, have map[string]dirFunc, report func(string)) map[string]dirFunc {
	now, err := scanDir(dir)
	if err != nil {
		report(err.Error())
		return have
	}
	names := make([]string, 0, len(now))
	for n := range now {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f := now[n]
		old, known := have[n]
		if known && old.sum == f.sum && old.file == f.file {
			continue
		}
		if err := s.registerFile(f.jsFunc); err != nil {
			report(err.Error())
			delete(now, n)
			continue
		}
		verb := "loaded "
		if known {
			verb = "reloaded "
		}
		// Parse only a file that changed: a shared file reloads every
		// function, and a Node process per function would slow each save.
		problem := ""
		if !known || old.own != f.own {
			problem = s.syntaxProblem(f.file)
		}
		if problem != "" {
			report(verb + n + ", but it does not load: " + problem)
		} else {
			report(verb + n)
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
		s.mu.Lock()
		delete(s.functions, n)
		s.mu.Unlock()
		report("removed " + n)
	}
	return now
}

// watchFolders adds every folder under root to the watcher; adding one
// twice is harmless.
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
}
