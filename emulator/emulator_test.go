package emulator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mincloud-go/baas"
	"github.com/mincloud-go/baas/emulator"
	"github.com/mincloud-go/baas/function"
)

// setup starts an emulator and a client for it.
func setup(t *testing.T, opts ...emulator.Option) (*emulator.Server, *baas.Client) {
	t.Helper()
	srv := emulator.New(opts...)
	t.Cleanup(srv.Close)
	// Generous client deadlines: on a busy machine a call may wait its
	// turn for seconds. The emulator's own deadlines are the subject of
	// the tests that set them.
	c, err := srv.Client(baas.WithRetry(0), baas.WithSyncTimeout(2*time.Minute), baas.WithAsyncTimeout(2*time.Minute))
	require.NoError(t, err)
	return srv, c
}

func hello(ctx context.Context, ev *function.Event) (any, error) {
	var p struct {
		Name string `json:"name"`
	}
	if err := ev.Decode(&p); err != nil {
		return nil, err
	}
	function.Logger(ctx).Info("saying hello", "name", p.Name)
	return "hello " + p.Name, nil
}

// post sends a raw request and returns the status and body.
func post(t *testing.T, srv *emulator.Server, method string, hdr map[string]string, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+"/hserve/v1/cloud-function/job/", strings.NewReader(body))
	require.NoError(t, err)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// invokePastDeadline calls name, sync or async, on a server whose clock
// is clk, and moves that clock to the job's deadline, timeout, once the
// job executes (a Go handler's deadline and a JavaScript worker's are set
// by then) and ready says it is where the test wants it (nil: at once).
// The job must still be executing 1 ms before. No real time is waited for
// the deadline to pass. A sync call returns the answer the deadline
// brought; an async one its acknowledgement, once the deadline has ended
// the job.
func invokePastDeadline(t *testing.T, srv *emulator.Server, c *baas.Client, clk *emulator.FakeClock, name string, sync bool, timeout time.Duration, ready func(emulator.Job) bool) (*baas.Result, error) {
	t.Helper()
	type answer struct {
		res *baas.Result
		err error
	}
	done := make(chan answer, 1)
	go func() {
		res, err := c.Invoke(context.Background(), name, nil, sync)
		done <- answer{res, err}
	}()
	var ack answer
	if !sync { // answered once queued; the job runs on
		select {
		case ack = <-done:
		case <-time.After(time.Minute):
			t.Fatalf("%s: the async call was not answered in a minute", name)
		}
		if ack.err != nil {
			return ack.res, ack.err
		}
	}
	newest := func() (emulator.Job, bool) {
		jobs := srv.Jobs()
		if len(jobs) == 0 || jobs[len(jobs)-1].Function != name {
			return emulator.Job{}, false
		}
		return jobs[len(jobs)-1], true
	}
	require.Eventually(t, func() bool {
		j, ok := newest()
		return ok && j.Status == emulator.StatusExecuting && (ready == nil || ready(j))
	}, time.Minute, time.Millisecond, "%s: its job never started executing", name)
	clk.Advance(timeout - time.Millisecond)
	if sync {
		select {
		case a := <-done:
			t.Fatalf("%s: answered before its deadline: %+v %v", name, a.res, a.err)
		case <-time.After(20 * time.Millisecond): // catches an early end sometimes, never fails wrongly
		}
	}
	assert.Equal(t, emulator.StatusExecuting, lastJob(t, srv, name).Status, "%s: ended before its deadline", name)
	clk.Advance(time.Millisecond)
	// The deadlines are hours long: only the test's clock ends them.
	if !sync {
		require.Eventually(t, func() bool {
			j, ok := newest()
			return ok && j.Done()
		}, time.Minute, time.Millisecond, "%s: still running a minute after its deadline passed on the test's clock", name)
		return ack.res, ack.err
	}
	select {
	case a := <-done:
		return a.res, a.err
	case <-time.After(time.Minute):
		t.Fatalf("%s: no answer a minute after its deadline passed on the test's clock", name)
		return nil, nil
	}
}

func TestHelloWorldAsTheSeedShows(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	srv.Register("helloWorld", hello)
	res, err := c.Invoke(context.Background(), "helloWorld", map[string]any{"name": "allen"}, true)
	require.NoError(t, err)
	out, err := json.Marshal(res)
	require.NoError(t, err)
	assert.Equal(t, `{"code":0,"data":"hello allen","error":{}}`, string(out))
	assert.Equal(t, []string{"helloWorld"}, srv.Functions())

	jobs := srv.Jobs()
	require.Len(t, jobs, 1)
	j := jobs[0]
	assert.Equal(t, "helloWorld", j.Function)
	assert.Equal(t, emulator.SourceSDK, j.Source)
	assert.Equal(t, emulator.StatusFulfilled, j.Status)
	assert.False(t, j.StartedAt.Before(j.CreatedAt))
	assert.False(t, j.FinishedAt.Before(j.StartedAt))
	require.Len(t, j.Log, 1)
	assert.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO saying hello name=allen$`, j.Log[0])
}

func TestEventCarriesWhatTheProtocolSays(t *testing.T) {
	t.Parallel()
	srv, _ := setup(t, emulator.WithMiniappID(42), emulator.WithEnv("env-1", "staging"))
	events := make(chan []byte, 4)
	srv.Register("show", func(ctx context.Context, ev *function.Event) (any, error) {
		b, err := json.Marshal(ev)
		events <- b
		return nil, err
	})
	tok := srv.IssueUserToken(function.User{ID: 7, Nickname: "allen"})
	c, err := srv.Client(baas.WithAuthToken(tok), baas.WithEnv("env-1"), baas.WithUserAgent("test-agent/1"))
	require.NoError(t, err)

	_, err = c.Invoke(context.Background(), "show", map[string]int{"a": 1}, true)
	require.NoError(t, err)
	var ev map[string]any
	require.NoError(t, json.Unmarshal(<-events, &ev))
	assert.Equal(t, map[string]any{"a": 1.0}, ev["data"])
	assert.Equal(t, "sdk", ev["eventType"])
	assert.NotZero(t, ev["jobId"])
	assert.EqualValues(t, 128, ev["memoryLimitInMB"])
	assert.EqualValues(t, 42, ev["miniappId"])
	assert.EqualValues(t, 5000, ev["timeLimitInMS"])
	assert.Equal(t, map[string]any{"id": "env-1", "name": "staging"}, ev["env"])
	req := ev["request"].(map[string]any)
	assert.Equal(t, map[string]any{"ip_address": "127.0.0.1", "user_agent": "test-agent/1"}, req["meta"])
	assert.Equal(t, map[string]any{"id": 7.0, "nickname": "allen"}, req["user"])

	// No params: no data key at all; async: the 300 s limit.
	_, err = c.Invoke(context.Background(), "show", nil, false)
	require.NoError(t, err)
	ev = nil
	require.NoError(t, json.Unmarshal(<-events, &ev))
	_, has := ev["data"]
	assert.False(t, has, "absent params must stay absent")
	assert.EqualValues(t, 300000, ev["timeLimitInMS"])
}

func TestFunctionFailures(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	srv.Register("fails", func(ctx context.Context, ev *function.Event) (any, error) {
		return nil, errors.New("boom")
	})
	srv.Register("typed", func(ctx context.Context, ev *function.Event) (any, error) {
		return nil, &function.Error{Message: "bad name", Type: "TypeError"}
	})
	srv.Register("panics", func(ctx context.Context, ev *function.Event) (any, error) {
		var items []int
		return items[3], nil // index out of range: panics
	})
	srv.Register("unencodable", func(ctx context.Context, ev *function.Event) (any, error) {
		return make(chan int), nil
	})
	cases := []struct{ fn, typ, msg string }{
		{"fails", "Error", "boom"},
		{"typed", "TypeError", "bad name"},
		{"panics", "PanicError", "index out of range"},
		{"unencodable", "TypeError", "cannot be encoded as JSON"},
	}
	for _, tc := range cases {
		res, err := c.Invoke(context.Background(), tc.fn, nil, true)
		require.NoError(t, err, tc.fn)
		assert.Equal(t, 1, res.Code, tc.fn)
		assert.Nil(t, res.Data, tc.fn)
		assert.Equal(t, tc.typ, res.Error.Type, tc.fn)
		assert.Contains(t, res.Error.Message, tc.msg, tc.fn)
		assert.NotEmpty(t, res.Error.Stack, tc.fn)
	}
	// The emulator survived the panic.
	srv.Register("helloWorld", hello)
	_, err := c.Invoke(context.Background(), "helloWorld", nil, true)
	require.NoError(t, err)
	for _, j := range srv.Jobs()[:4] {
		assert.Equal(t, emulator.StatusExecutionFailed, j.Status, j.Function)
	}
}

func TestProtocolErrors(t *testing.T) {
	t.Parallel()
	srv, _ := setup(t)
	srv.Register("helloWorld", hello)
	ok := map[string]string{"X-Hydrogen-Client-ID": srv.ClientID, "Content-Type": "application/json"}
	cases := []struct {
		name   string
		method string
		hdr    map[string]string
		body   string
		status int
		msg    string
	}{
		{"no client id", "POST", map[string]string{}, `{"function_name":"helloWorld"}`, 401, ""},
		{"wrong client id", "POST", map[string]string{"X-Hydrogen-Client-ID": "nope"}, `{"function_name":"helloWorld"}`, 401, ""},
		{"unknown user token", "POST", map[string]string{"X-Hydrogen-Client-ID": srv.ClientID, "Authorization": "Hydrogen-r1 forged"}, `{"function_name":"helloWorld"}`, 401, ""},
		{"unknown function", "POST", ok, `{"function_name":"nope"}`, 404, "nope"},
		{"not JSON", "POST", ok, `hello`, 400, "JSON object"},
		{"an array", "POST", ok, `[1]`, 400, "JSON object"},
		{"no function_name", "POST", ok, `{"data":1}`, 400, "function_name"},
		{"function_name not a string", "POST", ok, `{"function_name":1}`, 400, ""},
		{"GET", "GET", ok, ``, 405, ""},
		{"PUT", "PUT", ok, `{}`, 405, ""},
	}
	for _, tc := range cases {
		status, body := post(t, srv, tc.method, tc.hdr, tc.body)
		assert.Equal(t, tc.status, status, tc.name)
		var eb struct {
			Status   string `json:"status"`
			ErrorMsg string `json:"error_msg"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &eb), tc.name)
		assert.Equal(t, "error", eb.Status, tc.name)
		assert.NotEmpty(t, eb.ErrorMsg, tc.name)
		assert.Contains(t, eb.ErrorMsg, tc.msg, tc.name)
	}
	assert.Empty(t, srv.Jobs(), "no job for a refused call")

	// The SDK sees these as HErrors with the status as code.
	c, err := srv.Client(baas.WithClientID("wrong"))
	require.NoError(t, err)
	_, err = c.Invoke(context.Background(), "helloWorld", nil, true)
	var he *baas.HError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, 401, he.Code)
}

func TestBodyCap(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, emulator.WithMaxBodyBytes(1024))
	srv.Register("helloWorld", hello)
	_, err := c.Invoke(context.Background(), "helloWorld", strings.Repeat("x", 4096), true)
	var he *baas.HError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, 413, he.Code)
	assert.Contains(t, he.Error(), "too large")
}

func TestCORS(t *testing.T) {
	t.Parallel()
	srv, _ := setup(t)
	req, _ := http.NewRequest("OPTIONS", srv.URL+"/hserve/v1/cloud-function/job/", nil)
	req.Header.Set("Origin", "http://localhost:3000")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type,x-hydrogen-client-id")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 204, resp.StatusCode)
	assert.Equal(t, "http://localhost:3000", resp.Header.Get("Access-Control-Allow-Origin"))
	assert.Contains(t, resp.Header.Get("Access-Control-Allow-Methods"), "POST")
	assert.Contains(t, resp.Header.Get("Access-Control-Allow-Headers"), "x-hydrogen-client-id")

	status, _ := post(t, srv, "POST", map[string]string{"X-Hydrogen-Client-ID": srv.ClientID, "Origin": "http://x"}, `{"function_name":"none"}`)
	assert.Equal(t, 404, status)
}

func TestDeadlines(t *testing.T) {
	t.Parallel()
	clk := emulator.NewFakeClock()
	srv, c := setup(t, emulator.WithClock(clk), emulator.WithSyncTimeout(time.Hour), emulator.WithAsyncTimeout(2*time.Hour))
	var sawDeadline atomic.Bool
	srv.Register("slow", func(ctx context.Context, ev *function.Event) (any, error) {
		dl, ok := ctx.Deadline()
		left := dl.Sub(clk.Now())
		sawDeadline.Store(ok && left > 0 && left <= 2*time.Hour)
		<-ctx.Done()
		return nil, ctx.Err()
	})
	// stubborn ignores its context and returns only once the answer has
	// come: the answer waits for no handler past its deadline.
	answered := make(chan struct{})
	srv.Register("stubborn", func(ctx context.Context, ev *function.Event) (any, error) {
		<-answered
		return "late", nil
	})
	for _, fn := range []string{"slow", "stubborn"} {
		res, err := invokePastDeadline(t, srv, c, clk, fn, true, time.Hour, nil)
		require.NoError(t, err)
		assert.Equal(t, 1, res.Code)
		assert.Equal(t, "TimeoutError", res.Error.Type)
	}
	close(answered)
	assert.True(t, sawDeadline.Load())

	_, err := invokePastDeadline(t, srv, c, clk, "slow", false, 2*time.Hour, nil)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, srv.Wait(ctx))
	for _, j := range srv.Jobs() {
		assert.Equal(t, emulator.StatusDeadlineExceeded, j.Status, j.Function)
	}
}

func TestScheduling(t *testing.T) {
	t.Parallel()
	clk := emulator.NewFakeClock()
	srv, c := setup(t, emulator.WithClock(clk), emulator.WithMaxJobs(2), emulator.WithScheduleWait(time.Hour), emulator.WithSyncTimeout(2*time.Hour))
	release := make(chan struct{})
	var running, peak atomic.Int32
	srv.Register("hold", func(ctx context.Context, ev *function.Event) (any, error) {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		defer running.Add(-1)
		select {
		case <-release:
		case <-ctx.Done():
		}
		return "done", nil
	})
	// Two sync calls take both slots.
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := c.Invoke(context.Background(), "hold", nil, true)
			assert.NoError(t, err)
			if err == nil {
				assert.Equal(t, 0, res.Code)
			}
		}()
	}
	require.Eventually(t, func() bool { return running.Load() == 2 }, time.Minute, 5*time.Millisecond)

	// A third sync call waits its hour (on the test's clock: a real hour
	// would time the test out), then fails as the platform does.
	timers := clk.Waiting()
	third := make(chan error, 1)
	go func() {
		_, err := c.Invoke(context.Background(), "hold", nil, true)
		third <- err
	}()
	require.Eventually(t, func() bool { return clk.Waiting() == timers+1 }, time.Minute, time.Millisecond, "the third call never began its schedule wait")
	clk.Advance(time.Hour - time.Millisecond)
	select {
	case err := <-third:
		t.Fatalf("the third call ended before its schedule wait: %v", err)
	case <-time.After(20 * time.Millisecond): // no real wait is measured: a call ended early fails here sometimes, never wrongly
	}
	clk.Advance(time.Millisecond)
	err := <-third
	var he *baas.HError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, "400: Cloud function schedule failed", he.Error())

	// Async calls are queued, not refused, and run once slots free up.
	for i := 0; i < 3; i++ {
		res, err := c.Invoke(context.Background(), "hold", nil, false)
		require.NoError(t, err)
		assert.Equal(t, "ok", res.Status)
	}
	close(release)
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, srv.Wait(ctx))
	assert.LessOrEqual(t, peak.Load(), int32(2), "never more jobs at once than the limit")
	counts := map[string]int{}
	for _, j := range srv.Jobs() {
		counts[j.Status]++
	}
	assert.Equal(t, map[string]int{emulator.StatusFulfilled: 5, emulator.StatusScheduleFailed: 1}, counts)
}

func TestAsyncJobOutcomeAndLog(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	srv.Register("work", func(ctx context.Context, ev *function.Event) (any, error) {
		log := function.Logger(ctx)
		log.Info("step 1")
		log.Warn("step 2", "n", 2)
		log.Error("step 3")
		return map[string]int{"done": 3}, nil
	})
	res, err := c.Invoke(context.Background(), "work", nil, false)
	require.NoError(t, err)
	out, _ := json.Marshal(res)
	assert.Equal(t, `{"status":"ok"}`, string(out))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, srv.Wait(ctx))
	jobs := srv.Jobs()
	require.Len(t, jobs, 1)
	j, ok := srv.Job(jobs[0].ID)
	require.True(t, ok)
	assert.False(t, j.Sync)
	assert.Equal(t, emulator.StatusFulfilled, j.Status)
	assert.JSONEq(t, `{"done":3}`, string(j.Result.Data))
	require.Len(t, j.Log, 3)
	assert.Contains(t, j.Log[0], " INFO step 1")
	assert.Contains(t, j.Log[1], " WARN step 2 n=2")
	assert.Contains(t, j.Log[2], " ERROR step 3")
}

func TestFunctionCallsSibling(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	srv.Register("helloWorld", func(ctx context.Context, ev *function.Event) (any, error) {
		return ev.EventType, nil
	})
	srv.Register("chain", func(ctx context.Context, ev *function.Event) (any, error) {
		res, err := baas.Invoke(ctx, "helloWorld", map[string]string{"name": "inner"}, true)
		if err != nil {
			return nil, err
		}
		if err := res.Err(); err != nil {
			return nil, err
		}
		var inner string
		err = res.Decode(&inner)
		return "outer saw " + inner, err
	})
	got, err := baas.InvokeAs[string](context.Background(), c, "chain", nil)
	require.NoError(t, err)
	assert.Equal(t, "outer saw cloud_function", got)
	sources := map[string]string{}
	for _, j := range srv.Jobs() {
		sources[j.Function] = j.Source
	}
	assert.Equal(t, map[string]string{"chain": "sdk", "helloWorld": "cloud_function"}, sources)

	// The caller mark cannot be forged from outside.
	status, _ := post(t, srv, "POST", map[string]string{"X-Hydrogen-Client-ID": srv.ClientID, "X-Mincloud-Emulator-Caller": "guess"}, `{"function_name":"helloWorld"}`)
	assert.Equal(t, 200, status)
	assert.Equal(t, "sdk", srv.Jobs()[2].Source)
}

// Not parallel: it counts goroutines.
func TestTenThousandAsyncJobs(t *testing.T) {
	before := runtime.NumGoroutine()
	srv := emulator.New()
	var ran atomic.Int32
	srv.Register("count", func(ctx context.Context, ev *function.Event) (any, error) {
		ran.Add(1)
		function.Logger(ctx).Info("ran")
		return nil, nil
	})
	c, err := srv.Client(baas.WithRetry(3))
	require.NoError(t, err)
	const n = 10000
	var wg sync.WaitGroup
	sem := make(chan struct{}, 200)
	var failed atomic.Int32
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if _, err := c.Invoke(context.Background(), "count", i, false); err != nil {
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	require.Zero(t, failed.Load())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, srv.Wait(ctx))
	jobs := srv.Jobs()
	require.Len(t, jobs, n)
	seen := map[int64]bool{}
	for _, j := range jobs {
		assert.Equal(t, emulator.StatusFulfilled, j.Status)
		assert.Len(t, j.Log, 1)
		seen[j.ID] = true
	}
	assert.Len(t, seen, n, "job ids are unique")
	assert.EqualValues(t, n, ran.Load())
	srv.Close()
	c.CloseIdleConnections()
	assertNoGoroutineLeft(t, before)
}

func TestCloseCancelsRunningJobs(t *testing.T) {
	t.Parallel()
	srv := emulator.New()
	started := make(chan struct{})
	var sawCancel atomic.Bool
	srv.Register("wait", func(ctx context.Context, ev *function.Event) (any, error) {
		close(started)
		<-ctx.Done()
		sawCancel.Store(true)
		return nil, ctx.Err()
	})
	c, err := srv.Client()
	require.NoError(t, err)
	_, err = c.Invoke(context.Background(), "wait", nil, false)
	require.NoError(t, err)
	<-started
	done := make(chan struct{})
	go func() { srv.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("Close did not return")
	}
	assert.True(t, sawCancel.Load(), "Close returned before the handler saw its context end")
	assert.Equal(t, emulator.StatusExecutionFailed, srv.Jobs()[0].Status)
}

func assertNoGoroutineLeft(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Errorf("%d goroutines left (was %d):\n%s", n, before, bytes.TrimSpace(buf))
	}
}

func TestJobStatusesWhileRunningAndQueued(t *testing.T) {
	t.Parallel()
	clk := emulator.NewFakeClock()
	srv, c := setup(t, emulator.WithClock(clk), emulator.WithMaxJobs(1), emulator.WithAsyncScheduleWait(time.Hour), emulator.WithAsyncTimeout(2*time.Hour))
	release := make(chan struct{})
	srv.Register("hold", func(ctx context.Context, ev *function.Event) (any, error) {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil, nil
	})
	ctx := context.Background()
	_, err := c.Invoke(ctx, "hold", nil, false) // takes the only slot
	require.NoError(t, err)
	require.Eventually(t, func() bool { return srv.Jobs()[0].Status == emulator.StatusExecuting }, time.Minute, 5*time.Millisecond)
	timers := clk.Waiting()
	_, err = c.Invoke(ctx, "hold", nil, false) // waits for it
	require.NoError(t, err)

	jobs := srv.Jobs()
	assert.False(t, jobs[0].StartedAt.IsZero())
	assert.True(t, jobs[0].FinishedAt.IsZero())
	assert.Equal(t, emulator.StatusWaiting, jobs[1].Status)
	assert.True(t, jobs[1].StartedAt.IsZero())
	assert.Nil(t, jobs[1].Result)

	// Queued longer than the async schedule wait: schedule_failed.
	require.Eventually(t, func() bool { return clk.Waiting() == timers+1 }, time.Minute, time.Millisecond, "the queued job never began its schedule wait")
	clk.Advance(time.Hour - time.Millisecond)
	assert.Equal(t, emulator.StatusWaiting, srv.Jobs()[1].Status, "failed before its schedule wait ran out")
	clk.Advance(time.Millisecond)
	require.Eventually(t, func() bool { return srv.Jobs()[1].Status == emulator.StatusScheduleFailed }, time.Minute, 10*time.Millisecond)
	close(release)
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	require.NoError(t, srv.Wait(wctx))
	assert.Equal(t, emulator.StatusFulfilled, srv.Jobs()[0].Status)
	assert.Equal(t, emulator.StatusScheduleFailed, srv.Jobs()[1].Status)
}
