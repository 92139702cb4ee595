//go:build unix

package noderun

import (
	"os/exec"
	"syscall"
)

// configure gives the worker its own process group, so that killing it
// also ends any process the function started, and where the system can,
// ties the worker's life to the emulator's (see procAttr).
func configure(cmd *exec.Cmd) { cmd.SysProcAttr = procAttr() }

func kill(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	cmd.Process.Kill()
}
