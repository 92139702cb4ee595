package emulator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mincloud-go/baas"
	"github.com/mincloud-go/baas/emulator"
	"github.com/mincloud-go/baas/function"
)

// historyTotal reads total_count and the ids of one history page.
func historyPage(t *testing.T, srv *emulator.Server, tok, name, query string) (int, []int64) {
	t.Helper()
	status, _, body := openAPI(t, srv, tok, "GET", "/oserve/v1.3/cloud-function/"+name+"/job/"+query, "")
	require.Equal(t, 200, status, body)
	var p struct {
		Meta struct {
			TotalCount int `json:"total_count"`
		} `json:"meta"`
		Objects []struct {
			ID int64 `json:"id"`
		} `json:"objects"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &p))
	ids := make([]int64, len(p.Objects))
	for i, o := range p.Objects {
		ids[i] = o.ID
	}
	return p.Meta.TotalCount, ids
}

// Past the cap, the oldest jobs leave Jobs(), Job and the history.
func TestJobRecordsKeepTheMostRecent(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, emulator.WithMaxJobRecords(10))
	srv.Register("a", hello)
	srv.Register("b", hello)
	tok := accessToken(t, srv)
	ctx := context.Background()
	for i := 0; i < 25; i++ {
		name := "a"
		if i%5 == 4 {
			name = "b" // 5 of 25
		}
		_, err := c.Invoke(ctx, name, nil, true)
		require.NoError(t, err)
	}
	jobs := srv.Jobs()
	require.Len(t, jobs, 10)
	for i := 1; i < len(jobs); i++ {
		assert.Greater(t, jobs[i].ID, jobs[i-1].ID, "oldest first")
	}
	first := jobs[0].ID
	_, ok := srv.Job(first - 1)
	assert.False(t, ok, "a forgotten job is gone from Job")
	_, ok = srv.Job(first)
	assert.True(t, ok)

	total, ids := historyPage(t, srv, tok, "a", "?limit=100")
	assert.Equal(t, 8, total, "the last 10 jobs hold 8 of a")
	require.Len(t, ids, 8)
	assert.Equal(t, jobs[8].ID, ids[0], "newest first (the newest of all is b's)")
	assert.GreaterOrEqual(t, ids[7], first)
	total, _ = historyPage(t, srv, tok, "b", "")
	assert.Equal(t, 2, total)

	// Paging and filters work over what is kept.
	total, ids = historyPage(t, srv, tok, "a", "?limit=3&offset=6")
	assert.Equal(t, 8, total)
	assert.Len(t, ids, 2)
	total, _ = historyPage(t, srv, tok, "a", "?status=fulfilled&source=sdk&service_type=time_sensitive")
	assert.Equal(t, 8, total)
	total, _ = historyPage(t, srv, tok, "a", "?service_type=batch")
	assert.Equal(t, 0, total)
	total, _ = historyPage(t, srv, tok, "a", fmt.Sprintf("?created_at__gte=%d", jobs[9].CreatedAt.Unix()+1))
	assert.Equal(t, 0, total)
	total, _ = historyPage(t, srv, tok, "a", fmt.Sprintf("?created_at__lte=%d", jobs[9].CreatedAt.Unix()))
	assert.Equal(t, 8, total)
}

// heapInUse reads the heap in use after a full collection.
func heapInUse() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}

// Heap in use stays flat as jobs keep coming past the cap: each job below
// keeps a 32 KiB result, so 500 jobs kept past a cap of 100 would hold
// 16 MB more. Not parallel: it reads the process's heap.
func TestHeapStaysFlatPastTheRecordCap(t *testing.T) {
	srv, c := setup(t, emulator.WithMaxJobRecords(100))
	payload := strings.Repeat("x", 32<<10)
	srv.Register("big", func(ctx context.Context, ev *function.Event) (any, error) {
		function.Logger(ctx).Info("returning 32 KiB")
		return payload, nil
	})
	ctx := context.Background()
	run := func(n int) {
		for i := 0; i < n; i++ {
			_, err := c.Invoke(ctx, "big", nil, true)
			require.NoError(t, err)
		}
	}
	run(100) // fill the records and warm the connections
	before := heapInUse()
	run(500)
	after := heapInUse()
	assert.Equal(t, 100, len(srv.Jobs()))
	assert.Less(t, after-before, int64(4<<20), "heap grew from %d to %d bytes", before, after)
}

// The records are capped by bytes too: each job below keeps 1 MiB of log,
// so 40 jobs kept past a cap of 8 MiB would hold 32 MiB more. Not
// parallel: it reads the process's heap.
func TestHeapStaysFlatPastTheRecordByteCap(t *testing.T) {
	const capBytes = 8 << 20
	srv, c := setup(t, emulator.WithMaxJobRecordBytes(capBytes))
	chunk := strings.Repeat("y", 64<<10)
	srv.Register("chatty", func(ctx context.Context, ev *function.Event) (any, error) {
		for range 20 { // past the 1 MiB a record keeps
			function.Logger(ctx).Info(chunk)
		}
		return "done", nil
	})
	ctx := context.Background()
	run := func(n int) {
		for i := 0; i < n; i++ {
			_, err := c.Invoke(ctx, "chatty", nil, true)
			require.NoError(t, err)
		}
	}
	run(12) // past the cap, and the connections warm
	before := heapInUse()
	run(40)
	after := heapInUse()
	jobs := srv.Jobs()
	kept := 0
	for _, j := range jobs {
		for _, l := range j.Log {
			kept += len(l)
		}
	}
	assert.LessOrEqual(t, kept, capBytes, "the kept logs fit the cap")
	assert.GreaterOrEqual(t, kept, capBytes-2<<20, "and fill it: only the oldest went")
	assert.Less(t, len(jobs), 10, "the byte cap, not the count cap, forgot the rest")
	assert.Less(t, after-before, int64(4<<20), "heap grew from %d to %d bytes", before, after)
}

// A watcher sees each job created, started and ended; one that does not
// read misses events rather than holding the jobs up, and is told how
// many it missed; stop and Close end the watch.
func TestWatchJobs(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	srv.Register("hello", hello)
	events, stop := srv.WatchJobs()
	_, err := c.Invoke(context.Background(), "hello", nil, true)
	require.NoError(t, err)
	var seen []string
	for range 3 {
		ev := <-events
		assert.Equal(t, "hello", ev.Job.Function)
		assert.Zero(t, ev.Dropped)
		assert.Nil(t, ev.Job.Log, "events carry no log")
		seen = append(seen, ev.Job.Status)
	}
	assert.Equal(t, []string{emulator.StatusWaiting, emulator.StatusExecuting, emulator.StatusFulfilled}, seen)
	stop()
	_, open := <-events
	assert.False(t, open, "stop closes the channel")
	stop() // twice is harmless

	slow, _ := srv.WatchJobs()
	for range 100 { // 300 events, more than the channel holds
		_, err := c.Invoke(context.Background(), "hello", nil, true)
		require.NoError(t, err)
	}
	n := len(slow)
	for range n {
		<-slow
	}
	_, err = c.Invoke(context.Background(), "hello", nil, true)
	require.NoError(t, err)
	ev := <-slow
	assert.Equal(t, 300-n, ev.Dropped, "the next event counts the missed ones")
	srv.Close()
	for range slow { // drain what is left; Close closes it
	}
}

// A revoked user token is refused like a forged one.
func TestRevokeUserToken(t *testing.T) {
	t.Parallel()
	srv, _ := setup(t)
	srv.Register("whoami", func(ctx context.Context, ev *function.Event) (any, error) {
		return ev.Request.User.ID, nil
	})
	tok := srv.IssueUserToken(function.User{ID: 42})
	c, err := srv.Client(baas.WithAuthToken(tok), baas.WithRetry(0))
	require.NoError(t, err)
	res, err := c.Invoke(context.Background(), "whoami", nil, true)
	require.NoError(t, err)
	assert.Equal(t, "42", string(res.Data))

	srv.RevokeUserToken(tok)
	_, err = c.Invoke(context.Background(), "whoami", nil, true)
	var he *baas.HError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, 401, he.Code)
}

func TestJobLogIsCapped(t *testing.T) {
	t.Parallel()
	srv := emulator.New()
	t.Cleanup(srv.Close)
	line := strings.Repeat("x", 1000)
	srv.Register("chatty", func(ctx context.Context, ev *function.Event) (any, error) {
		for range 5000 { // 5 MB of log
			function.Logger(ctx).Info(line)
		}
		return "done", nil
	})
	c, err := srv.Client()
	require.NoError(t, err)
	res, err := c.Invoke(context.Background(), "chatty", nil, true)
	require.NoError(t, err)
	require.Equal(t, 0, res.Code)
	jobs := srv.Jobs()
	require.Len(t, jobs, 1)
	log := jobs[0].Log
	size := 0
	for _, l := range log {
		size += len(l)
	}
	assert.Less(t, size, 1<<20+2000, "a job keeps at most about 1 MiB of log")
	assert.Contains(t, log[len(log)-1], "WARN log truncated")
}
