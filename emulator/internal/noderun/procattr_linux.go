package noderun

import "syscall"

// procAttr asks Linux to kill the worker when the emulator's process dies,
// even by SIGKILL: a worker busy in a loop never reads the EOF on its pipe
// that otherwise ends it. (The signal follows the thread that started the
// worker; the Go runtime does not end threads of goroutines that did not
// lock one, and the pool starts workers from plain goroutines.)
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
