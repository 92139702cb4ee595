package emulator_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mincloud-go/baas/emulator"
	"github.com/mincloud-go/baas/function"
)

// sse is one server-sent event.
type sse struct{ event, data string }

// openEvents opens /_/api/events (query may be "") and returns its events
// as they come; the channel closes when the stream ends.
func openEvents(t *testing.T, srv *emulator.Server, query string) <-chan sse {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, "GET", srv.URL+"/_/api/events"+query, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	out := make(chan sse, 1024)
	go func() {
		defer close(out)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 16<<20) // a frame longer than the stream's cap shows as the stream ending
		var ev sse
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.event != "" {
					out <- ev
				}
				ev = sse{}
			case strings.HasPrefix(line, "event: "):
				ev.event = line[len("event: "):]
			case strings.HasPrefix(line, "data: "):
				ev.data = line[len("data: "):]
			}
		}
	}()
	return out
}

// next returns the next event, failing after a generous wait.
func next(t *testing.T, events <-chan sse) sse {
	t.Helper()
	select {
	case ev, ok := <-events:
		require.True(t, ok, "the stream ended")
		return ev
	case <-time.After(30 * time.Second):
		t.Fatal("no event came")
		return sse{}
	}
}

type jobEvent struct {
	ID       int64  `json:"id"`
	Function string `json:"function"`
	Status   string `json:"status"`
	Sync     bool   `json:"sync"`
	Source   string `json:"source"`
	Result   *struct {
		Code int             `json:"code"`
		Data json.RawMessage `json:"data"`
	} `json:"result"`
	ResultCut bool `json:"result_cut"`
}

type logEvent struct {
	ID       int64  `json:"id"`
	Function string `json:"function"`
	N        int    `json:"n"`
	Line     string `json:"line"`
}

func decode[T any](t *testing.T, ev sse, kind string) T {
	t.Helper()
	require.Equal(t, kind, ev.event, "data: %s", ev.data)
	var v T
	require.NoError(t, json.Unmarshal([]byte(ev.data), &v), ev.data)
	return v
}

// A stream for one function carries its jobs' status changes and log
// lines in order, and nothing of the other functions.
func TestEventsFollowAFunctionsJobs(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	srv.Register("talk", func(ctx context.Context, ev *function.Event) (any, error) {
		function.Logger(ctx).Info("first")
		function.Logger(ctx).Warn("second", "k", "v")
		return "said", nil
	})
	srv.Register("other", hello)
	events := openEvents(t, srv, "?function=talk")
	all := openEvents(t, srv, "")

	_, err := c.Invoke(context.Background(), "other", map[string]any{"name": "x"}, true)
	require.NoError(t, err)
	_, err = c.Invoke(context.Background(), "talk", nil, true)
	require.NoError(t, err)

	created := decode[jobEvent](t, next(t, events), "job")
	assert.Equal(t, "talk", created.Function)
	assert.Equal(t, emulator.StatusWaiting, created.Status)
	assert.Equal(t, "sdk", created.Source)
	assert.True(t, created.Sync)
	assert.Nil(t, created.Result)
	assert.Equal(t, emulator.StatusExecuting, decode[jobEvent](t, next(t, events), "job").Status)
	first := decode[logEvent](t, next(t, events), "log")
	assert.Equal(t, logEvent{ID: created.ID, Function: "talk", N: 0, Line: first.Line}, first)
	assert.Regexp(t, `^\d{4}-\d\d-\d\dT[\d:.]+Z INFO first$`, first.Line)
	second := decode[logEvent](t, next(t, events), "log")
	assert.Equal(t, 1, second.N)
	assert.Contains(t, second.Line, "WARN second k=v")
	ended := decode[jobEvent](t, next(t, events), "job")
	assert.Equal(t, emulator.StatusFulfilled, ended.Status)
	require.NotNil(t, ended.Result)
	assert.Equal(t, 0, ended.Result.Code)
	assert.JSONEq(t, `"said"`, string(ended.Result.Data))

	// The unfiltered stream saw the other function's job first.
	assert.Equal(t, "other", decode[jobEvent](t, next(t, all), "job").Function)
	// The lines in the events are the record's.
	j, ok := srv.Job(created.ID)
	require.True(t, ok)
	assert.Equal(t, []string{first.Line, second.Line}, j.Log)
}

// An async job's events come from the dispatcher and the job's goroutine:
// the same sequence.
func TestEventsOfAnAsyncJob(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	srv.Register("hello", hello)
	events := openEvents(t, srv, "?function=hello")
	_, err := c.Invoke(context.Background(), "hello", map[string]any{"name": "a"}, false)
	require.NoError(t, err)
	var kinds []string
	for {
		ev := next(t, events)
		if ev.event == "job" {
			j := decode[jobEvent](t, ev, "job")
			assert.False(t, j.Sync)
			kinds = append(kinds, j.Status)
			if j.Status == emulator.StatusFulfilled {
				break
			}
		} else {
			kinds = append(kinds, decode[logEvent](t, ev, "log").Line[25:])
		}
	}
	assert.Equal(t, []string{"waiting", "executing", "INFO saying hello name=a", "fulfilled"}, kinds)
}

// Close ends the open streams at once, as httptest's Close does, also one
// whose reader stopped reading while jobs logged megabytes into it. The
// bound is a hang check, well under the streams' 10 s write timeout and
// 15 s keep-alive.
func TestCloseEndsEventStreams(t *testing.T) {
	t.Parallel()
	srv := emulator.New()
	defer srv.Close()
	// Few big lines: the stream's writes block on the full connection long
	// before its subscriber is far enough behind to be dropped.
	line := strings.Repeat("x", 900_000)
	srv.Register("chatty", func(ctx context.Context, ev *function.Event) (any, error) {
		function.Logger(ctx).Info(line)
		return nil, nil
	})
	reading := openEvents(t, srv, "")

	// A reader that never reads, with a small receive buffer.
	stuck, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	require.NoError(t, err)
	defer stuck.Close()
	stuck.(*net.TCPConn).SetReadBuffer(4096)
	fmt.Fprintf(stuck, "GET /_/api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")

	c, err := srv.Client()
	require.NoError(t, err)
	for range 8 { // more than the kernel's buffers hold
		_, err := c.Invoke(context.Background(), "chatty", nil, true)
		require.NoError(t, err)
	}
	closed := make(chan struct{})
	go func() { srv.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waited for the event streams")
	}
	// The reading stream ended.
	for range reading {
	}
	// Close returned, so the server has let go of the stuck connection
	// too (its kernel may still hold the unsent bytes for a while).
}

// WatchJobs and the event stream are one mechanism: the same job changes
// reach a watcher and a stream, in the same order, and the stream's log
// lines come from the same hub. Close ends the watch, and a watch opened
// after Close comes closed.
func TestWatchJobsAndTheStreamSeeTheSameChanges(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	srv.Register("hello", hello)
	srv.Register("talk", func(ctx context.Context, ev *function.Event) (any, error) {
		function.Logger(ctx).Info("said once")
		return "ok", nil
	})
	stream := openEvents(t, srv, "")
	watch, stop := srv.WatchJobs()
	defer stop()
	for _, fn := range []string{"hello", "talk", "hello"} {
		_, err := c.Invoke(context.Background(), fn, nil, true)
		require.NoError(t, err)
	}
	type change struct {
		id     int64
		status string
	}
	var fromWatch, fromStream []change
	for range 9 {
		select {
		case ev := <-watch:
			fromWatch = append(fromWatch, change{ev.Job.ID, ev.Job.Status})
		case <-time.After(time.Minute):
			t.Fatal("no job change from WatchJobs")
		}
	}
	var logs []string
	for len(fromStream) < 9 {
		ev := next(t, stream)
		switch ev.event {
		case "job":
			var j struct {
				ID     int64  `json:"id"`
				Status string `json:"status"`
			}
			require.NoError(t, json.Unmarshal([]byte(ev.data), &j))
			fromStream = append(fromStream, change{j.ID, j.Status})
		case "log":
			logs = append(logs, ev.data)
		}
	}
	assert.Equal(t, fromWatch, fromStream, "one hub, one order")
	require.Len(t, logs, 3, "hello logs a line, talk one: the stream carries them")
	assert.Contains(t, logs[1], "said once")
	select {
	case ev := <-watch:
		t.Fatalf("an event more than the changes: %+v", ev)
	default:
	}
	srv.Close()
	_, open := <-watch
	assert.False(t, open, "Close ends the watch")
	late, _ := srv.WatchJobs()
	_, open = <-late
	assert.False(t, open, "a watch after Close comes closed")
}

// A large result does not cut the live streams: the "job" event carries a
// 64 KiB preview of its data, marked result_cut (the page reads the whole
// record from /_/api/jobs/{id}), and the stream goes on with the next job.
func TestALargeResultKeepsTheStreamOpen(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	srv.Register("big", func(ctx context.Context, ev *function.Event) (any, error) {
		if ev.Data == nil {
			return "small", nil
		}
		return strings.Repeat("x", 10<<20), nil
	})
	events := openEvents(t, srv, "?function=big")
	ctx := context.Background()
	res, err := c.Invoke(ctx, "big", map[string]bool{"big": true}, true)
	require.NoError(t, err)
	require.Equal(t, 0, res.Code)

	var ended jobEvent
	for ended.Status != emulator.StatusFulfilled {
		ev := next(t, events)
		require.Equal(t, "job", ev.event, "the stream was dropped: %.200s", ev.data)
		ended = decode[jobEvent](t, ev, "job")
	}
	require.NotNil(t, ended.Result)
	assert.True(t, ended.ResultCut)
	var preview string
	require.NoError(t, json.Unmarshal(ended.Result.Data, &preview))
	assert.LessOrEqual(t, len(preview), 64<<10)
	assert.True(t, strings.HasPrefix(preview, `"xxx`), "the preview is the data's first bytes: %.20s", preview)
	full, ok := srv.Job(ended.ID)
	require.True(t, ok)
	assert.Len(t, full.Result.Data, 10<<20+2, "the record keeps the whole result")

	_, err = c.Invoke(ctx, "big", nil, true)
	require.NoError(t, err)
	var statuses []string
	for len(statuses) == 0 || statuses[len(statuses)-1] != emulator.StatusFulfilled {
		ev := next(t, events)
		require.Equal(t, "job", ev.event, "the stream was dropped: %.200s", ev.data)
		j := decode[jobEvent](t, ev, "job")
		assert.NotEqual(t, ended.ID, j.ID)
		statuses = append(statuses, j.Status)
		if j.Status == emulator.StatusFulfilled {
			assert.False(t, j.ResultCut)
			assert.JSONEq(t, `"small"`, string(j.Result.Data))
		}
	}
	assert.Equal(t, []string{"waiting", "executing", "fulfilled"}, statuses)
}
