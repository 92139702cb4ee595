//go:build unix && !linux

package noderun

import (
	"os/exec"
	"syscall"
)

// configure gives the worker its own process group, so that killing it
// also ends any process the function started in it. Without Linux's
// parent-death signal, a worker ends when it reads EOF on its pipe from
// the emulator.
func configure(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

func kill(cmd *exec.Cmd) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	cmd.Process.Kill()
}

func processExists(pid int) bool { return syscall.Kill(pid, 0) == nil }
