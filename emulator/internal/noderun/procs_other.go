//go:build !linux

package noderun

import (
	"os"
	"os/exec"
)

// Without Linux's /proc and subreaper, a worker's process group is what
// is ended with it; a detached process a function starts may outlive it.

func takeOrphans()         {}
func reapOrphans()         {}
func endMarked(string)     {}
func addWorker(int)        {}
func dropWorker(int)       {}
func procStart(int) string { return "" }

// alive says whether pid runs; elsewhere than Linux the start time is not
// known, so a reused pid counts as alive, and its folder is kept.
func alive(pid int, _ string) bool { return processExists(pid) }

func residentMemory(*exec.Cmd) int64 { return 0 }

// peekPipes: elsewhere the pipes are not asked.
const peekPipes = false

// unread is 0: elsewhere the pipes are not asked.
func unread(*os.File) int { return 0 }
