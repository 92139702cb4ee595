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

// writeOwner writes the owner file whole or not at all (a temporary file
// renamed): another emulator's cleanStale, reading it meanwhile, must
// never see it empty and take the folder for a dead one's.
func writeOwner(dir string) error {
	pid := os.Getpid()
	tmp := filepath.Join(dir, ownerFile+".tmp")
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(pid)+" "+procStart(pid)), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, ownerFile))
}

// cleanStale removes the folders of pools whose emulator is gone (killed,
// so that its Close never ran), ending what their functions left running.
// A folder without an owner is a moment old, or an older emulator's:
// kept, unless a day old.
func cleanStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, ownerFile))
		pidText, start, _ := strings.Cut(string(b), " ")
		pid, perr := strconv.Atoi(pidText)
		if err != nil || perr != nil {
			if st, err := os.Stat(dir); err == nil && time.Since(st.ModTime()) > 24*time.Hour {
				endMarked(dir + "#")
				os.RemoveAll(dir)
			}
			continue
		}
		if pid != os.Getpid() && !alive(pid, start) {
			endMarked(dir + "#")
			os.RemoveAll(dir)
		}
	}
}

// endDescendants ends every process marked with prefix: a worker's (its
// mark) or a pool's (its folder and "#").
func (p *Pool) endDescendants(prefix string) { endMarked(prefix) }
