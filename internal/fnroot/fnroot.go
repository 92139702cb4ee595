// Package fnroot reads a functions folder as the hosted CLI lays it out:
// each function is <root>/NAME.js or <root>/NAME/index.js, or the same
// in TypeScript (.ts), which is bundled before it runs. The emulator's
// folder loader and the mincloud command's deploy and build read it
// through here, so that all pick the same file for a function.
package fnroot

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// Function is one function found in a folder.
type Function struct {
	Name string
	File string // <root>/NAME/index.{ts,js} or <root>/NAME.{ts,js}
	Dir  bool   // File is NAME/index.ts or NAME/index.js
}

// Ignored reports whether an entry of the folder is never a function nor
// code of one: dot files and node_modules.
func Ignored(name string) bool { return strings.HasPrefix(name, ".") || name == "node_modules" }

// Find returns name's function in root, or ok false when root holds none.
// The first of NAME/index.ts, NAME/index.js, NAME.ts and NAME.js wins: a
// folder over a file, as before TypeScript, and a .ts over the .js that
// tsc may have written beside it.
func Find(root, name string) (f Function, ok bool, err error) {
	for _, c := range []Function{
		{Name: name, File: filepath.Join(root, name, "index.ts"), Dir: true},
		{Name: name, File: filepath.Join(root, name, "index.js"), Dir: true},
		{Name: name, File: filepath.Join(root, name+".ts")},
		{Name: name, File: filepath.Join(root, name+".js")},
	} {
		st, err := os.Stat(c.File)
		if err == nil && st.Mode().IsRegular() {
			return c, true, nil
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			return Function{}, false, err
		}
	}
	return Function{}, false, nil
}

// List returns the functions in root, sorted by name.
func List(root string) ([]Function, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []Function
	for _, e := range entries {
		name, ok := e.Name(), false
		if Ignored(name) {
			continue
		}
		if e.IsDir() {
			ok = true
		} else if base, ext := cutSource(name); ext && base != "" {
			name, ok = base, true
		}
		if !ok || seen[name] {
			continue
		}
		f, found, err := Find(root, name)
		if err != nil {
			return nil, err
		}
		if found {
			seen[name] = true
			out = append(out, f)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// cutSource cuts a function file's extension (.js or .ts) off name. A
// TypeScript declaration file (x.d.ts) is no function.
func cutSource(name string) (string, bool) {
	if strings.HasSuffix(name, ".d.ts") {
		return "", false
	}
	if base, ok := strings.CutSuffix(name, ".js"); ok {
		return base, true
	}
	return strings.CutSuffix(name, ".ts")
}
