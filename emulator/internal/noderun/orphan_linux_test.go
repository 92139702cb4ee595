package noderun

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mincloud-go/baas/internal/nodebin"
	"github.com/mincloud-go/baas/internal/nodetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// orphanHelperEnv makes the test binary act as an emulator that dies
// while its worker is busy in a loop: see TestWorkerDiesWithTheEmulator.
const orphanHelperEnv = "NODERUN_ORPHAN_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(orphanHelperEnv) != "" {
		orphanHelper()
		return
	}
	os.Exit(m.Run())
}

// orphanHelper starts a pool, sets a job spinning, prints the worker's pid
// and waits to be killed.
func orphanHelper() {
	node, err := nodebin.Find("")
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	p, err := New(Config{Node: node.Path, MaxWorkers: 1, Warm: 1})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	f := p.Dir() + "/spin.js"
	os.WriteFile(f, []byte("exports.main = function () { for (;;) {} }"), 0o600)
	go p.Run(context.Background(), Job{ID: 1, Name: "spin", Key: "spin", File: f, Root: f, Display: "spin.js", Event: []byte(`{}`)})
	for range 500 {
		if pid := busyWorkerPID(p); pid != 0 {
			time.Sleep(300 * time.Millisecond) // the job reaches its loop
			fmt.Println("worker", pid, p.Dir())
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {}
}

// busyWorkerPID is the pid of a worker that holds a job, or 0.
func busyWorkerPID(p *Pool) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for w := range p.all {
		w.mu.Lock()
		busy := w.job != nil
		w.mu.Unlock()
		if busy && w.cmd.Process != nil {
			return w.cmd.Process.Pid
		}
	}
	return 0
}

// A worker stuck in a loop never reads the EOF that tells it the emulator
// is gone; it must still end when the emulator's process is killed.
func TestWorkerDiesWithTheEmulator(t *testing.T) {
	nodetest.Need(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), orphanHelperEnv+"=1")
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	rest, ok := strings.CutPrefix(strings.TrimSpace(line), "worker ")
	require.True(t, ok, "helper said %q", line)
	pidText, dir, _ := strings.Cut(rest, " ")
	pid, err := strconv.Atoi(pidText)
	require.NoError(t, err)

	// The folder is there while its emulator lives. Once the emulator is
	// killed, any emulator that starts may remove it, another test
	// binary's as well as the one below, so it is looked at before.
	_, err = os.Stat(dir)
	require.NoError(t, err, "the living emulator's folder %q", dir)
	require.NoError(t, cmd.Process.Kill()) // SIGKILL: no Close, no clean-up
	cmd.Wait()
	require.Eventually(t, func() bool {
		// Signal 0 probes. A dead worker may stay a zombie: this test's
		// process is a subreaper once one of its pools has started (the
		// emulator adopts what its workers leave), and it does not reap
		// another emulator's orphans. A zombie runs nothing.
		return syscall.Kill(pid, 0) != nil || zombie(pid)
	}, 10*time.Second, 20*time.Millisecond, "worker %d outlived the emulator", pid)

	// The next emulator to start removes the killed one's folder.
	newPool(t, Config{MaxWorkers: 1})
	_, err = os.Stat(dir)
	assert.True(t, os.IsNotExist(err), "the killed emulator's folder is left: %v", err)
}

// zombie reports whether pid has ended and waits to be reaped.
func zombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// "pid (comm) S ...": the state follows the last ')'.
	i := strings.LastIndexByte(string(b), ')')
	return i >= 0 && i+2 < len(b) && b[i+2] == 'Z'
}
