package noderun

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Every process a worker starts, and the worker itself, carries the mark
// markVar=<pool folder>#<worker>#, inherited through the environment, so
// that what a function started is found and ended with its worker, with
// its pool, or by the next emulator after a crash, even when it left the
// worker's process group (detached: true).
const markVar = "MINCLOUD_WORKER"

// dirPrefix starts the name of a pool's folder in the temporary folder.
const dirPrefix = "mincloud-node-"

// mark is the mark of worker n's processes.
func (p *Pool) mark(n int64) string { return p.dir + "#" + strconv.FormatInt(n, 10) + "#" }

// ownerFile, in a pool's folder, says which process owns it: "<pid>
// <start>", start being what procStart says of it.
const ownerFile = "owner"

func writeOwner(dir string) error {
	pid := os.Getpid()
	return os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(pid)+" "+procStart(pid)), 0o600)
}

// cleanStale removes the folders of pools whose emulator is gone (killed,
// so that its Close never ran), ending what their functions left running.
// A folder without an owner is a moment old, or an older emulator's:
// kept, unless a day old.
func cleanStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			if st, err := os.Stat(dir); err == nil && time.Since(st.ModTime()) > 24*time.Hour {
				endMarked(dir + "#")
				os.RemoveAll(dir)
			}
			continue
		}
		pidText, start, _ := strings.Cut(string(b), " ")
		pid, err := strconv.Atoi(pidText)
		if err != nil || (pid != os.Getpid() && !alive(pid, start)) {
			endMarked(dir + "#")
			os.RemoveAll(dir)
		}
	}
}

// endDescendants ends every process marked with prefix: a worker's (its
// mark) or a pool's (its folder and "#").
func (p *Pool) endDescendants(prefix string) { endMarked(prefix) }
