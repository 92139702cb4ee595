//go:build unix && !linux

package noderun

import "syscall"

// procAttr: without Linux's parent-death signal, a worker ends when it
// reads EOF on its pipe from the emulator.
func procAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
