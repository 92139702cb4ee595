package noderun

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mincloud-go/baas/internal/testclock"
)

// markedPIDs lists live processes marked with prefix.
func markedPIDs(t *testing.T, prefix string) []int {
	t.Helper()
	var live []int
	for _, pid := range marked(prefix) {
		if _, state, _, ok := procInfo(pid); ok && state != 'Z' {
			live = append(live, pid)
		}
	}
	return live
}

// A worker stopped by the idle reaper ends what its function started,
// in its process group or not.
func TestPoolIdleReaperEndsWhatTheWorkerStarted(t *testing.T) {
	t.Parallel()
	clock := testclock.New(time.Now())
	p := newPool(t, withClock(Config{MaxWorkers: 2, IdleTimeout: 30 * time.Second}, clock))
	job := jsJob(t, p, "spawner", `const { spawn } = require('child_process')
exports.main = async () => {
  spawn('sleep', ['600'], { stdio: 'ignore' }).unref()
  spawn('sleep', ['601'], { stdio: 'ignore', detached: true }).unref()
  return 'ok'
}`)
	res, _ := logOf(t, p, job)
	require.Equal(t, `"ok"`, string(res.Data))
	require.Eventually(t, func() bool { return len(markedPIDs(t, p.dir+"#")) == 3 }, time.Minute, 10*time.Millisecond,
		"the worker and its two children")
	clock.Advance(31 * time.Second) // the worker idles out
	require.Eventually(t, func() bool { return p.Workers() == 0 }, time.Minute, 10*time.Millisecond)
	require.Eventually(t, func() bool { return len(markedPIDs(t, p.dir+"#")) == 0 }, time.Minute, 10*time.Millisecond,
		"processes of the reaped worker left")
}

// The folder and the processes of an emulator that was killed are
// removed by the next one; a living emulator's folder is kept.
func TestPoolCleansUpAfterAKilledEmulator(t *testing.T) {
	dead := exec.Command("true")
	require.NoError(t, dead.Run())
	stale, err := os.MkdirTemp("", dirPrefix)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(stale, ownerFile), []byte(fmt.Sprintf("%d 1", dead.Process.Pid)), 0o600))
	orphan := exec.Command("sleep", "600")
	orphan.Env = []string{markVar + "=" + stale + "#1#"}
	require.NoError(t, orphan.Start())
	waited := make(chan struct{})
	go func() { orphan.Wait(); close(waited) }()
	live, err := os.MkdirTemp("", dirPrefix)
	require.NoError(t, err)
	defer os.RemoveAll(live)
	require.NoError(t, writeOwner(live))

	p := newPool(t, Config{MaxWorkers: 1})
	_, err = os.Stat(stale)
	assert.True(t, os.IsNotExist(err), "the killed emulator's folder is removed")
	_, err = os.Stat(live)
	assert.NoError(t, err, "a living emulator's folder is kept")
	select {
	case <-waited:
	case <-time.After(time.Minute):
		orphan.Process.Kill()
		t.Fatal("the killed emulator's process was left running")
	}
	p.Close()
	_, err = os.Stat(p.Dir())
	assert.True(t, os.IsNotExist(err), "a clean stop leaves no folder")
}

// Close ends every process the functions started, detached ones too.
func TestPoolCloseEndsEveryMarkedProcess(t *testing.T) {
	t.Parallel()
	p := newPool(t, Config{MaxWorkers: 2})
	job := jsJob(t, p, "spawner", `const { spawn } = require('child_process')
exports.main = async () => {
  spawn('sh', ['-c', 'sleep 602 & exit 0'], { stdio: 'ignore', detached: true }).unref()
  await new Promise(r => setTimeout(r, 200))
  return 'ok'
}`)
	res, _ := logOf(t, p, job)
	require.Equal(t, `"ok"`, string(res.Data))
	require.NotEmpty(t, markedPIDs(t, p.dir+"#"))
	dir := p.dir
	p.Close()
	assert.Empty(t, markedPIDs(t, dir+"#"))
	for _, pid := range marked(dir + "#") {
		ppid, _, _, _ := procInfo(pid)
		assert.NotEqual(t, os.Getpid(), ppid, "zombie %d left unreaped", pid)
	}
}
