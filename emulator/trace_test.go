package emulator

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mincloud-go/baas/function"
	"github.com/mincloud-go/baas/internal/nodetest"
)

func TestTraceIDOf(t *testing.T) {
	for _, tc := range []struct{ header, want string }{
		{"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "0af7651916cd43dd8448eb211c80319c"},
		{"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00", "0af7651916cd43dd8448eb211c80319c"},
		// A later version may carry more fields after a dash.
		{"01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra", "0af7651916cd43dd8448eb211c80319c"},
		{"", ""},
		{"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra", ""}, // version 00 has no more fields
		{"ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", ""},       // version ff is invalid
		{"00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01", ""},       // uppercase
		{"00-00000000000000000000000000000000-b7ad6b7169203331-01", ""},       // all-zero trace id
		{"00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01", ""},       // all-zero parent id
		{"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331", ""},          // no flags
		{"00_0af7651916cd43dd8448eb211c80319c_b7ad6b7169203331_01", ""},
	} {
		if got := traceIDOf(tc.header); got != tc.want {
			t.Errorf("traceIDOf(%q) = %q, want %q", tc.header, got, tc.want)
		}
	}
}

// A caller's traceparent is recorded on its job and ends each log line, in
// the record and in the printed output, so that a trace can be followed
// into the job; a call without one leaves both as they were.
func TestJobRecordsTheCallersTraceID(t *testing.T) {
	var out syncBuffer
	srv := New(WithLogOutput(&out))
	defer srv.Close()
	srv.Register("traced", func(ctx context.Context, ev *function.Event) (any, error) {
		function.Logger(ctx).Info("working")
		return "done", nil
	})
	post := func(traceparent string) {
		t.Helper()
		req, err := http.NewRequest("POST", srv.URL+"/hserve/v1/cloud-function/job/", strings.NewReader(`{"function_name":"traced","sync":true}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Hydrogen-Client-ID", srv.ClientID)
		if traceparent != "" {
			req.Header.Set("traceparent", traceparent)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	post("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	post("")

	jobs := srv.Jobs()
	if len(jobs) != 2 {
		t.Fatalf("%d jobs, want 2", len(jobs))
	}
	traced, plain := jobs[0], jobs[1]
	if traced.TraceID != "0af7651916cd43dd8448eb211c80319c" || plain.TraceID != "" {
		t.Errorf("trace ids %q and %q", traced.TraceID, plain.TraceID)
	}
	if len(traced.Log) != 1 || !strings.HasSuffix(traced.Log[0], " INFO working trace_id=0af7651916cd43dd8448eb211c80319c") {
		t.Errorf("traced log %q", traced.Log)
	}
	if len(plain.Log) != 1 || !strings.HasSuffix(plain.Log[0], " INFO working") {
		t.Errorf("plain log %q", plain.Log)
	}
	if printed := out.String(); !strings.Contains(printed, fmt.Sprintf("[traced #%d] ", traced.ID)) || !strings.Contains(printed, "working trace_id=0af7651916cd43dd8448eb211c80319c\n") {
		t.Errorf("printed %q", printed)
	}
}

// syncBuffer is a bytes.Buffer safe for the jobs' goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestJSJobRecordsTheCallersTraceID: a JavaScript function's job carries
// the caller's trace id too, in its record and on each console line.
func TestJSJobRecordsTheCallersTraceID(t *testing.T) {
	nodetest.Need(t)
	srv := New()
	defer srv.Close()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "tracedJS.js"), []byte("exports.main = async function () { console.log('from js'); return 1 }\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.LoadDir(dir); err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest("POST", srv.URL+"/hserve/v1/cloud-function/job/", strings.NewReader(`{"function_name":"tracedJS","sync":true}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Hydrogen-Client-ID", srv.ClientID)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	c := &http.Client{Timeout: 2 * time.Minute}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	jobs := srv.Jobs()
	if len(jobs) != 1 || jobs[0].TraceID != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Fatalf("jobs %+v", jobs)
	}
	if len(jobs[0].Log) != 1 || !strings.HasSuffix(jobs[0].Log[0], " from js trace_id=4bf92f3577b34da6a3ce929d0e0e4736") {
		t.Errorf("log %q", jobs[0].Log)
	}
}

// A line a JavaScript job's leftover code logs after the job ended takes
// the path of every log line: into the job's record with the caller's
// trace id, out to the event streams and to the log output.
func TestJSLateLineTakesTheOneLogPath(t *testing.T) {
	nodetest.Need(t)
	var out syncBuffer
	srv := New(WithLogOutput(&out), WithSyncTimeout(time.Minute), WithScheduleWait(time.Minute))
	defer srv.Close()
	if err := srv.RegisterJS("late", "exports.main = (event, cb) => { setTimeout(() => console.log('left behind'), 100).unref(); cb(null, 1) }"); err != nil {
		t.Fatal(err)
	}
	sub, ok := srv.events.subscribe("late")
	if !ok {
		t.Fatal("cannot subscribe")
	}
	defer srv.events.unsubscribe(sub)
	req, err := http.NewRequest("POST", srv.URL+"/hserve/v1/cloud-function/job/", strings.NewReader(`{"function_name":"late","sync":true}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Hydrogen-Client-ID", srv.ClientID)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	resp, err := (&http.Client{Timeout: 2 * time.Minute}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	const want = " INFO (after the job ended) left behind trace_id=4bf92f3577b34da6a3ce929d0e0e4736"
	deadline := time.After(time.Minute)
	for streamed := false; !streamed; {
		select {
		case f := <-sub.ch:
			sub.sent(f)
			streamed = bytes.Contains(f, []byte("event: log")) && bytes.Contains(f, []byte(strings.TrimSpace(want)))
		case <-deadline:
			t.Fatal("the late line never reached the event stream")
		}
	}
	jobs := srv.Jobs()
	if len(jobs) != 1 || len(jobs[0].Log) != 1 || !strings.HasSuffix(jobs[0].Log[0], want) {
		t.Fatalf("jobs %+v", jobs)
	}
	// The output is written after the stream is: wait for it.
	printedWant := fmt.Sprintf("[late #%d] ", jobs[0].ID)
	for printed := out.String(); !strings.Contains(printed, printedWant) || !strings.Contains(printed, want); printed = out.String() {
		select {
		case <-deadline:
			t.Fatalf("log output %q", printed)
		case <-time.After(10 * time.Millisecond):
		}
	}
}
