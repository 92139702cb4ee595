package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mincloud-go/baas/internal/nodetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// procsWith lists the live processes whose command line holds arg.
func procsWith(arg string) []string {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var out []string
	for _, d := range dirs {
		b, err := os.ReadFile(d + "/cmdline")
		if err != nil || !strings.Contains(string(b), arg) {
			continue
		}
		if stat, _ := os.ReadFile(d + "/stat"); strings.Contains(string(stat), ") Z ") {
			continue // ended, not yet reaped
		}
		out = append(out, filepath.Base(d)+" "+strings.ReplaceAll(string(b), "\x00", " "))
	}
	return out
}

// After SIGTERM or SIGINT, serve leaves no process a function started: an unref'd
// child, a detached one, and one whose parent shell has exited.
func TestServeSIGTERMAndSIGINTEndWhatFunctionsStarted(t *testing.T) {
	t.Parallel()
	nodetest.Need(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			serveStopsWith(t, sig)
		})
	}
}

// serveStopsWith runs serve, has a function start an unref'd, a detached
// and an orphaned child, stops serve with sig and checks none is left.
func serveStopsWith(t *testing.T, sig syscall.Signal) {
	tag := fmt.Sprintf("%d%d%d", os.Getpid(), int(sig), time.Now().UnixNano()%1e6)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "spawner.js"), []byte(`const { spawn } = require('child_process')
exports.main = async () => {
  spawn('sleep', ['311`+tag+`'], { stdio: 'ignore' }).unref()
  spawn('sleep', ['312`+tag+`'], { stdio: 'ignore', detached: true }).unref()
  spawn('sh', ['-c', 'sleep 313`+tag+` & exit 0'], { stdio: 'ignore', detached: true }).unref()
  await new Promise(r => setTimeout(r, 300))
  return 'spawned'
}`), 0o644))
	srv, err := startServe("--client-id", "serve-procs", "--functions", dir)
	require.NoError(t, err)
	c := newCLI(t).onBinary() // in parallel: the built binary, not t.Setenv
	c.env = []string{"MINCLOUD_HOST=" + srv.url, "MINCLOUD_CLIENT_ID=serve-procs"}
	r := c.run("invoke", "spawner", "--json")
	require.Equal(t, 0, r.code, r)
	require.Len(t, procsWith(tag), 3, "the children run while serve does")

	require.NoError(t, srv.cmd.Process.Signal(sig))
	select {
	case <-srv.done:
	case <-time.After(time.Minute):
		srv.cmd.Process.Kill()
		t.Fatalf("serve did not stop on %v", sig)
	}
	assert.Empty(t, procsWith(tag), "processes left after %v", sig)
}
