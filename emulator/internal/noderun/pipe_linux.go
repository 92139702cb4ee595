//go:build linux

package noderun

import (
	"os"
	"syscall"
)

// answerPipe makes the pipe a worker's answers come back on. Its read end
// is left blocking, outside Go's poller: the goroutine that waits for an
// answer then sleeps in read(2) and the kernel wakes that very thread when
// the answer is written, which saves a wake-up through the poller and
// another thread on every job.
func answerPipe() (r, w *os.File, err error) {
	var fds [2]int
	err = syscall.Pipe2(fds[:], syscall.O_CLOEXEC)
	if err != nil {
		return nil, nil, os.NewSyscallError("pipe2", err)
	}
	return os.NewFile(uintptr(fds[0]), "|0"), os.NewFile(uintptr(fds[1]), "|1"), nil
}
