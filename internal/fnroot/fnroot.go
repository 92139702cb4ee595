// Package fnroot reads a functions folder as the hosted CLI lays it out:
// each function is <root>/NAME.js or <root>/NAME/index.js. The emulator's
// folder loader and the mincloud command's deploy read it through here, so
// that both pick the same file for a function.
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
	File string // <root>/NAME/index.js or <root>/NAME.js
	Dir  bool   // File is NAME/index.js
}

// Ignored reports whether an entry of the folder is never a function nor
// code of one: dot files and node_modules.
func Ignored(name string) bool { return strings.HasPrefix(name, ".") || name == "node_modules" }

// Find returns name's function in root, or ok false when root holds none.
// NAME/index.js wins over NAME.js when both exist.
func Find(root, name string) (f Function, ok bool, err error) {
	for _, c := range []Function{
		{Name: name, File: filepath.Join(root, name, "index.js"), Dir: true},
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
		} else if base, js := strings.CutSuffix(name, ".js"); js && base != "" {
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
