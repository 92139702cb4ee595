package noderun

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// configure gives the worker its own process group, so that killing it
// also ends any process the function started in it, and asks Linux to
// kill the worker when the emulator's process dies, even by SIGKILL: a
// worker busy in a loop never reads the EOF on its pipe that otherwise
// ends it. (The signal follows the thread that started the worker; the Go
// runtime does not end threads of goroutines that did not lock one, and
// the pool starts workers from plain goroutines.)
func configure(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func kill(cmd *exec.Cmd) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	cmd.Process.Kill()
}

var subreaper sync.Once

// prSetChildSubreaper is PR_SET_CHILD_SUBREAPER of prctl(2).
const prSetChildSubreaper = 36

// takeOrphans makes the emulator's process the subreaper of what its
// workers start: a process whose parent ends comes to it rather than to
// init, stays findable, and is reaped by it (reapOrphans).
func takeOrphans() {
	subreaper.Do(func() { syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0) })
}

// orphans are marked processes that came to this process as their
// subreaper, to be reaped once they end.
var orphans = struct {
	sync.Mutex
	pids map[int]bool
}{pids: map[int]bool{}}

// procInfo reads a process's parent and state from /proc/<pid>/stat.
func procInfo(pid int) (ppid int, state byte, start string, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, "", false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return 0, 0, "", false
	}
	f := strings.Fields(string(b[i+2:]))
	if len(f) < 20 {
		return 0, 0, "", false
	}
	ppid, _ = strconv.Atoi(f[1])
	return ppid, f[0][0], f[19], true
}

// procStart is when a process started, in clock ticks since boot: with
// its pid, it names the process even after its pid is reused.
func procStart(pid int) string {
	_, _, start, _ := procInfo(pid)
	return start
}

func alive(pid int, start string) bool {
	_, state, s, ok := procInfo(pid)
	return ok && state != 'Z' && s == start
}

// marked lists the live processes whose environment carries a mark
// starting with prefix.
func marked(prefix string) []int {
	want := []byte(markVar + "=" + prefix)
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var pids []int
	me := os.Getpid()
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil || pid == me {
			continue
		}
		env, err := os.ReadFile(d + "/environ")
		if err != nil {
			continue
		}
		for _, kv := range bytes.Split(env, []byte{0}) {
			if bytes.HasPrefix(kv, want) {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}

// endMarked kills every process marked with prefix, until none is left
// (a process may start another while the first round runs), and reaps
// those that came to this process.
func endMarked(prefix string) {
	var killed []int
	for round := 0; round < 5; round++ {
		pids := marked(prefix)
		if len(pids) == 0 {
			break
		}
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		killed = append(killed, pids...)
		time.Sleep(time.Duration(round) * 5 * time.Millisecond)
	}
	if len(killed) == 0 {
		return
	}
	// A killed process whose parent is gone is this process's child now:
	// reap it, or it stays a zombie for the emulator's life.
	me := os.Getpid()
	deadline := time.Now().Add(time.Second)
	for len(killed) > 0 && time.Now().Before(deadline) {
		left := killed[:0]
		for _, pid := range killed {
			ppid, state, _, ok := procInfo(pid)
			switch {
			case !ok:
			case ppid == me && state == 'Z' && !isWorker(pid):
				var ws syscall.WaitStatus
				syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
			case state == 'Z' && ppid != me:
				// Its parent, being killed too, or gone to init, reaps it.
			default:
				left = append(left, pid)
			}
		}
		killed = left
		if len(killed) > 0 {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// workers are the pids of the workers every pool of this process
// started: their exec.Cmd reaps them, never reapOrphans.
var workers = struct {
	sync.Mutex
	pids map[int]bool
}{pids: map[int]bool{}}

func isWorker(pid int) bool {
	workers.Lock()
	defer workers.Unlock()
	return workers.pids[pid]
}

func addWorker(pid int) {
	workers.Lock()
	workers.pids[pid] = true
	workers.Unlock()
}

func dropWorker(pid int) {
	workers.Lock()
	delete(workers.pids, pid)
	workers.Unlock()
}

// reapOrphans reaps the marked processes that came to this process and
// have ended since, and notes the ones that came; the pools call it now
// and then, so that a function's finished background processes do not
// stay zombies for the emulator's life.
func reapOrphans() {
	me := os.Getpid()
	for _, pid := range marked("") {
		if ppid, _, _, ok := procInfo(pid); ok && ppid == me && !isWorker(pid) {
			orphans.Lock()
			orphans.pids[pid] = true
			orphans.Unlock()
		}
	}
	orphans.Lock()
	defer orphans.Unlock()
	for pid := range orphans.pids {
		ppid, state, _, ok := procInfo(pid)
		switch {
		case !ok || ppid != me:
			delete(orphans.pids, pid)
		case state == 'Z':
			var ws syscall.WaitStatus
			syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
			delete(orphans.pids, pid)
		}
	}
}

// residentMemory reads a process's resident memory, bytes; 0 if unknown.
func residentMemory(cmd *exec.Cmd) int64 {
	if cmd == nil || cmd.Process == nil {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// peekPipes says unread can tell how much of a pipe is unread.
const peekPipes = true

// unread is how many bytes wait in a pipe (either end); 0 when unknown.
func unread(f *os.File) int {
	if f == nil {
		return 0
	}
	sc, err := f.SyscallConn()
	if err != nil {
		return 0
	}
	n := 0
	sc.Control(func(fd uintptr) {
		var v int32
		if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&v))); e == 0 {
			n = int(v)
		}
	})
	return n
}
