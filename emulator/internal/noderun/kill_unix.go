//go:build unix

package noderun

import (
	"os/exec"
	"syscall"
)

// configure gives the worker its own process group, so that killing it
// also ends any process the function started.
func configure(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

func kill(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	cmd.Process.Kill()
}
