package main

import (
	"os/exec"
	"syscall"
)

// endsWithTest makes cmd receive SIGTERM when the test process dies, so
// that a `mincloud serve` of a test that panicked or was killed stops (and
// ends its Node workers) instead of living on as an orphan.
func endsWithTest(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
