package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestServeFlagsAndCleanStop(t *testing.T) {
	t.Parallel()
	srv, err := startServe("--client-id", "serve-test", "--sync-timeout", "1s", "--max-jobs", "4", "--memory-limit", "256", "--max-job-records", "100")
	require.NoError(t, err)
	banner := strings.Join(srv.banner, "\n")
	assert.Contains(t, banner, "client id: serve-test")
	assert.Contains(t, banner, "dashboard: "+srv.url+"/_/")
	assert.Contains(t, banner, "functions: chain, echo, fail, helloWorld, slow")
	assert.Contains(t, banner, "start with --client-secret", "says how to reach the Open API")
	assert.NotContains(t, banner, "secret:", "a made-up secret is not printed either")

	c := newCLI(t).onBinary()
	c.env = []string{"MINCLOUD_HOST=" + srv.url, "MINCLOUD_CLIENT_ID=serve-test"}
	r := c.run("invoke", "slow", `{"ms":10}`)
	require.Equal(t, 0, r.code, r)
	r = c.run("invoke", "slow", `{"ms":5000}`)
	assert.Equal(t, 3, r.code, "--sync-timeout ends the run: %s", r)

	require.NoError(t, srv.stop(), "Ctrl-C stops serve with exit 0")
	out := srv.rest.String()
	assert.Contains(t, out, "sleeping 10 ms", "the functions' logs go to serve's output")
	assert.True(t, strings.HasSuffix(out, "stopped\n"), out)
}

func TestServeNeverEchoesAGivenSecret(t *testing.T) {
	t.Parallel()
	srv, err := startServe("--client-id", "serve-secret", "--client-secret", "given-secret-42")
	require.NoError(t, err)
	defer srv.stop()
	assert.NotContains(t, strings.Join(srv.banner, "\n"), "given-secret-42")

	c := newCLI(t).onBinary()
	c.env = []string{"MINCLOUD_HOST=" + srv.url, "MINCLOUD_CLIENT_ID=serve-secret", "MINCLOUD_CLIENT_SECRET=given-secret-42"}
	r := c.run("list")
	require.Equal(t, 0, r.code, r)
	assert.Contains(t, r.stdout, "helloWorld")
}

func TestServeAddressInUse(t *testing.T) {
	c := newCLI(t)
	addr := strings.TrimPrefix(hostURL, "http://")
	done := make(chan result, 1)
	go func() { done <- c.run("serve", "--addr", addr) }()
	select {
	case r := <-done:
		assert.Equal(t, 1, r.code, r)
		assert.Contains(t, r.stderr, "address already in use")
		assert.Contains(t, r.stderr, "--addr 127.0.0.1:0 takes any free port", "says how to fix it")
		assert.Empty(t, r.stdout)
	case <-time.After(time.Minute):
		t.Fatal("serve on a busy address did not fail")
	}
}

// serve refuses record and queue caps and a memory limit the emulator
// cannot use, with the emulator's reason under the flag's name, before
// it listens.
func TestServeRefusesBadCaps(t *testing.T) {
	t.Parallel()
	c := newCLI(t).onBinary()
	for _, tc := range [][]string{
		{"--max-job-record-bytes", "0", "--max-job-record-bytes: the job records' byte cap must be positive, not 0"},
		{"--max-job-records", "0", "--max-job-records: at least 1 job record must be kept, not 0"},
		{"--memory-limit", "8", "--memory-limit: the memory limit must be at least 16 MB, Node's least workable heap, not 8"},
		{"--max-queued-jobs", "-1", "--max-queued-jobs: the async queue's cap must not be negative (0 for 10 × the max jobs), not -1"},
		{"--max-queued-bytes", "0", "--max-queued-bytes: the async queue's byte cap must be positive, not 0"},
		{"--async-timeout", "0s", "--async-timeout: the async timeout must be positive, not 0s"},
	} {
		r := c.run("serve", "--addr", "127.0.0.1:0", tc[0], tc[1])
		assert.Equal(t, 2, r.code, r)
		assert.Equal(t, "error: "+tc[2]+"\nRun 'mincloud serve --help' for usage.\n", r.stderr)
		assert.Empty(t, r.stdout, "nothing started")
	}
	srv, err := startServe("--client-id", "serve-caps", "--max-job-record-bytes", "1", "--memory-limit", "16", "--max-queued-jobs", "1", "--max-queued-bytes", "1")
	require.NoError(t, err, "the least usable values start")
	require.NoError(t, srv.stop())
}

// --max-queued-bytes caps the event data of the waiting async jobs: a
// call whose data alone is past it is refused (the emulator's schedule
// failure, a 400), a smaller one queued; --max-queued-jobs is taken.
// The help gives both defaults.
func TestServeQueueCaps(t *testing.T) {
	t.Parallel()
	srv, err := startServe("--client-id", "serve-queue", "--max-queued-bytes", "16", "--max-queued-jobs", "3")
	require.NoError(t, err)
	defer srv.stop()
	c := newCLI(t).onBinary()
	c.env = []string{"MINCLOUD_HOST=" + srv.url, "MINCLOUD_CLIENT_ID=serve-queue"}
	r := c.run("invoke", "echo", `{"pad":"more than sixteen bytes"}`, "--async")
	assert.Equal(t, 1, r.code, r)
	assert.Contains(t, r.stderr, "schedule failed", r)
	r = c.run("invoke", "echo", `{"n":1}`, "--async")
	assert.Equal(t, 0, r.code, r)

	r = c.run("serve", "--help")
	require.Equal(t, 0, r.code, r)
	assert.Regexp(t, `--max-queued-jobs int\s+how many async jobs .*\(0, the default: 10 × --max-jobs\)`, r.stdout)
	assert.Regexp(t, `--max-queued-bytes bytes\s+how many bytes .* \(default 64MiB\)\n`, r.stdout)
	assert.Regexp(t, `--max-job-record-bytes bytes\s+how many bytes .* \(default 64MiB\)\n`, r.stdout)
}
