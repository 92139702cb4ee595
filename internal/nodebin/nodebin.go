// Package nodebin finds Node.js for the emulator and for the tests that
// need it, one way for both: the path given, else $MINCLOUD_NODE, else
// node on PATH; and what it finds must say it is a supported Node.js.
package nodebin

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MinMajor is the oldest Node.js major version the emulator's worker runs
// on: it needs AsyncLocalStorage (12.17) to tell one job's late work from
// the next job's. The platform runs Node 12 and later.
const MinMajor = 12

// Supported says which versions work, for error messages.
const Supported = "Node.js 12.17 or later (the platform runs Node 12 and later)"

// Node is a checked Node.js executable.
type Node struct {
	Path    string // absolute, or as found on PATH
	Version string // as `node --version` prints it, e.g. v20.20.2
}

var (
	mu    sync.Mutex
	found = map[string]Node{} // checked executables, by the path they were found at
)

// Find finds and checks Node.js: path if set, else $MINCLOUD_NODE, else
// node on PATH. The first check of an executable runs `node --version`
// once; later calls for the same file reuse the answer.
func Find(path string) (Node, error) {
	src := "given to emulator.WithNode"
	if path == "" {
		path, src = os.Getenv("MINCLOUD_NODE"), "from MINCLOUD_NODE"
	}
	if path == "" {
		path, src = "node", "on PATH"
	}
	exe, err := exec.LookPath(path)
	if err != nil {
		return Node{}, notFound(path, src, err)
	}
	mu.Lock()
	n, ok := found[exe]
	mu.Unlock()
	if ok {
		return n, nil
	}
	n, err = check(exe, src)
	if err != nil {
		return Node{}, err
	}
	mu.Lock()
	found[exe] = n
	mu.Unlock()
	return n, nil
}

// notFound says what is wrong with path: missing, or there but not a
// program, never "not found" for a file that exists.
func notFound(path, src string, err error) error {
	fix := "install Node.js (https://nodejs.org) and put node on PATH, or give its path with " +
		"MINCLOUD_NODE or emulator.WithNode; Go functions work without it"
	if strings.ContainsRune(path, os.PathSeparator) || strings.ContainsRune(path, '/') {
		if st, serr := os.Stat(path); serr == nil {
			what := "is not executable"
			if st.IsDir() {
				what = "is a folder"
			}
			return fmt.Errorf("JavaScript functions need Node.js, and %s (%s) %s: give the path of the node program; %s", path, src, what, fix)
		}
	}
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("JavaScript functions need Node.js, and %q (%s) was not found: %s%w", path, src, fix, errMissing)
	}
	return fmt.Errorf("JavaScript functions need Node.js, and %q (%s) cannot be used: %v; %s", path, src, err, fix)
}

// errMissing marks the error of a Node that is not there at all (as
// opposed to a file that is not Node.js); its text is empty so that it
// adds nothing to the message.
var errMissing = errors.New("")

// Missing reports whether err, from [Find], says that there is no file at
// all where Node was looked for: the machine has no Node, which only
// JavaScript functions need.
func Missing(err error) bool { return errors.Is(err, errMissing) }

// versionLine is what `node --version` prints.
var versionLine = regexp.MustCompile(`^v(\d+)\.(\d+)\.(\d+)\s*$`)

// check runs `exe --version` and reads the answer.
func check(exe, src string) (Node, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "--version")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	out, err := cmd.Output()
	text := strings.TrimSpace(string(out))
	if len(text) > 80 {
		text = text[:80] + "…"
	}
	m := versionLine.FindStringSubmatch(string(out))
	if err != nil || m == nil {
		said := "printed nothing"
		if text != "" {
			said = fmt.Sprintf("printed %q", text)
		}
		if err != nil {
			said += " and failed (" + err.Error() + ")"
		}
		return Node{}, fmt.Errorf("%s (%s) is not Node.js: `%s --version` %s; the emulator needs %s", exe, src, exe, said, Supported)
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	if major < MinMajor || (major == MinMajor && minor < 17) {
		return Node{}, fmt.Errorf("%s (%s) is Node.js %s, which the emulator cannot run: it needs %s", exe, src, text, Supported)
	}
	return Node{Path: exe, Version: text}, nil
}
