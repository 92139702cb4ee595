package emulator_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mincloud-go/baas"
	"github.com/mincloud-go/baas/emulator"
	"github.com/mincloud-go/baas/internal/nodetest"
)

// Functions written to break the runner: each test holds one promise of
// the platform's containers (issue 13). WithMaxJobs(1) leaves one Node
// process for all functions, so that a runner that shared workers between
// functions would share that one.

// A worker is a container of one function: what function A leaves behind
// (patched globals, an unref'd interval that logs, a late callback) never
// reaches function B's job.
func TestJSWorkerServesOneFunction(t *testing.T) {
	t.Parallel()
	srv, c := jsSetup(t, map[string]string{
		"spoiler": `const fs = require('fs')
exports.main = (event, cb) => {
  process.env.LEAK = 'from spoiler'
  const write = fs.writeSync
  fs.writeSync = (fd, s, ...rest) => write(fd, typeof s === 'string' ? s.replace(/hello/g, 'HACKED') : s, ...rest)
  JSON.stringify = () => '"patched"'
  global.Promise = function () { throw new Error('no promises') }
  global.BaaS = { invoke: () => 'spoiled' }
  setInterval(() => console.log('spoiler still here'), 5).unref()
  setTimeout(() => cb(null, 'late answer from spoiler'), 100).unref()
  cb(null, 'spoiled')
}`,
		"clean": `exports.main = (event, cb) => {
  setTimeout(() => cb(null, { env: process.env.LEAK || null, baas: typeof BaaS.invoke, greet: 'hello', json: JSON.stringify(1), promise: typeof Promise.resolve }), 300)
}`,
	}, emulator.WithMaxJobs(1))
	assert.Equal(t, `{"code":0,"data":"spoiled","error":{}}`, call(t, c, "spoiler", nil))
	assert.Equal(t, `{"code":0,"data":{"env":null,"baas":"function","greet":"hello","json":"1","promise":"function"},"error":{}}`,
		call(t, c, "clean", nil))
	for _, line := range lastJob(t, srv, "clean").Log {
		assert.NotContains(t, line, "spoiler", "function A's log in function B's job")
	}
}

// Within one function's worker, code a job left behind belongs to that
// job: a second answer, a log line, a throw after its end go into its own
// record (while it is kept), never into the next job's, and fail nothing.
func TestJSLateWorkOfAnEndedJobStaysInItsRecord(t *testing.T) {
	t.Parallel()
	srv, _ := jsSetup(t, map[string]string{
		"twice": `let n = 0
exports.main = (event, cb) => {
  n++
  if (n === 1) {
    setTimeout(() => cb(null, 'late from job 1'), 100).unref()
    setTimeout(() => console.log('job 1 timer'), 100).unref()
    setTimeout(() => { throw new Error('thrown after job 1') }, 150).unref()
    cb(null, 'first')
    return
  }
  console.log('job', n)
  setTimeout(() => cb(null, 'second'), 500)
}`,
	}, emulator.WithMaxJobs(1), emulator.WithSyncTimeout(20*time.Second))
	c := patient(t, srv)
	assert.Equal(t, `{"code":0,"data":"first","error":{}}`, call(t, c, "twice", nil))
	first := lastJob(t, srv, "twice")
	assert.Equal(t, `{"code":0,"data":"second","error":{}}`, call(t, c, "twice", nil))
	second := lastJob(t, srv, "twice")
	assert.Equal(t, emulator.StatusFulfilled, second.Status)
	require.Len(t, second.Log, 1, "%q", second.Log)
	assert.Contains(t, second.Log[0], "INFO job 2")

	var got string
	require.Eventually(t, func() bool {
		j, _ := srv.Job(first.ID)
		got = strings.Join(j.Log, "\n")
		return strings.Contains(got, "thrown after job 1")
	}, time.Minute, 10*time.Millisecond)
	assert.Contains(t, got, "INFO (after the job ended) job 1 timer")
	assert.Contains(t, got, "WARN (after the job ended) the function answered again after its job had ended; the answer was dropped")
	assert.Contains(t, got, "WARN (after the job ended) uncaught exception after the job had ended, dropped: Error: thrown after job 1")
}

// The protocol cannot be forged: a function that writes an answer line to
// its worker's descriptor, or to another worker's through /proc, answers
// no call; the worker that got the line is stopped and its job says the
// protocol was broken.
func TestJSForgedAnswersAnswerNothing(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("reaches the sibling through /proc")
	}
	srv, _ := jsSetup(t, map[string]string{
		"forgeOwn": `const fs = require('fs')
exports.main = (event, cb) => {
  for (const fd of [4, 5, 6]) try { fs.writeSync(fd, 'D ' + event.jobId + ' 0 0 "forged"\n') } catch (e) {}
  setTimeout(() => cb(null, 'real'), 100)
}`,
		"victim": "exports.main = (event, cb) => { setTimeout(() => cb(null, 'victim done'), 3000) }",
		"forgeSibling": `const fs = require('fs')
exports.main = async (event) => {
  let hit = 0
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue
    // This emulator's other workers only: they share its folder.
    let cwd = ''
    try { cwd = fs.readlinkSync('/proc/' + pid + '/cwd') } catch (e) {}
    if (cwd !== process.cwd()) continue
    for (const fd of [4]) {
      try {
        const f = fs.openSync('/proc/' + pid + '/fd/' + fd, 'w')
        fs.writeSync(f, 'D ' + event.data.id + ' 0 0 "forged"\n')
        fs.closeSync(f)
        hit++
      } catch (e) {}
    }
  }
  return hit
}`,
	}, emulator.WithSyncTimeout(20*time.Second))
	c := patient(t, srv)
	res, err := c.Invoke(context.Background(), "forgeOwn", nil, true)
	require.NoError(t, err)
	assert.NotEqual(t, `"forged"`, string(res.Data))
	assert.Equal(t, 1, res.Code, "the job whose worker got the forged line fails")
	if assert.NotNil(t, res.Error) {
		assert.Contains(t, res.Error.Message, "protocol broken")
	}

	victim := make(chan *baas.Result, 1)
	go func() {
		res, err := c.Invoke(context.Background(), "victim", nil, true)
		assert.NoError(t, err)
		victim <- res
	}()
	var id int64
	require.Eventually(t, func() bool {
		for _, j := range srv.Jobs() {
			if j.Function == "victim" && j.Status == emulator.StatusExecuting {
				id = j.ID
				return true
			}
		}
		return false
	}, time.Minute, 5*time.Millisecond)
	res, err = c.Invoke(context.Background(), "forgeSibling", map[string]int64{"id": id}, true)
	require.NoError(t, err)
	require.Equal(t, 0, res.Code, "%+v", res.Error)
	assert.NotEqual(t, "0", string(res.Data), "the forger reached no sibling's descriptor: the test proves nothing")
	v := <-victim
	assert.NotEqual(t, `"forged"`, string(v.Data), "a forged line answered another function's call")
	if v.Code != 0 {
		assert.Contains(t, v.Error.Message, "protocol broken")
	}
	assert.Equal(t, `{"code":0,"data":"victim done","error":{}}`, call(t, c, "victim", nil), "the next call has a sound worker")
}

// patient is a client of srv that waits a minute for a sync answer: the
// tests here wait for worker starts and retries on a busy machine.
func patient(t *testing.T, srv *emulator.Server) *baas.Client {
	t.Helper()
	c, err := srv.Client(baas.WithRetry(0), baas.WithSyncTimeout(time.Minute))
	require.NoError(t, err)
	return c
}

// slowNode is a Node.js that, once slow is called, takes delay to start
// a worker (its other uses answer at once), as on a loaded machine.
func slowNode(t *testing.T, delay time.Duration) (node string, slow func()) {
	t.Helper()
	real := nodetest.Need(t)
	if runtime.GOOS == "windows" {
		t.Skip("uses a shell script")
	}
	dir := t.TempDir()
	node, mark := filepath.Join(dir, "slownode"), filepath.Join(dir, "slow")
	script := fmt.Sprintf("#!/bin/sh\ncase \"$*\" in *bootstrap.js*) [ -e %s ] && sleep %.1f;; esac\nexec %s \"$@\"\n",
		mark, delay.Seconds(), real)
	require.NoError(t, os.WriteFile(node, []byte(script), 0o755))
	return node, func() { require.NoError(t, os.WriteFile(mark, nil, 0o600)) }
}

// The deadline measures the function, not the wait for a worker: a job
// that waited for its worker to start runs for its whole time limit, and
// its record tells the wait apart from the run. (One process in all: the
// call of "second" waits for a new worker in place of "first"'s.)
func TestJSDeadlineStartsWhenTheWorkerTakesTheJob(t *testing.T) {
	t.Parallel()
	node, slow := slowNode(t, 2500*time.Millisecond)
	srv, _ := jsSetup(t, map[string]string{
		"first":  "exports.main = async () => 'first'",
		"second": "exports.main = (event, cb) => setTimeout(() => cb(null, 'ok'), 1500)",
	}, emulator.WithNode(node), emulator.WithSyncTimeout(4*time.Second), emulator.WithMaxJobs(1))
	c := patient(t, srv)
	assert.Equal(t, `{"code":0,"data":"first","error":{}}`, call(t, c, "first", nil))
	slow()
	assert.Equal(t, `{"code":0,"data":"ok","error":{}}`, call(t, c, "second", nil))
	j := lastJob(t, srv, "second")
	assert.Equal(t, emulator.StatusFulfilled, j.Status)
	assert.GreaterOrEqual(t, j.Queued, 1500*time.Millisecond, "the wait for the worker's start")
	run := j.FinishedAt.Sub(j.StartedAt)
	// The run time is the function's own (its 1.5 s timer) and leaves the
	// wait out: fulfilled, although the wait and the run together pass the
	// 4 s deadline, which counts from when the worker took the job. No
	// upper bound on speed is asserted: a busy machine may be slow.
	assert.GreaterOrEqual(t, run, 1500*time.Millisecond)
	assert.WithinDuration(t, j.CreatedAt.Add(j.Queued), j.StartedAt, time.Millisecond)
}

// A call that gets no worker before its deadline says so, not that the
// function timed out.
func TestJSNoWorkerFreeSaysSo(t *testing.T) {
	t.Parallel()
	node, slow := slowNode(t, 5*time.Second)
	clk := emulator.NewFakeClock()
	srv, _ := jsSetup(t, map[string]string{
		"first": "exports.main = async () => 'first'",
		"quick": "exports.main = async () => 'ok'",
	}, emulator.WithClock(clk), emulator.WithNode(node), emulator.WithSyncTimeout(time.Hour), emulator.WithMaxJobs(1))
	c := patient(t, srv)
	assert.Equal(t, `{"code":0,"data":"first","error":{}}`, call(t, c, "first", nil))
	slow()
	// The wait for a worker is an hour on the test's clock, which passes
	// while the new worker is still starting.
	done := make(chan struct{})
	var res *baas.Result
	var err error
	go func() {
		defer close(done)
		res, err = c.Invoke(context.Background(), "quick", nil, true)
	}()
	require.Eventually(t, func() bool { return clk.Waiting() == 1 }, time.Minute, time.Millisecond, "the call never began its wait for a worker")
	clk.Advance(time.Hour)
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("no answer a minute after the wait passed on the test's clock")
	}
	require.NoError(t, err)
	assert.Equal(t, 1, res.Code)
	assert.Contains(t, res.Error.Message, "no Node worker was free within 3600000 ms")
	assert.NotContains(t, res.Error.Message, "timed out")
	j := lastJob(t, srv, "quick")
	assert.Equal(t, emulator.StatusScheduleFailed, j.Status)
	assert.True(t, j.StartedAt.IsZero(), "the function never started")
}

// A worker its last job damaged (stopped with SIGSTOP, its job pipe
// closed, spinning in an unref'd timer) fails no later job: the job goes
// to another worker, whatever its size.
func TestJSDamagedIdleWorkerFailsNoInnocentJob(t *testing.T) {
	t.Parallel()
	nodetest.Need(t)
	// Each function damages its worker from a timer after its first
	// answer, having first left a file saying it is about to.
	dir := t.TempDir()
	damage := func(name, how string) string {
		return fmt.Sprintf("const fs = require('fs')\nlet n = 0\nexports.main = (event, cb) => { cb(null, ++n); if (n === 1) setTimeout(() => { fs.writeFileSync(%q, ''); %s }, 20).unref() }",
			filepath.Join(dir, name), how)
	}
	srv, _ := jsSetup(t, map[string]string{
		"stops":  damage("stops", "process.kill(process.pid, 'SIGSTOP')"),
		"closes": damage("closes", "fs.closeSync(3)"),
		"spins":  damage("spins", "for (;;) {}"),
	}, emulator.WithSyncTimeout(20*time.Second))
	c := patient(t, srv)
	big := map[string]string{"pad": strings.Repeat("x", 200<<10)} // more than a pipe holds
	for _, name := range []string{"stops", "closes", "spins"} {
		assert.Equal(t, `{"code":0,"data":1,"error":{}}`, call(t, c, name, nil), name)
		require.Eventually(t, func() bool { _, err := os.Stat(filepath.Join(dir, name)); return err == nil },
			time.Minute, 10*time.Millisecond, "%s never damaged its worker", name)
		time.Sleep(50 * time.Millisecond) // the damage itself, right after the file
		res, err := c.Invoke(context.Background(), name, big, true)
		require.NoError(t, err, name)
		assert.Equal(t, 0, res.Code, "%s: %+v", name, res.Error)
		assert.Equal(t, "1", string(res.Data), "%s: a new worker ran the job", name)
		assert.Equal(t, emulator.StatusFulfilled, lastJob(t, srv, name).Status, name)
	}
	closed := make(chan struct{})
	go func() { srv.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(time.Minute):
		t.Fatal("Close did not return")
	}
}

// markedProcs lists the processes whose command line holds arg.
func markedProcs(t *testing.T, arg string) []string {
	t.Helper()
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var out []string
	for _, d := range dirs {
		b, err := os.ReadFile(d + "/cmdline")
		if err != nil {
			continue
		}
		stat, _ := os.ReadFile(d + "/stat")
		if s := string(stat); strings.Contains(s, ") Z ") {
			continue // a zombie is gone, only not yet reaped
		}
		if strings.Contains(string(b), arg) {
			out = append(out, filepath.Base(d)+" "+strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	return out
}

// Nothing a function starts outlives the emulator: an unref'd child, a
// detached one, and the child of a shell that has exited are all ended
// by Close.
func TestJSCloseEndsWhatFunctionsStarted(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	tag := fmt.Sprintf("%d%d", os.Getpid(), time.Now().UnixNano()%1e6)
	srv, c := jsSetup(t, map[string]string{
		"spawner": `const { spawn } = require('child_process')
exports.main = async (event) => {
  spawn('sleep', ['301` + tag + `'], { stdio: 'ignore' }).unref()
  spawn('sleep', ['302` + tag + `'], { stdio: 'ignore', detached: true }).unref()
  spawn('sh', ['-c', 'sleep 303` + tag + ` & exit 0'], { stdio: 'ignore', detached: true }).unref()
  await new Promise(r => setTimeout(r, 300))
  return 'spawned'
}`,
	})
	assert.Equal(t, `{"code":0,"data":"spawned","error":{}}`, call(t, c, "spawner", nil))
	require.Len(t, markedProcs(t, tag), 3, "the children run while the emulator does")
	srv.Close()
	assert.Empty(t, markedProcs(t, tag), "processes left after Close")
}

// A worker's exit ends its job at once, even when a child it started
// holds its stdout and stderr (the child is ended with the worker).
func TestJSExitEndsTheJobAtOnceWhateverHoldsItsOutput(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	tag := fmt.Sprintf("%d%d", os.Getpid(), time.Now().UnixNano()%1e6)
	srv, _ := jsSetup(t, map[string]string{
		"exits": `const { spawn } = require('child_process')
exports.main = () => {
  spawn('sleep', ['304` + tag + `'], { stdio: 'inherit', detached: true }).unref()
  process.exit(1)
}`,
	}, emulator.WithSyncTimeout(60*time.Second))
	c := patient(t, srv)
	res, err := c.Invoke(context.Background(), "exits", nil, true)
	require.NoError(t, err)
	assert.Equal(t, 1, res.Code)
	assert.Equal(t, "the function called process.exit(1)", res.Error.Message)
	closed := make(chan struct{})
	go func() { srv.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(time.Minute):
		t.Fatal("Close waited for the child")
	}
	assert.Empty(t, markedProcs(t, tag))
}

// Many callers of functions that each take a while all get their answer,
// each job's log its own.
func TestJSConcurrentFunctionsKeepTheirLogs(t *testing.T) {
	t.Parallel()
	srv, _ := jsSetup(t, map[string]string{
		"a": "exports.main = (event, cb) => { console.log('a', event.data.i); setTimeout(() => cb(null, 'a' + event.data.i), 50) }",
		"b": "exports.main = async (event) => { console.log('b', event.data.i); return 'b' + event.data.i }",
	}, emulator.WithMaxJobs(4), emulator.WithScheduleWait(time.Minute), emulator.WithSyncTimeout(time.Minute))
	c := patient(t, srv)
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		for _, name := range []string{"a", "b"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := c.Invoke(context.Background(), name, map[string]int{"i": i}, true)
				if assert.NoError(t, err) {
					assert.Equal(t, fmt.Sprintf(`"%s%d"`, name, i), string(res.Data))
				}
			}()
		}
	}
	wg.Wait()
	for _, j := range srv.Jobs() {
		assert.Equal(t, emulator.StatusFulfilled, j.Status)
		require.Len(t, j.Log, 1)
		assert.Contains(t, j.Log[0], "INFO "+j.Function+" ")
	}
}

// A file that does not parse is an error where it is registered, with
// its file and line: RegisterJSFile and LoadDir alike.
func TestJSParseErrorsAtRegistration(t *testing.T) {
	t.Parallel()
	nodetest.Need(t)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "good.js"), "exports.main = async () => 1\n")
	write(t, filepath.Join(dir, "bad.js"), "exports.main = async () => {\n  return (1\n}\n")
	srv, _ := setup(t)
	err := srv.RegisterJSFile("bad", filepath.Join(dir, "bad.js"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "emulator: function bad does not load: SyntaxError: ")
	assert.Contains(t, err.Error(), "(bad.js:3)")
	// A folder is bundled (esbuild parses it): the error names the file and
	// line as esbuild does, and the good function is served.
	names, err := srv.LoadDir(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "function bad does not load: bad.js:3:")
	assert.Equal(t, []string{"bad", "good"}, names)
}

// WithNode pointing at something that is not Node.js is refused when the
// emulator starts, with the reason and the versions that work;
// not "not found" for a file that exists.
func TestJSWithNodeThatIsNotNode(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("unix paths")
	}
	for _, c := range []struct{ path, want string }{
		{"/etc/passwd", "is not executable"},
		{"/bin/true", "is not Node.js"},
	} {
		// Refused when the emulator starts, naming the option and the
		// versions that work, before any function is registered.
		srv, err := emulator.Listen("127.0.0.1:0", emulator.WithNode(c.path))
		if err == nil {
			srv.Close()
		}
		require.Error(t, err, c.path)
		assert.Contains(t, err.Error(), "WithNode", c.path)
		assert.Contains(t, err.Error(), c.want, c.path)
		if c.path == "/bin/true" {
			assert.Contains(t, err.Error(), "12.17 or later", "the versions that work")
		}
		assert.NotContains(t, err.Error(), "not found", c.path)
		assert.PanicsWithValue(t, "emulator: "+err.Error(), func() { emulator.New(emulator.WithNode(c.path)) })
	}
}

// MINCLOUD_NODE naming something that is not Node.js is refused at start
// the same way; one naming no file at all is not (Go functions need no
// Node), and says so where a JavaScript function is registered. Not
// parallel: it sets the environment.
func TestJSMINCLOUD_NODEThatIsNotNode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("unix paths")
	}
	t.Setenv("MINCLOUD_NODE", "/bin/true")
	_, err := emulator.Listen("127.0.0.1:0")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "/bin/true (from MINCLOUD_NODE) is not Node.js")

	t.Setenv("MINCLOUD_NODE", filepath.Join(t.TempDir(), "no-node-here"))
	srv, err := emulator.Listen("127.0.0.1:0")
	require.NoError(t, err)
	defer srv.Close()
	err = srv.RegisterJS("hello", "exports.main = async () => 'hi'")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "was not found")
}
