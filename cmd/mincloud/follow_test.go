package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mincloud-go/baas/internal/nodetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// followWait bounds each wait for a line: generous, for a loaded machine.
const followWait = 60 * time.Second

// following is a running `mincloud logs NAME --follow`.
type following struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdout chan string
	stderr chan string
	done   chan error
}

// startFollow runs the binary with args and waits for its "following"
// notice on stderr.
func (c *cli) startFollow(args ...string) *following {
	c.t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = c.root
	cmd.Env = append(cleanEnv(c.config), c.env...)
	out, err := cmd.StdoutPipe()
	require.NoError(c.t, err)
	errOut, err := cmd.StderrPipe()
	require.NoError(c.t, err)
	require.NoError(c.t, cmd.Start())
	f := &following{t: c.t, cmd: cmd, stdout: make(chan string, 1000), stderr: make(chan string, 100), done: make(chan error, 1)}
	lines := func(r io.Reader, ch chan string) <-chan struct{} {
		eof := make(chan struct{})
		go func() {
			defer close(eof)
			sc := bufio.NewScanner(r)
			for sc.Scan() {
				ch <- sc.Text()
			}
		}()
		return eof
	}
	outEOF, errEOF := lines(out, f.stdout), lines(errOut, f.stderr)
	go func() {
		<-outEOF
		<-errEOF
		f.done <- cmd.Wait()
	}()
	c.t.Cleanup(func() { cmd.Process.Kill() })
	f.next(f.stderr, "following the jobs of")
	return f
}

// next waits for a line of ch containing want, and returns it.
func (f *following) next(ch chan string, want string) string {
	f.t.Helper()
	timeout := time.After(followWait)
	for {
		select {
		case line := <-ch:
			if strings.Contains(line, want) {
				return line
			}
		case err := <-f.done:
			f.done <- err // for the next wait
			// The command has ended: what it printed is all in ch.
			for {
				select {
				case line := <-ch:
					if strings.Contains(line, want) {
						return line
					}
				default:
					f.t.Fatalf("logs --follow ended (%v) before printing %q", err, want)
				}
			}
		case <-timeout:
			f.t.Fatalf("logs --follow did not print %q", want)
		}
	}
}

// interrupt sends Ctrl-C and returns the exit code.
func (f *following) interrupt() int {
	f.t.Helper()
	require.NoError(f.t, f.cmd.Process.Signal(os.Interrupt))
	select {
	case <-f.done:
	case <-time.After(followWait):
		f.t.Fatal("logs --follow did not stop on Ctrl-C")
	}
	return f.cmd.ProcessState.ExitCode()
}

var logLine = regexp.MustCompile(`^\[slow #(\d+)\] \S+Z INFO (.*)$`)

// From `mincloud serve`, the lines come through the event stream as the
// jobs log them, without a client secret; other functions' jobs are not
// shown; Ctrl-C ends it with exit 0.
func TestLogsFollowFromTheEmulator(t *testing.T) {
	t.Parallel()
	srv, err := startServe("--client-id", "follow-test")
	require.NoError(t, err)
	defer srv.stop()
	c := newCLI(t).onBinary()
	c.env = []string{"MINCLOUD_HOST=" + srv.url, "MINCLOUD_CLIENT_ID=follow-test"}
	f := c.startFollow("logs", "slow", "--follow")

	require.Equal(t, 0, c.run("invoke", "echo", `{"a":1}`).code)
	r := c.run("invoke", "slow", `{"ms":3}`)
	require.Equal(t, 0, r.code, r)
	first := logLine.FindStringSubmatch(f.next(f.stdout, "sleeping"))
	require.NotNil(t, first)
	assert.Equal(t, "sleeping 3 ms", first[2])
	second := logLine.FindStringSubmatch(f.next(f.stdout, "woke up"))
	require.NotNil(t, second)
	assert.Equal(t, first[1], second[1], "the same job")

	// A second job, async this time, follows on.
	require.Equal(t, 0, c.run("invoke", "slow", `{"ms":4}`, "--async").code)
	third := logLine.FindStringSubmatch(f.next(f.stdout, "sleeping 4 ms"))
	require.NotNil(t, third)
	assert.NotEqual(t, first[1], third[1])

	assert.Equal(t, 0, f.interrupt(), "Ctrl-C is success")
	for line := range drain(f.stdout) {
		assert.NotContains(t, line, "echo", "only slow's jobs")
	}
}

// A failed job's last line says how it ended, from the stream's record.
func TestLogsFollowShowsAFailure(t *testing.T) {
	t.Parallel()
	c := connected(t).onBinary()
	f := c.startFollow("logs", "fail", "--follow", "--json")
	r := c.run("invoke", "fail", `{}`)
	require.Equal(t, 3, r.code, r)
	line := f.next(f.stdout, `"status"`)
	assert.Regexp(t, `^\{"function":"fail","job_id":\d+,"status":"execution_failed","error":".+"\}$`, line)
	assert.Equal(t, 0, f.interrupt())
}

// A JavaScript failure followed live names the original source: the
// stack's frames, mapped through the bundle's source map, follow the
// status line (issue 16: stacks point to your source in the log too).
func TestLogsFollowShowsAFailuresStackInTheSource(t *testing.T) {
	t.Parallel()
	nodetest.Need(t)
	dir := bundleProject(t)
	srv, err := startServe("--client-id", "follow-stack", "--client-secret", "follow-stack-secret", "--functions", dir)
	require.NoError(t, err)
	defer srv.stop()
	c := newCLI(t).onBinary()
	c.env = []string{"MINCLOUD_HOST=" + srv.url, "MINCLOUD_CLIENT_ID=follow-stack"}
	f := c.startFollow("logs", "boom", "--follow")
	r := c.run("invoke", "boom")
	require.Equal(t, 3, r.code, r)
	status := f.next(f.stdout, "execution_failed")
	assert.Regexp(t, `^\[boom #\d+\] execution_failed: too far$`, status)
	frame := f.next(f.stdout, " at ")
	assert.Regexp(t, `^\[boom #\d+\]     at .*`+regexp.QuoteMeta(filepath.Join(dir, "boom.ts"))+`:7:11\)?$`, frame)
	assert.Equal(t, 0, f.interrupt())

	// logs NAME JOB_ID ends the same way.
	id := regexp.MustCompile(`#(\d+)\]`).FindStringSubmatch(status)[1]
	c.env = append(c.env, "MINCLOUD_CLIENT_SECRET=follow-stack-secret")
	r = c.run("logs", "boom", id)
	require.Equal(t, 0, r.code, r)
	assert.Contains(t, r.stdout, status+"\n"+frame+"\n", "the status, the message and the frames, as --follow prints them")
	r = c.run("logs", "boom", id, "--json")
	require.Equal(t, 0, r.code, r)
	var got struct{ Status, Error, Stack string }
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &got), r.stdout)
	assert.Equal(t, "execution_failed", got.Status)
	assert.Equal(t, "too far", got.Error)
	assert.Contains(t, got.Stack, filepath.Join(dir, "boom.ts")+":7:11")
}

func drain(ch chan string) map[string]bool {
	out := map[string]bool{}
	for {
		select {
		case l := <-ch:
			out[l] = true
		default:
			return out
		}
	}
}

// platformFront stands for the platform in front of an emulator: the
// same Open API, but no event stream (404), and links that name its own
// host. It counts the history reads.
func platformFront(t *testing.T, emulatorURL string) (frontURL string, historyReads *atomic.Int64) {
	t.Helper()
	target, err := url.Parse(emulatorURL)
	require.NoError(t, err)
	reads := &atomic.Int64{}
	front := httptest.NewUnstartedServer(nil)
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(resp *http.Response) error {
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		b = bytes.ReplaceAll(b, []byte(emulatorURL), []byte("http://"+front.Listener.Addr().String()))
		resp.Body = io.NopCloser(bytes.NewReader(b))
		resp.ContentLength = int64(len(b))
		resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
		return nil
	}
	front.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/_/") {
			http.NotFound(w, r)
			return
		}
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/job/") {
			reads.Add(1)
		}
		proxy.ServeHTTP(w, r)
	})
	front.Start()
	t.Cleanup(front.Close)
	return front.URL, reads
}

// From the platform, which has no stream, logs --follow reads the job
// history every --interval and prints each new job's log once it ended;
// it reads no more often than that.
func TestLogsFollowPollsThePlatform(t *testing.T) {
	t.Parallel()
	srv, err := startServe("--client-id", "poll-test", "--client-secret", "poll-secret")
	require.NoError(t, err)
	defer srv.stop()
	front, historyReads := platformFront(t, srv.url)
	c := newCLI(t).onBinary()
	c.env = []string{"MINCLOUD_HOST=" + front, "MINCLOUD_CLIENT_ID=poll-test", "MINCLOUD_CLIENT_SECRET=poll-secret"}

	// A job before the start is not shown.
	require.Equal(t, 0, c.run("invoke", "slow", `{"ms":1}`).code)
	started := time.Now()
	f := c.startFollow("logs", "slow", "--follow", "--interval", "1s")
	r := c.run("invoke", "slow", `{"ms":6}`)
	require.Equal(t, 0, r.code, r)
	first := logLine.FindStringSubmatch(f.next(f.stdout, "INFO"))
	require.NotNil(t, first)
	assert.Equal(t, "sleeping 6 ms", first[2], "the earlier job is not shown")
	second := logLine.FindStringSubmatch(f.next(f.stdout, "INFO"))
	require.NotNil(t, second)
	assert.Equal(t, "woke up", second[2])
	assert.Equal(t, first[1], second[1])
	assert.Equal(t, 0, f.interrupt())
	// One read at the start, then at most one per interval.
	elapsed := time.Since(started)
	assert.LessOrEqual(t, historyReads.Load(), int64(elapsed/time.Second)+1, "read %d times in %s", historyReads.Load(), elapsed)
}

// --follow refuses what it cannot use, before anything is sent.
func TestLogsFollowUsage(t *testing.T) {
	t.Parallel()
	c := connected(t).onBinary()
	r := c.run("logs", "slow", "12", "--follow")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "--follow takes no job id")
	r = c.run("logs", "slow", "--follow", "--interval", "10ms")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "--interval must be at least 1s")
	r = c.run("logs", "--help")
	assert.Contains(t, r.stdout, "every --interval (10s by default")
}

// When serve stops, logs --follow says so and fails: nothing more will
// come.
func TestLogsFollowEndsWhenTheEmulatorStops(t *testing.T) {
	t.Parallel()
	srv, err := startServe("--client-id", "stop-test")
	require.NoError(t, err)
	c := newCLI(t).onBinary()
	c.env = []string{"MINCLOUD_HOST=" + srv.url, "MINCLOUD_CLIENT_ID=stop-test"}
	f := c.startFollow("logs", "slow", "--follow")
	require.NoError(t, srv.stop())
	line := f.next(f.stderr, "ended the event stream")
	assert.Contains(t, line, "it has stopped")
	select {
	case <-f.done:
	case <-time.After(followWait):
		t.Fatal("logs --follow did not end")
	}
	assert.Equal(t, 1, f.cmd.ProcessState.ExitCode())
}

// A stream that ends with "lost" (this reader fell behind) is told apart
// from one that just ends, after the lines before it are printed.
func TestReadStreamLost(t *testing.T) {
	var out bytes.Buffer
	a := newApp(strings.NewReader(""), &out, io.Discard)
	p := newFollowPrinter(a, "f")
	stream := "retry: 1000\n: comment\n\n" +
		"event: log\ndata: {\"id\":7,\"function\":\"f\",\"n\":0,\"line\":\"one\"}\n\n" +
		"event: job\ndata: {\"id\":7,\"status\":\"deadline_exceeded\",\"result\":{\"code\":1,\"error\":{\"message\":\"too slow\"}}}\n\n" +
		"event: lost\ndata: {}\n\n" +
		"event: log\ndata: {\"id\":8,\"function\":\"f\",\"n\":0,\"line\":\"never\"}\n\n"
	lost, err := readStream(strings.NewReader(stream), p)
	require.NoError(t, err)
	assert.True(t, lost)
	assert.Equal(t, "[f #7] one\n[f #7] deadline_exceeded: too slow\n", out.String())

	out.Reset()
	lost, err = readStream(strings.NewReader("event: log\ndata: {\"id\":9,\"line\":\"x\"}\n\n"), p)
	require.NoError(t, err)
	assert.False(t, lost)
	assert.Equal(t, "[f #9] x\n", out.String())
}
