package emulator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mincloud-go/baas"
	"github.com/mincloud-go/baas/emulator"
	"github.com/mincloud-go/baas/function"
	"github.com/mincloud-go/baas/internal/nodetest"
	"github.com/mincloud-go/baas/manage"
)

// jsSetup starts an emulator with the JavaScript functions fns (name →
// source).
func jsSetup(t *testing.T, fns map[string]string, opts ...emulator.Option) (*emulator.Server, *baas.Client) {
	t.Helper()
	nodetest.Need(t)
	// Generous deadlines unless the test sets its own: on a busy machine a
	// Node worker may take seconds to start, and a call to get a slot.
	srv, c := setup(t, append([]emulator.Option{emulator.WithSyncTimeout(time.Minute), emulator.WithScheduleWait(time.Minute)}, opts...)...)
	for name, src := range fns {
		require.NoError(t, srv.RegisterJS(name, src))
	}
	return srv, c
}

// call invokes name synchronously and returns the result as JSON.
func call(t *testing.T, c *baas.Client, name string, params any) string {
	t.Helper()
	res, err := c.Invoke(context.Background(), name, params, true)
	require.NoError(t, err)
	b, err := res.MarshalJSON()
	require.NoError(t, err)
	return string(b)
}

// lastJob returns the newest job of the function name.
func lastJob(t *testing.T, srv *emulator.Server, name string) emulator.Job {
	t.Helper()
	jobs := srv.Jobs()
	for i := len(jobs) - 1; i >= 0; i-- {
		if jobs[i].Function == name {
			return jobs[i]
		}
	}
	t.Fatalf("no job of %s", name)
	return emulator.Job{}
}

// callPastDeadline is invokePastDeadline of a sync call, with the result
// as JSON.
func callPastDeadline(t *testing.T, srv *emulator.Server, c *baas.Client, clk *emulator.FakeClock, name string, timeout time.Duration, ready func(emulator.Job) bool) string {
	t.Helper()
	res, err := invokePastDeadline(t, srv, c, clk, name, true, timeout, ready)
	require.NoError(t, err)
	b, err := res.MarshalJSON()
	require.NoError(t, err)
	return string(b)
}

// The seed page's helloWorld, exactly.
const seedHelloWorld = "exports.main = function helloWorld(event, callback) {\n" +
	"  console.log(event)\n" +
	"  callback(null, `hello ${event.data.name}`)\n" +
	"}\n"

func TestJSCallbackAndAsyncForms(t *testing.T) {
	t.Parallel()
	_, c := jsSetup(t, map[string]string{
		"helloWorld": seedHelloWorld,
		"async":      "exports.main = async function (event) { return {sum: event.data.a + event.data.b, list: [1, 'x', null]} }",
		"null":       "exports.main = async function () { return null }",
		"cbNoData":   "exports.main = function (event, callback) { callback(null) }",
		"html":       "exports.main = async () => '<b>&</b>'",
	})
	assert.Equal(t, `{"code":0,"data":"hello allen","error":{}}`, call(t, c, "helloWorld", map[string]string{"name": "allen"}))
	assert.Equal(t, `{"code":0,"data":{"sum":3,"list":[1,"x",null]},"error":{}}`, call(t, c, "async", map[string]int{"a": 1, "b": 2}))
	assert.Equal(t, `{"code":0,"data":null,"error":{}}`, call(t, c, "null", nil))
	assert.Equal(t, `{"code":0,"data":null,"error":{}}`, call(t, c, "cbNoData", nil))
	assert.Equal(t, `{"code":0,"data":"<b>&</b>","error":{}}`, call(t, c, "html", nil))
}

func TestJSFailuresCarryTypeMessageAndStack(t *testing.T) {
	t.Parallel()
	_, c := jsSetup(t, map[string]string{
		"cbString":  "exports.main = function (event, callback) { callback('no such user') }",
		"cbError":   "exports.main = function (event, callback) { callback(new RangeError('too far')) }",
		"throws":    "exports.main = function (event, callback) { null.x }",
		"rejects":   "exports.main = async function () { throw new SyntaxError('bad input') }",
		"custom":    "class NotFound extends Error {}\nexports.main = async function () { throw new NotFound('gone') }",
		"rejectStr": "exports.main = function () { return Promise.reject('plain') }",
	})
	ctx := context.Background()
	for name, want := range map[string]struct{ typ, msg string }{
		"cbString":  {"Error", "no such user"},
		"cbError":   {"RangeError", "too far"},
		"throws":    {"TypeError", "Cannot read properties of null (reading 'x')"},
		"rejects":   {"SyntaxError", "bad input"},
		"custom":    {"NotFound", "gone"},
		"rejectStr": {"Error", "plain"},
	} {
		res, err := c.Invoke(ctx, name, nil, true)
		require.NoError(t, err, name)
		assert.Equal(t, 1, res.Code, name)
		b, _ := res.MarshalJSON()
		assert.Contains(t, string(b), `"data":null`, name)
		require.NotNil(t, res.Error, name)
		assert.Equal(t, want.typ, res.Error.Type, name)
		assert.Equal(t, want.msg, res.Error.Message, name)
		assert.NotEmpty(t, res.Error.Stack, name)
	}
	res, err := c.Invoke(ctx, "cbError", nil, true)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(res.Error.Stack, "RangeError: too far\n    at "), res.Error.Stack)
	assert.Contains(t, res.Error.Stack, "cbError.js:1", "the stack points into the function's file")
}

// The deadline passes on the test's clock once the job has logged both
// lines: what is asserted is that it runs until then, and what happens
// when it passes.
func TestJSAsyncUndefinedRunsToTheDeadline(t *testing.T) {
	t.Parallel()
	clk := emulator.NewFakeClock()
	srv, c := jsSetup(t, map[string]string{
		"undef": "exports.main = async function () { console.log('started') }",
		"ok":    "exports.main = async () => 'still here'",
	}, emulator.WithClock(clk), emulator.WithSyncTimeout(time.Hour))
	got := callPastDeadline(t, srv, c, clk, "undef", time.Hour, func(j emulator.Job) bool { return len(j.Log) == 2 })
	assert.Contains(t, got, `"type":"TimeoutError"`)
	assert.Contains(t, got, "function timed out after 3600000 ms")
	j := lastJob(t, srv, "undef")
	assert.Equal(t, emulator.StatusDeadlineExceeded, j.Status)
	require.Len(t, j.Log, 2)
	assert.Contains(t, j.Log[0], "INFO started")
	// One line says why the job waits, as the platform does, for its deadline.
	assert.Contains(t, j.Log[1], "WARN the function's promise resolved undefined and it did not call callback: "+
		"the platform waits for the job's deadline (3600000 ms)")
	assert.Equal(t, `{"code":0,"data":"still here","error":{}}`, call(t, c, "ok", nil))
}

// This deadline stays on the real clock: the test is that a line logged
// just before a loop is read from the pipe when the loop is killed, so the
// kill must come without waiting for the line to arrive first. 5 s is long
// enough for a worker to start and log on a busy machine.
func TestJSLogBeforeABusyLoopIsKept(t *testing.T) {
	t.Parallel()
	srv, c := jsSetup(t, map[string]string{
		"spin": "exports.main = function () { console.log('about to spin'); for (;;) {} }",
	}, emulator.WithSyncTimeout(5*time.Second))
	got := call(t, c, "spin", nil)
	assert.Contains(t, got, "function timed out after 5000 ms")
	j := lastJob(t, srv, "spin")
	assert.Equal(t, emulator.StatusDeadlineExceeded, j.Status)
	require.Len(t, j.Log, 1, "the line logged before the loop is in the killed job's log")
	assert.Contains(t, j.Log[0], "INFO about to spin")
}

func TestJSPendingTimerHoldsTheAnswer(t *testing.T) {
	t.Parallel()
	srv, c := jsSetup(t, map[string]string{
		"timer": "exports.main = function (event, callback) {\n" +
			"  callback(null, 'answered first')\n" +
			"  setTimeout(() => console.log('timer fired'), 150)\n" +
			"}",
	})
	assert.Equal(t, `{"code":0,"data":"answered first","error":{}}`, call(t, c, "timer", nil))
	// The answer came only once the loop drained: the timer's line is in.
	j := lastJob(t, srv, "timer")
	assert.Equal(t, emulator.StatusFulfilled, j.Status)
	require.Len(t, j.Log, 1)
	assert.Contains(t, j.Log[0], "INFO timer fired")

	// A timer that outlives the deadline keeps the job until it is killed.
	clk := emulator.NewFakeClock()
	srv2, c2 := jsSetup(t, map[string]string{
		"forever": "exports.main = function (event, callback) { callback(null, 1); setInterval(() => {}, 1000) }",
	}, emulator.WithClock(clk), emulator.WithSyncTimeout(time.Hour))
	assert.Contains(t, callPastDeadline(t, srv2, c2, clk, "forever", time.Hour, nil), "function timed out after 3600000 ms")
	assert.Equal(t, emulator.StatusDeadlineExceeded, lastJob(t, srv2, "forever").Status)
}

func TestJSConsoleLevelsAndFormatting(t *testing.T) {
	t.Parallel()
	srv, c := jsSetup(t, map[string]string{
		"logs": "exports.main = async function () {\n" +
			"  console.log('%s is %d years', 'allen', 42)\n" +
			"  console.info({a: 1}, [2])\n" +
			"  console.warn('careful')\n" +
			"  console.error(new Error('bad').message)\n" +
			"  console.debug('%j', {b: 2})\n" +
			"  process.stdout.write('raw out\\n')\n" +
			"  return 'ok'\n" +
			"}",
	})
	call(t, c, "logs", nil)
	j := lastJob(t, srv, "logs")
	line := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO|WARN|ERROR|DEBUG) (.*)$`)
	var got []string
	for _, l := range j.Log {
		m := line.FindStringSubmatch(l)
		require.NotNil(t, m, "log line %q", l)
		got = append(got, m[1]+" "+m[2])
	}
	assert.Equal(t, []string{
		"INFO allen is 42 years",
		"INFO { a: 1 } [ 2 ]",
		"WARN careful",
		"ERROR bad",
		`DEBUG {"b":2}`,
		"INFO raw out",
	}, got)
}

func TestJSEventIsTheEventAGoFunctionGets(t *testing.T) {
	t.Parallel()
	srv, _ := jsSetup(t, map[string]string{
		"jsEvent": "exports.main = async (event) => event",
	}, emulator.WithEnv("env-1", "staging"))
	srv.Register("goEvent", func(ctx context.Context, ev *function.Event) (any, error) { return ev, nil })
	tok := srv.IssueUserToken(function.User{ID: 7, Nickname: "allen"})
	c, err := srv.Client(baas.WithAuthToken(tok), baas.WithEnv("env-1"), baas.WithUserAgent("agent/1"))
	require.NoError(t, err)
	events := map[string]map[string]any{}
	for _, name := range []string{"jsEvent", "goEvent"} {
		res, err := c.Invoke(context.Background(), name, map[string]any{"name": "allen", "n": 1}, true)
		require.NoError(t, err)
		var ev map[string]any
		require.NoError(t, json.Unmarshal(res.Data, &ev))
		assert.NotZero(t, ev["jobId"])
		delete(ev, "jobId")
		events[name] = ev
	}
	assert.Equal(t, events["goEvent"], events["jsEvent"])
	assert.Equal(t, "sdk", events["jsEvent"]["eventType"])
	assert.Equal(t, map[string]any{"id": "env-1", "name": "staging"}, events["jsEvent"]["env"])
}

func TestJSBaaSInvokeChainsBothWays(t *testing.T) {
	t.Parallel()
	srv, c := jsSetup(t, map[string]string{
		// The seed page's caller, inside a function.
		"jsCaller": "exports.main = function (event, callback) {\n" +
			"BaaS.invoke('goHello', {name: event.data.name}).then(res => {\n" +
			"  let result = res\n" +
			"  if (result.code === 0) {\n" +
			"    callback(null, result.data)\n" +
			"  } else {\n" +
			"    callback(result.error.message)\n" +
			"  }\n" +
			"}, err => {\n" +
			"  callback(err)\n" +
			"})\n" +
			"}",
		"jsHello": "exports.main = function (event, callback) { callback(null, `js hello ${event.data.name} via ${event.eventType}`) }",
		"jsMissing": "exports.main = async function () {\n" +
			"  try { await BaaS.invoke('doesNotExist', {}) } catch (e) { return {code: e.code, message: e.message} }\n" +
			"}",
		"jsOld": "exports.main = async function () {\n" +
			"  const res = await BaaS.invokeFunction('jsHello', {name: 'old'})\n" +
			"  const queued = await BaaS.invoke('jsHello', {name: 'later'}, false)\n" +
			"  const v = BaaS.VERSION\n" +
			"  BaaS.useVersion('v3.4')\n" +
			"  return {status: res.status, data: res.data, queued, before: v, after: BaaS.VERSION}\n" +
			"}",
	})
	srv.Register("goHello", func(ctx context.Context, ev *function.Event) (any, error) {
		var p struct{ Name string }
		ev.Decode(&p)
		return "go hello " + p.Name + " via " + ev.EventType, nil
	})
	srv.Register("goCaller", func(ctx context.Context, ev *function.Event) (any, error) {
		res, err := baas.Invoke(ctx, "jsHello", map[string]string{"name": "go"}, true)
		if err != nil {
			return nil, err
		}
		return res.Data, nil
	})
	assert.Equal(t, `{"code":0,"data":"go hello allen via cloud_function","error":{}}`, call(t, c, "jsCaller", map[string]string{"name": "allen"}))
	assert.Equal(t, `{"code":0,"data":"js hello go via cloud_function","error":{}}`, call(t, c, "goCaller", nil))
	assert.Equal(t, `{"code":0,"data":{"code":404,"message":"404: Cloud function \"doesNotExist\" not found."},"error":{}}`, call(t, c, "jsMissing", nil))
	assert.Equal(t, `{"code":0,"data":{"status":200,"data":{"code":0,"data":"js hello old via cloud_function","error":{}},`+
		`"queued":{"status":"ok"},"before":"v2","after":"v3.4"},"error":{}}`, call(t, c, "jsOld", nil))
	require.NoError(t, srv.Wait(context.Background()))
	var sources []string
	for _, j := range srv.Jobs() {
		if j.Function == "goHello" || j.Function == "jsHello" {
			sources = append(sources, j.Source)
			assert.Equal(t, emulator.StatusFulfilled, j.Status)
		}
	}
	assert.Equal(t, []string{"cloud_function", "cloud_function", "cloud_function", "cloud_function"}, sources)
}

func TestJSUnsupportedBaaSAPIsThrow611(t *testing.T) {
	t.Parallel()
	_, c := jsSetup(t, map[string]string{
		"unsupported": "exports.main = async function () {\n" +
			"  const out = []\n" +
			"  const tries = [\n" +
			"    () => new BaaS.ContentGroup(1),\n" +
			"    () => BaaS.User.getCurrentUser(),\n" +
			"    () => BaaS.sendEmail({}),\n" +
			"    () => new BaaS.TableSchema(),\n" +
			"    () => BaaS.wxAccessToken(),\n" +
			"    () => BaaS.request({url: 'x'}),\n" +
			"    () => JSON.stringify({f: BaaS.File}) + String(BaaS.File) + console.log(BaaS.User),\n" +
			"  ]\n" +
			"  for (const f of tries) { try { f(); out.push('no error') } catch (e) { out.push(e.code + ' ' + e.message) } }\n" +
			"  return out\n" +
			"}",
	})
	var got []string
	res, err := c.Invoke(context.Background(), "unsupported", nil, true)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(res.Data, &got))
	assert.Equal(t, []string{
		"611 611: unsupported function: BaaS.ContentGroup is not provided by the emulator",
		"611 611: unsupported function: BaaS.User.getCurrentUser is not provided by the emulator",
		"611 611: unsupported function: BaaS.sendEmail is not provided by the emulator",
		"611 611: unsupported function: BaaS.TableSchema is not provided by the emulator",
		"611 611: unsupported function: BaaS.wxAccessToken is not provided by the emulator",
		"611 611: unsupported function: BaaS.request is not provided by the emulator",
		"no error", // mentioning, printing or encoding the API is harmless; only using it throws
	}, got)
}

func TestJSWorkerKeepsItsOwnJSONAndFormat(t *testing.T) {
	t.Parallel()
	srv, c := jsSetup(t, map[string]string{
		"hijack": "let n = 0\n" +
			"exports.main = function (event, callback) {\n" +
			"  const real = JSON.stringify\n" +
			"  if (n++ === 0) { JSON.stringify = () => '\"hijacked\"'; require('util').format = () => 'hijacked' }\n" +
			"  console.log('call %d', n)\n" +
			"  callback(null, {n: n, same: real === JSON.stringify})\n" +
			"}",
	})
	for i := 1; i <= 2; i++ {
		res, err := c.Invoke(context.Background(), "hijack", nil, true)
		require.NoError(t, err)
		assert.Equal(t, 0, res.Code, "the worker's own encoding still works")
		assert.JSONEq(t, fmt.Sprintf(`{"n":%d,"same":%t}`, i, i > 1), string(res.Data))
		log := lastJob(t, srv, "hijack").Log
		require.Len(t, log, 1)
		assert.Contains(t, log[0], fmt.Sprintf("INFO call %d", i), "console keeps the worker's own util.format")
	}
}

func TestJSThrownPlainObjectIsAnError(t *testing.T) {
	t.Parallel()
	_, c := jsSetup(t, map[string]string{"plain": "exports.main = async () => { throw {message: 'plain object'} }"})
	res, err := c.Invoke(context.Background(), "plain", nil, true)
	require.NoError(t, err)
	assert.Equal(t, 1, res.Code)
	assert.Equal(t, "Error", res.Error.Type)
	assert.Equal(t, "plain object", res.Error.Message)
}

func TestJSFileThatDoesNotLoad(t *testing.T) {
	t.Parallel()
	srv, c := jsSetup(t, map[string]string{
		"noMain":     "exports.handler = function () {}\n",
		"throwsTop":  "const a = 1\nundefinedThing()\n",
		"helloWorld": "exports.main = async () => 'the version before'",
	})
	// A file that does not parse is refused where it is registered, and
	// the function stays as it was.
	err := srv.RegisterJS("helloWorld", "exports.main = function helloWorld(event, callback) {\n  console.log(event)\n  callback(null, 'x'))\n}\n")
	require.Error(t, err)
	assert.Equal(t, "emulator: function helloWorld does not load: SyntaxError: Unexpected token ')' (helloWorld.js:3)", err.Error())
	assert.Equal(t, `{"code":0,"data":"the version before","error":{}}`, call(t, c, "helloWorld", nil))

	res, err := c.Invoke(context.Background(), "noMain", nil, true)
	require.NoError(t, err)
	assert.Equal(t, 1, res.Code)
	assert.Equal(t, "TypeError", res.Error.Type)
	assert.Contains(t, res.Error.Message, "noMain.js does not export a main function")

	res, err = c.Invoke(context.Background(), "throwsTop", nil, true)
	require.NoError(t, err)
	assert.Equal(t, "ReferenceError", res.Error.Type)
	assert.Equal(t, "undefinedThing is not defined (throwsTop.js:2)", res.Error.Message)
}

func TestJSCrashesEndTheJobAndTheNextCallWorks(t *testing.T) {
	t.Parallel()
	fns := map[string]string{
		"exit":      "exports.main = function () { process.exit(3) }",
		"timer":     "exports.main = function (event, callback) { setTimeout(() => { throw new TypeError('boom') }, 10) }",
		"rejection": "exports.main = function (event, callback) { Promise.reject(new Error('nobody caught me')); setTimeout(() => callback(null, 1), 50) }",
		"killed":    "exports.main = function () { process.kill(process.pid, 'SIGKILL') }",
		"loop":      "exports.main = function () { for (;;) {} }",
		"ok":        "exports.main = async () => 'fine'",
	}
	// The crashes end their jobs at once, whatever the deadline: a generous
	// one, so that a slow restart of a worker is never taken for a crash.
	// The loop has a deadline of its own, which it runs to.
	crashSrv, crashC := jsSetup(t, fns)
	clk := emulator.NewFakeClock()
	loopSrv, loopC := jsSetup(t, fns, emulator.WithClock(clk), emulator.WithSyncTimeout(time.Hour))
	for _, tc := range []struct{ name, status, typ, msg string }{
		{"exit", emulator.StatusExecutionFailed, "Error", "the function called process.exit(3)"},
		{"timer", emulator.StatusExecutionFailed, "TypeError", "uncaught exception: boom"},
		{"rejection", emulator.StatusExecutionFailed, "Error", "unhandled promise rejection: nobody caught me"},
		{"killed", emulator.StatusExecutionFailed, "Error", "the Node process ended: signal: killed"},
		{"loop", emulator.StatusDeadlineExceeded, "TimeoutError", "function timed out after 3600000 ms"},
	} {
		srv, c := crashSrv, crashC
		var res *baas.Result
		var err error
		if tc.name == "loop" { // its deadline passes on the test's clock
			srv, c = loopSrv, loopC
			res, err = invokePastDeadline(t, srv, c, clk, tc.name, true, time.Hour, nil)
		} else {
			res, err = c.Invoke(context.Background(), tc.name, nil, true)
		}
		require.NoError(t, err, tc.name)
		assert.Equal(t, 1, res.Code, tc.name)
		assert.Equal(t, tc.typ, res.Error.Type, tc.name)
		assert.Equal(t, tc.msg, res.Error.Message, tc.name)
		assert.Equal(t, tc.status, lastJob(t, srv, tc.name).Status, tc.name)
		assert.Equal(t, `{"code":0,"data":"fine","error":{}}`, call(t, c, "ok", nil), "after "+tc.name)
	}
}

func TestJSOutOfMemory(t *testing.T) {
	t.Parallel()
	srv, c := jsSetup(t, map[string]string{
		"hog": "exports.main = async function () {\n" +
			"  const keep = []\n" +
			"  for (;;) keep.push(new Array(100000).fill({x: keep.length}))\n" +
			"}",
		"ok": "exports.main = async () => 'fine'",
	}, emulator.WithMemoryLimit(32), emulator.WithSyncTimeout(20*time.Second))
	res, err := c.Invoke(context.Background(), "hog", nil, true)
	require.NoError(t, err)
	assert.Equal(t, 1, res.Code)
	assert.Equal(t, "out of memory: the function used more than 32 MB", res.Error.Message)
	j := lastJob(t, srv, "hog")
	assert.Equal(t, emulator.StatusExecutionFailed, j.Status)
	assert.Greater(t, j.MemUsage, int64(16<<20), "the record says the memory the job used, not 0 B")
	for _, line := range j.Log {
		assert.NotContains(t, line, "FATAL ERROR", "V8's own report stays out of the job's log")
		assert.NotContains(t, line, "node::", "so does its native stack")
	}
	assert.Equal(t, `{"code":0,"data":"fine","error":{}}`, call(t, c, "ok", nil))
}

func TestJSRequireRelativeAndBuiltin(t *testing.T) {
	t.Parallel()
	nodetest.Need(t)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "greet", "index.js"), "const path = require('path')\nconst {word} = require('./lib/word')\n"+
		"exports.main = async (event) => `${word} ${event.data.name} from ${path.basename('/x/greet')}`\n")
	write(t, filepath.Join(dir, "greet", "lib", "word.js"), "exports.word = require('util').format('%s', 'hi')\n")
	write(t, filepath.Join(dir, "plain.js"), "exports.main = (event, cb) => cb(null, require('os').EOL.length)\n")
	write(t, filepath.Join(dir, "notes.txt"), "not a function\n")
	srv, c := setup(t)
	names, err := srv.LoadDir(dir)
	require.NoError(t, err)
	assert.Equal(t, []string{"greet", "plain"}, names)
	assert.Equal(t, `{"code":0,"data":"hi allen from greet","error":{}}`, call(t, c, "greet", map[string]string{"name": "allen"}))
	assert.Equal(t, `{"code":0,"data":1,"error":{}}`, call(t, c, "plain", nil))

	// RegisterJSFile: the file's own folder for its relative requires.
	require.NoError(t, srv.RegisterJSFile("direct", filepath.Join(dir, "greet", "index.js")))
	assert.Equal(t, `{"code":0,"data":"hi bob from greet","error":{}}`, call(t, c, "direct", map[string]string{"name": "bob"}))
	require.Error(t, srv.RegisterJSFile("missing", filepath.Join(dir, "nope.js")))
	require.Error(t, srv.RegisterJS("a/b", "exports.main = () => 1"))
	// The names the mincloud command refuses (internal/fnroot.CheckName).
	for _, bad := range []string{".hidden", "node_modules", "tab\there"} {
		err := srv.RegisterJS(bad, "exports.main = () => 1")
		require.Error(t, err, bad)
		assert.Contains(t, err.Error(), "is not valid", bad)
	}
	assert.NotContains(t, srv.Functions(), ".hidden")
	err = srv.RegisterJSFile("node_modules", filepath.Join(dir, "plain.js"))
	require.Error(t, err, "RegisterJSFile applies the same rule")
	assert.Contains(t, err.Error(), "is not valid")
	assert.NotContains(t, srv.Functions(), "node_modules")
	_, err = srv.LoadDir(filepath.Join(dir, "nope"))
	require.Error(t, err)
}

func write(t *testing.T, path, text string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
}

func TestJSWatchDirReloads(t *testing.T) {
	t.Parallel()
	nodetest.Need(t)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "hello.js"), "exports.main = async () => 'v1'\n")
	write(t, filepath.Join(dir, "dep", "index.js"), "exports.main = async () => require('./word')\n")
	write(t, filepath.Join(dir, "dep", "word.js"), "module.exports = 'one'\n")
	write(t, filepath.Join(dir, "lib", "shout.js"), "module.exports = (s) => s.toUpperCase()\n")
	write(t, filepath.Join(dir, "loud.js"), "const shout = require('./lib/shout'); exports.main = async () => shout('hey')\n")
	srv, c := setup(t)
	reports := make(chan string, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.WatchDir(ctx, dir, func(msg string) { reports <- msg }) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	wait := func(want string) {
		t.Helper()
		for {
			select {
			case got := <-reports:
				if got == want {
					return
				}
			case <-time.After(time.Minute):
				t.Fatalf("no report %q", want)
			}
		}
	}
	require.Eventually(t, func() bool { return len(srv.Functions()) == 3 }, time.Minute, 10*time.Millisecond)
	assert.Equal(t, `{"code":0,"data":"v1","error":{}}`, call(t, c, "hello", nil))
	assert.Equal(t, `{"code":0,"data":"HEY","error":{}}`, call(t, c, "loud", nil))

	// A shared file a <name>.js requires reloads it too.
	write(t, filepath.Join(dir, "lib", "shout.js"), "module.exports = (s) => s.toUpperCase() + '!'\n")
	wait("reloaded loud")
	assert.Equal(t, `{"code":0,"data":"HEY!","error":{}}`, call(t, c, "loud", nil))
	assert.Equal(t, `{"code":0,"data":"one","error":{}}`, call(t, c, "dep", nil))

	write(t, filepath.Join(dir, "hello.js"), "exports.main = async () => 'v2'\n")
	wait("reloaded hello")
	assert.Equal(t, `{"code":0,"data":"v2","error":{}}`, call(t, c, "hello", nil))

	write(t, filepath.Join(dir, "dep", "word.js"), "module.exports = 'two'\n")
	wait("reloaded dep")
	assert.Equal(t, `{"code":0,"data":"two","error":{}}`, call(t, c, "dep", nil))

	write(t, filepath.Join(dir, "added.js"), "exports.main = async () => 'new'\n")
	wait("loaded added")

	write(t, filepath.Join(dir, "broken.js"), "exports.main = async () => {\n  return 'x'))\n}\n")
	wait(`broken does not load: broken.js:2:13: Expected ";" but found ")"`)
	assert.Equal(t, `{"code":0,"data":"new","error":{}}`, call(t, c, "added", nil))
	res, err := c.Invoke(context.Background(), "broken", nil, true)
	require.NoError(t, err)
	assert.Equal(t, 1, res.Code)
	assert.Equal(t, `function broken cannot be bundled: broken.js:2:13: Expected ";" but found ")"`, res.Error.Message, "esbuild's message and file:line")

	require.NoError(t, os.Remove(filepath.Join(dir, "hello.js")))
	wait("removed hello")
	_, err = c.Invoke(context.Background(), "hello", nil, true)
	var he *baas.HError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, 404, he.Code)
}

func TestJSManyConcurrentCallsShareTheSlots(t *testing.T) {
	t.Parallel()
	srv, c := jsSetup(t, map[string]string{
		"tick": "exports.main = function (event, callback) { setTimeout(() => callback(null, event.data.i), 5) }",
	}, emulator.WithMaxJobs(100))
	const n = 200
	var wg sync.WaitGroup
	got := make([]string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := c.Invoke(context.Background(), "tick", map[string]int{"i": i}, true)
			if err != nil {
				got[i] = err.Error()
				return
			}
			got[i] = string(res.Data)
		}()
	}
	wg.Wait()
	for i := 0; i < n; i++ {
		assert.Equal(t, strconv.Itoa(i), got[i])
	}
	for _, j := range srv.Jobs() {
		assert.Equal(t, emulator.StatusFulfilled, j.Status)
	}
}

func TestJSCloseLeavesNoNodeProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	nodetest.Need(t)
	srv := emulator.New(emulator.WithSyncTimeout(5 * time.Second))
	require.NoError(t, srv.RegisterJS("hello", "exports.main = async () => 'hi'"))
	require.NoError(t, srv.RegisterJS("stuck", "exports.main = async () => { setInterval(() => {}, 1000) }"))
	c, err := srv.Client(baas.WithRetry(0))
	require.NoError(t, err)
	assert.Equal(t, `{"code":0,"data":"hi","error":{}}`, call(t, c, "hello", nil))
	_, err = c.Invoke(context.Background(), "stuck", nil, false)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return lastJob(t, srv, "stuck").Status == emulator.StatusExecuting }, time.Minute, 5*time.Millisecond)
	require.NotEmpty(t, nodeChildren(t))
	srv.Close()
	assert.Empty(t, nodeChildren(t), "Node processes left after Close")
	assert.Equal(t, emulator.StatusExecutionFailed, lastJob(t, srv, "stuck").Status)
}

// nodeChildren lists the pids of this process's children that run Node.
func nodeChildren(t testing.TB) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	require.NoError(t, err)
	me := os.Getpid()
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		s := string(b)
		end := strings.LastIndexByte(s, ')')
		if end < 0 {
			continue
		}
		fields := strings.Fields(s[end+1:])
		if len(fields) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(fields[1])
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if ppid == me && strings.Contains(string(cmdline), "bootstrap.js") {
			out = append(out, pid)
		}
	}
	return out
}

func TestJSWithoutNode(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, emulator.WithNode(filepath.Join(t.TempDir(), "no-node-here")))
	err := srv.RegisterJS("hello", "exports.main = async () => 'hi'")
	require.Error(t, err)
	for _, want := range []string{"install Node.js", "MINCLOUD_NODE", "WithNode"} {
		assert.Contains(t, err.Error(), want)
	}
	_, err = srv.LoadDir(t.TempDir())
	assert.NoError(t, err, "an empty folder needs no Node")
	srv.Register("goHello", hello)
	assert.Equal(t, `{"code":0,"data":"hello allen","error":{}}`, call(t, c, "goHello", map[string]string{"name": "allen"}))
}

func TestJSOpenAPICodeRunsAndDebugAnswers(t *testing.T) {
	t.Parallel()
	nodetest.Need(t)
	srv, _ := setup(t)
	c, err := srv.Client(baas.WithClientSecret(srv.ClientSecret))
	require.NoError(t, err)
	fns := manage.New(c)
	ctx := context.Background()
	_, err = fns.Create(ctx, manage.Function{Name: "helloWorld", Code: seedHelloWorld})
	require.NoError(t, err)
	run, err := fns.Debug(ctx, "helloWorld", map[string]string{"name": "allen"})
	require.NoError(t, err)
	assert.Equal(t, 0, run.Code)
	assert.Equal(t, `"hello allen"`, string(run.Data))
	assert.Greater(t, run.MemUsage, int64(1<<20), "the Node worker's memory")
	require.NotEmpty(t, run.LogLines())
	assert.Regexp(t, `^\d{4}-\d\d-\d\dT[\d:.]+Z INFO \{$`, run.LogLines()[0], "console.log(event), over several lines")
	assert.Contains(t, run.Log, "eventType: 'open_api'")

	code := "exports.main = async (event) => 'updated ' + event.data.name\n"
	_, err = fns.Update(ctx, "helloWorld", manage.Update{Code: &code})
	require.NoError(t, err)
	res, err := fns.Invoke(ctx, "helloWorld", map[string]string{"name": "bob"}, true)
	require.NoError(t, err)
	assert.Equal(t, `"updated bob"`, string(res.Data))
	f, err := fns.Get(ctx, "helloWorld")
	require.NoError(t, err)
	assert.Equal(t, code, f.Code)
}

func TestJSAsyncJobsGoThroughTheQueue(t *testing.T) {
	t.Parallel()
	srv, c := jsSetup(t, map[string]string{
		"later": "exports.main = (event, callback) => setTimeout(() => { console.log('done', event.data.i); callback(null, event.data.i) }, 20)",
	}, emulator.WithMaxJobs(2))
	for i := 0; i < 6; i++ {
		_, err := c.Invoke(context.Background(), "later", map[string]int{"i": i}, false)
		require.NoError(t, err)
	}
	require.NoError(t, srv.Wait(context.Background()))
	jobs := srv.Jobs()
	require.Len(t, jobs, 6)
	for i, j := range jobs {
		assert.Equal(t, emulator.StatusFulfilled, j.Status)
		assert.False(t, j.Sync)
		assert.Equal(t, strconv.Itoa(i), string(j.Result.Data))
		require.Len(t, j.Log, 1)
		assert.True(t, strings.HasSuffix(j.Log[0], " INFO done "+strconv.Itoa(i)), j.Log[0])
	}
}

// A result the SDK's 64 MiB answer cap could not take says, in the job,
// that it is too large and what the limit is, rather than failing in the
// caller's SDK or as a killed process: the emulator's cap is the SDK's
// less room for the answer around it.
func TestJSResultPastTheSDKsCapSaysTooLarge(t *testing.T) {
	t.Parallel()
	srv, c := jsSetup(t, map[string]string{
		"huge": "exports.main = async () => 'x'.repeat(63 << 20)",
		"ok":   "exports.main = async () => 'fine'",
	}, emulator.WithMemoryLimit(1024), emulator.WithSyncTimeout(60*time.Second))
	res, err := c.Invoke(context.Background(), "huge", nil, true)
	require.NoError(t, err, "the answer fits the SDK's cap")
	assert.Equal(t, 1, res.Code)
	assert.Contains(t, res.Error.Message, "the function's result is too large")
	assert.Contains(t, res.Error.Message, fmt.Sprintf("limit of %d bytes", baas.DefaultMaxResponseBytes-2<<20))
	assert.Equal(t, emulator.StatusExecutionFailed, lastJob(t, srv, "huge").Status)
	assert.Equal(t, `{"code":0,"data":"fine","error":{}}`, call(t, c, "ok", nil))
}
