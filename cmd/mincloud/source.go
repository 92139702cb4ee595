package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// The functions root holds each function as <root>/NAME.js or
// <root>/NAME/index.js, as the hosted CLI's does.

// checkFunctionName rejects a name that cannot be a file or a URL path
// segment of its own.
func checkFunctionName(cmd *cobra.Command, name string) error {
	if name == "" {
		return usageErr(cmd, "function name is required")
	}
	if strings.ContainsAny(name, `/\`) || name == "." || name == ".." || strings.HasPrefix(name, ".") {
		return usageErr(cmd, "function name %q is not valid: it may not hold / or \\, nor start with a dot", name)
	}
	return nil
}

// sourcePath returns the file that holds name's code, or "" when none.
func (a *app) sourcePath(name string) (string, error) {
	for _, p := range []string{filepath.Join(a.root, name+".js"), filepath.Join(a.root, name, "index.js")} {
		st, err := os.Stat(p)
		if err == nil && st.Mode().IsRegular() {
			return p, nil
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			return "", failed(err)
		}
	}
	return "", nil
}

// localFunctions lists the functions in the root, by name.
func (a *app) localFunctions() ([]string, error) {
	entries, err := os.ReadDir(a.root)
	if err != nil {
		return nil, failed(fmt.Errorf("cannot read the functions root: %w", err))
	}
	seen := map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		switch {
		case e.IsDir():
			if st, err := os.Stat(filepath.Join(a.root, name, "index.js")); err == nil && st.Mode().IsRegular() {
				seen[name] = true
			}
		case strings.HasSuffix(name, ".js") && e.Type().IsRegular():
			seen[strings.TrimSuffix(name, ".js")] = true
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}
