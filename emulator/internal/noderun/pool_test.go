package noderun

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mincloud-go/baas/internal/nodetest"
	"github.com/mincloud-go/baas/internal/testclock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newPool starts a pool with real Node; it skips without Node only
// outside CI.
func newPool(t *testing.T, cfg Config) *Pool {
	t.Helper()
	cfg.Node = nodetest.Need(t)
	p, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(p.Close)
	return p
}

// withClock has cfg's idle reaper judge by clock, looking every 10 ms.
func withClock(cfg Config, clock *testclock.Clock) Config {
	cfg.now, cfg.reapEvery = clock.Now, 10*time.Millisecond
	return cfg
}

func jsJob(t *testing.T, p *Pool, name, src string) Job {
	t.Helper()
	f := filepath.Join(p.Dir(), name+".js")
	require.NoError(t, os.WriteFile(f, []byte(src), 0o600))
	return Job{Name: name, Key: name, File: f, Root: f, Display: name + ".js", Event: []byte(`{"data":{}}`)}
}

func TestPoolGrowsUnderWaitingJobsAndStopsIdleExtras(t *testing.T) {
	t.Parallel()
	clock := testclock.New(time.Now())
	p := newPool(t, withClock(Config{MaxWorkers: 6, Warm: 1, IdleTimeout: 30 * time.Second}, clock))
	job := jsJob(t, p, "wait", "exports.main = (event, cb) => setTimeout(() => cb(null, 'ok'), 300)")
	var wg sync.WaitGroup
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			j := job
			j.ID = int64(i)
			res, err := p.Run(context.Background(), j)
			assert.NoError(t, err)
			if assert.NotNil(t, res) {
				assert.Equal(t, `"ok"`, string(res.Data))
			}
		}()
	}
	wg.Wait()
	assert.Greater(t, p.Workers(), 1, "jobs that wait get workers of their own")
	assert.LessOrEqual(t, p.Workers(), 6)
	clock.Advance(29 * time.Second)
	time.Sleep(100 * time.Millisecond) // the reaper looks several times
	assert.Greater(t, p.Workers(), 1, "no worker is stopped before its idle timeout")
	clock.Advance(2 * time.Second)
	require.Eventually(t, func() bool { return p.Workers() == 1 }, time.Minute, 10*time.Millisecond,
		"idle workers beyond the warm one are stopped after the idle timeout")
}

func TestPoolReplacesAWorkerThatDiedBetweenJobs(t *testing.T) {
	t.Parallel()
	p := newPool(t, Config{MaxWorkers: 1, Warm: 1})
	// The unref'd timer does not hold the job; it kills the worker after,
	// on the first call only.
	die := jsJob(t, p, "die", "let n = 0\nexports.main = (event, cb) => { cb(null, ++n); if (n === 1) setTimeout(() => process.kill(process.pid, 'SIGKILL'), 50).unref() }")
	res, err := p.Run(context.Background(), die)
	require.NoError(t, err)
	assert.Equal(t, "1", string(res.Data))
	require.Eventually(t, func() bool { // the worker dies idle
		p.mu.Lock()
		defer p.mu.Unlock()
		s := p.sets["die"]
		return s != nil && len(s.idle) == 1 && isClosed(s.idle[0].exited)
	}, 10*time.Second, 10*time.Millisecond)
	res, err = p.Run(context.Background(), die)
	require.NoError(t, err)
	assert.Equal(t, "1", string(res.Data), "a new worker, with the module loaded afresh")
}

// The memory a job reports is the worker's resident memory: a job that
// keeps 64 MB more reports about that much more.
func TestPoolReportsResidentMemory(t *testing.T) {
	t.Parallel()
	p := newPool(t, Config{MaxWorkers: 1, Warm: 1})
	small := jsJob(t, p, "small", "exports.main = async () => 1")
	big := jsJob(t, p, "big", "const keep = []\nexports.main = async () => { keep.push(Buffer.alloc(64 << 20, 1)); return 1 }")
	res, err := p.Run(context.Background(), small)
	require.NoError(t, err)
	before := res.Mem
	assert.Greater(t, before, int64(10<<20), "Node itself takes tens of MB")
	res, err = p.Run(context.Background(), big)
	require.NoError(t, err)
	assert.InDelta(t, float64(before+64<<20), float64(res.Mem), 32<<20)
}

// Log lines keep what the function logged, escapes and lone surrogates
// included.
func TestPoolLogLinesKeepTheirText(t *testing.T) {
	t.Parallel()
	p := newPool(t, Config{MaxWorkers: 1, Warm: 1})
	var mu sync.Mutex
	var got []string
	j := jsJob(t, p, "logs", `exports.main = async () => {
  console.log('plain')
  console.log('tab\there "quoted" back\\slash\nnext line é 😀')
  console.log('lone \ud800 surrogate')
  return 1
}`)
	j.Log = func(l LogLine) { mu.Lock(); got = append(got, l.Message); mu.Unlock() }
	_, err := p.Run(context.Background(), j)
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"plain", "tab\there \"quoted\" back\\slash\nnext line é 😀", "lone \ufffd surrogate"}, got)
}

// A job that waits while the one worker the pool may run is busy gets a
// worker of its own function once that one frees up (the idle worker of
// another function makes room), and runs with its own id and log; a
// waiting job whose context ends first gives up without harming the
// worker or the next job.
func TestPoolHandsTheWorkerToWaitingJobs(t *testing.T) {
	t.Parallel()
	p := newPool(t, Config{MaxWorkers: 1, Warm: 1})
	slow := jsJob(t, p, "slow", "exports.main = (event, cb) => { console.log('started'); setTimeout(() => cb(null, event.data.n), 300) }")
	echo := jsJob(t, p, "echo", "exports.main = async (event) => { console.log('job', event.data.n); return event.data.n }")

	first := slow
	first.ID, first.Event = 1, []byte(`{"data":{"n":1}}`)
	started := make(chan struct{}, 1)
	first.Log = func(LogLine) { started <- struct{}{} }
	done := make(chan *Result, 1)
	go func() {
		res, err := p.Run(context.Background(), first)
		assert.NoError(t, err)
		done <- res
	}()
	select { // first holds the worker
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the first job did not start")
	}

	// This one gives up while it waits.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	gaveUp := echo
	gaveUp.ID, gaveUp.Event = 2, []byte(`{"data":{"n":2}}`)
	_, err := p.Run(ctx, gaveUp)
	require.ErrorIs(t, err, context.DeadlineExceeded)

	var mu sync.Mutex
	logs := map[int64][]string{}
	var wg sync.WaitGroup
	for id := int64(3); id <= 5; id++ {
		j := echo
		j.ID, j.Event = id, []byte(fmt.Sprintf(`{"data":{"n":%d}}`, id))
		j.Log = func(l LogLine) { mu.Lock(); logs[id] = append(logs[id], l.Message); mu.Unlock() }
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := p.Run(context.Background(), j)
			if assert.NoError(t, err) && assert.NotNil(t, res) {
				assert.Equal(t, strconv.FormatInt(id, 10), string(res.Data))
			}
		}()
	}
	assert.Equal(t, "1", string((<-done).Data))
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	for id := int64(3); id <= 5; id++ {
		assert.Equal(t, []string{fmt.Sprintf("job %d", id)}, logs[id], "job %d's log", id)
	}
	assert.Equal(t, 1, p.Workers())
}

// Many callers of one short function share its workers, each freed
// worker going straight to the next waiting job: every call answers.
func TestPoolBusyFunctionHandsItsWorkersOn(t *testing.T) {
	t.Parallel()
	p := newPool(t, Config{MaxWorkers: 4, Warm: 2})
	job := jsJob(t, p, "quick", "exports.main = async (event) => event.data.n")
	var wg sync.WaitGroup
	for g := 0; g < 32; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				j := job
				j.ID = int64(g*100 + i)
				j.Event = []byte(fmt.Sprintf(`{"data":{"n":%d}}`, j.ID))
				res, err := p.Run(context.Background(), j)
				if assert.NoError(t, err) && assert.NotNil(t, res) {
					assert.Equal(t, strconv.FormatInt(j.ID, 10), string(res.Data), "%+v", res.Error)
				}
			}
		}()
	}
	wg.Wait()
}

// Short jobs of one function, however many callers wait, are served by
// as many workers as there are cores while those keep freeing up: not
// by every blank worker the pool starts ahead, each then compiling the
// same code again. The wait before growing is made endless here, so
// that only that rule can add workers.
func TestPoolShortJobsShareAsManyWorkersAsCores(t *testing.T) {
	t.Parallel()
	p := newPool(t, Config{MaxWorkers: parallelWorkers + 4, Warm: 2, growDelay: time.Hour})
	job := jsJob(t, p, "pid", "exports.main = async () => process.pid")
	require.Eventually(t, func() bool { // the blank workers are ready
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.blank) == 2
	}, time.Minute, 5*time.Millisecond)
	var mu sync.Mutex
	pids := map[string]bool{}
	var wg sync.WaitGroup
	for g := 0; g < 4*parallelWorkers+16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				j := job
				j.ID = int64(g*100 + i)
				res, err := p.Run(context.Background(), j)
				if assert.NoError(t, err) && assert.NotNil(t, res) && assert.Zero(t, res.Code, "%+v", res.Error) {
					mu.Lock()
					pids[string(res.Data)] = true
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	assert.Len(t, pids, parallelWorkers, "the function's workers: %v", pids)
	assert.LessOrEqual(t, p.Workers(), parallelWorkers+2, "its workers and the blank ones kept ahead")
}

// Jobs that wait (here, for each other) get a worker each beyond the
// cores' count: a function's workers grow while none of them frees up.
func TestPoolWaitingJobsGrowPastTheCores(t *testing.T) {
	t.Parallel()
	n := parallelWorkers + 2
	p := newPool(t, Config{MaxWorkers: n + 2, Warm: 1})
	dir := t.TempDir()
	// Each job marks that it runs and answers once all n run at once,
	// which they can only on n workers.
	job := jsJob(t, p, "meet", fmt.Sprintf(`const fs = require('fs'), path = require('path')
exports.main = (event, cb) => {
  fs.writeFileSync(path.join(%q, String(event.data.i)), '')
  const t = setInterval(() => {
    if (fs.readdirSync(%q).length >= %d) { clearInterval(t); cb(null, process.pid) }
  }, 5)
}`, dir, dir, n))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var mu sync.Mutex
	pids := map[string]bool{}
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			j := job
			j.ID = int64(i + 1)
			j.Event = []byte(fmt.Sprintf(`{"data":{"i":%d}}`, i))
			res, err := p.Run(ctx, j)
			if assert.NoError(t, err) && assert.NotNil(t, res) && assert.Zero(t, res.Code, "%+v", res.Error) {
				mu.Lock()
				pids[string(res.Data)] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	assert.Len(t, pids, n)
}

// A syntax check waiting for a blank worker hears at once that none
// could start, with why, rather than waiting out its context.
func TestPoolCheckSaysWhenNoWorkerStarts(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("the stand-in for node is a shell script")
	}
	fake := filepath.Join(t.TempDir(), "node")
	require.NoError(t, os.WriteFile(fake, []byte("#!/bin/sh\nexit 3\n"), 0o755))
	p, err := New(Config{Node: fake, Warm: 1, MaxWorkers: 2})
	require.NoError(t, err)
	t.Cleanup(p.Close)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = p.Check(ctx, filepath.Join(p.Dir(), "bootstrap.js"))
	require.Error(t, err)
	assert.NotErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "no Node worker could be started")
	assert.Contains(t, err.Error(), "the Node process ended: 3", "the reason: the process's exit status")
}

// gatedJob is a job of a function that says it runs (a file run-<i> in
// dir, i its event's data.i) and answers answer once the file gate is
// there: jobs held on workers for as long as a test needs.
func gatedJob(t *testing.T, p *Pool, name, answer string) (job Job, dir, gate string) {
	t.Helper()
	dir = t.TempDir()
	gate = filepath.Join(dir, "go")
	job = jsJob(t, p, name, fmt.Sprintf(`const fs = require('fs'), path = require('path')
exports.main = (event, cb) => {
  fs.writeFileSync(path.join(%q, 'run-' + event.data.i), '')
  const t = setInterval(() => { if (fs.existsSync(%q)) { clearInterval(t); cb(null, %q) } }, 5)
}`, dir, gate, answer))
	return job, dir, gate
}

// A job of a function's version that a newer version replaced while the
// job waited still runs, on the old version's workers, which then stop.
func TestPoolRunsWaitingJobsOfAReplacedVersion(t *testing.T) {
	t.Parallel()
	p := newPool(t, Config{MaxWorkers: parallelWorkers + 4, Warm: 0, growDelay: time.Hour})
	old, dir, gate := gatedJob(t, p, "gated", "v1")
	old.Key = "gated@1"
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n := parallelWorkers + 1 // one more than the version's workers: it waits
	results := make(chan string, n)
	for i := 0; i < n; i++ {
		go func() {
			j := old
			j.ID = int64(i + 1)
			j.Event = []byte(fmt.Sprintf(`{"data":{"i":%d}}`, i))
			res, err := p.Run(ctx, j)
			switch {
			case err != nil:
				results <- err.Error()
			case res.Code != 0:
				results <- res.Error.Message
			default:
				results <- string(res.Data)
			}
		}()
	}
	require.Eventually(t, func() bool {
		runs, _ := filepath.Glob(filepath.Join(dir, "run-*"))
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(runs) == parallelWorkers && len(p.sets["gated@1"].waiters) == 1
	}, time.Minute, 5*time.Millisecond, "all its workers busy, one job waiting")
	// The new version: its first job retires the old version's set.
	newer := jsJob(t, p, "gated2", "exports.main = async () => 'v2'")
	newer.Name, newer.Key, newer.ID = "gated", "gated@2", 100
	res, err := p.Run(ctx, newer)
	require.NoError(t, err)
	assert.Equal(t, `"v2"`, string(res.Data))
	require.NoError(t, os.WriteFile(gate, nil, 0o600))
	for i := 0; i < n; i++ {
		assert.Equal(t, `"v1"`, <-results)
	}
	require.Eventually(t, func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		_, kept := p.sets["gated@1"]
		return !kept
	}, time.Minute, 5*time.Millisecond, "the old version's workers stop once its jobs are done")
}

// A job line longer than one read of the pipe, with characters of several
// bytes across the reads' edges, reaches the function whole.
func TestPoolLongEventArrivesWhole(t *testing.T) {
	t.Parallel()
	p := newPool(t, Config{MaxWorkers: 2, Warm: 1})
	job := jsJob(t, p, "echo", "exports.main = async (event) => event.data.s")
	text := strings.Repeat("知晓云 cloud · ", 40000) // ≈ 640 KiB, 3-byte characters throughout
	for i, s := range []string{text, text[:len(text)-len("cloud · ")] + "é"} {
		ev, err := json.Marshal(map[string]any{"data": map[string]string{"s": s}})
		require.NoError(t, err)
		j := job
		j.ID, j.Event = int64(i+1), ev
		res, err := p.Run(context.Background(), j)
		require.NoError(t, err)
		require.Zero(t, res.Code, "%+v", res.Error)
		var back string
		require.NoError(t, json.Unmarshal(res.Data, &back))
		assert.True(t, back == s, "the event's text came back changed (%d bytes sent, %d back)", len(s), len(back))
	}
}

// A blank worker turned into a function's, for a job that waited past the
// grow delay, is replaced by exactly one new blank worker.
func TestPoolBlankWorkerTakenForGrowthIsRefilledOnce(t *testing.T) {
	t.Parallel()
	p := newPool(t, Config{MaxWorkers: parallelWorkers + 6, Warm: 1, growDelay: 20 * time.Millisecond})
	job, dir, gate := gatedJob(t, p, "held", "ok")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	runJob := func(i int) {
		defer wg.Done()
		j := job
		j.ID = int64(i + 1)
		j.Event = []byte(fmt.Sprintf(`{"data":{"i":%d}}`, i))
		res, err := p.Run(ctx, j)
		if assert.NoError(t, err) {
			assert.Equal(t, `"ok"`, string(res.Data))
		}
	}
	running := func(n int) func() bool {
		return func() bool {
			runs, _ := filepath.Glob(filepath.Join(dir, "run-*"))
			p.mu.Lock()
			defer p.mu.Unlock()
			return len(runs) == n && len(p.blank) >= 1 && p.starting == 0
		}
	}
	for i := 0; i < parallelWorkers; i++ {
		wg.Add(1)
		go runJob(i)
	}
	require.Eventually(t, running(parallelWorkers), time.Minute, 5*time.Millisecond, "the function's workers busy, one blank ready")
	wg.Add(1)
	go runJob(parallelWorkers) // waits past the grow delay: the blank one becomes its
	require.Eventually(t, running(parallelWorkers+1), time.Minute, 5*time.Millisecond, "the blank worker took the job and was refilled")
	p.mu.Lock()
	total, blanks := p.total, len(p.blank)
	p.mu.Unlock()
	assert.Equal(t, parallelWorkers+2, total, "the function's workers and one blank")
	assert.Equal(t, 1, blanks)
	require.NoError(t, os.WriteFile(gate, nil, 0o600))
	wg.Wait()
}
