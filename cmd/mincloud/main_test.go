package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startServe runs `mincloud serve` on a free port and returns its URL and
// client id, and a function that stops it and returns its exit code.
func startServe(t *testing.T) (url, clientID string, stop func() int) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()

	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"serve", "--addr", addr, "--client-id", "cli-test", "--client-secret", "cli-secret"}, pw, io.Discard)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := sc.Text()
		if m := regexp.MustCompile(`^MinCloud emulator listening on (\S+)$`).FindStringSubmatch(line); m != nil {
			url = m[1]
		}
		if id, ok := strings.CutPrefix(line, "client id: "); ok {
			clientID = id
			break
		}
	}
	go io.Copy(io.Discard, pr) // the functions' logs
	require.Equal(t, "http://"+addr, url)
	stop = func() int {
		cancel()
		select {
		case c := <-code:
			return c
		case <-time.After(10 * time.Second):
			t.Fatal("serve did not stop")
			return -1
		}
	}
	return url, clientID, stop
}

func TestServeAndInvoke(t *testing.T) {
	url, id, stop := startServe(t)
	assert.Equal(t, "cli-test", id)
	t.Setenv("MINCLOUD_CLIENT_ID", "")
	t.Setenv("MINCLOUD_HOST", "")
	t.Setenv("MINCLOUD_CLIENT_SECRET", "")

	invoke := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(context.Background(), append([]string{"invoke"}, args...), &out, &errOut)
		return code, out.String(), errOut.String()
	}
	code, out, _ := invoke("helloWorld", `{"name":"allen"}`, "--host", url, "--client-id", id)
	assert.Equal(t, 0, code)
	assert.Equal(t, `{"code":0,"data":"hello allen","error":{}}`+"\n", out)

	code, out, _ = invoke("--async", "--host", url, "--client-id", id, "echo", `[1,2]`)
	assert.Equal(t, 0, code)
	assert.Equal(t, `{"status":"ok"}`+"\n", out)

	code, out, _ = invoke("fail", "--host", url, "--client-id", id)
	assert.Equal(t, 2, code, "a function failure")
	assert.Contains(t, out, `"code":1`)

	code, _, errOut := invoke("nope", "--host", url, "--client-id", id)
	assert.Equal(t, 1, code)
	assert.Equal(t, "404: Cloud function \"nope\" not found.\n", errOut)

	t.Setenv("MINCLOUD_HOST", url)
	t.Setenv("MINCLOUD_CLIENT_ID", id)
	code, out, _ = invoke("echo", `{"a":"<b>"}`)
	assert.Equal(t, 0, code, "host and client id from the environment")
	assert.Equal(t, `{"code":0,"data":{"a":"<b>"},"error":{}}`+"\n", out)

	code, _, errOut = invoke("echo", `{bad`)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "not valid JSON")

	// With the secret: the debug endpoint, then the hosted CLI's summary.
	code, out, errOut = invoke("helloWorld", `{"name":"allen"}`, "--client-secret", "cli-secret")
	require.Equal(t, 0, code, errOut)
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	require.GreaterOrEqual(t, len(lines), 7, out)
	assert.Equal(t, `{"code":0,"data":"hello allen","error":{}}`, lines[0])
	assert.Regexp(t, `^job id:\s+\d+$`, lines[1])
	assert.Regexp(t, `^run time:\s+[\d.]+ ms$`, lines[2])
	assert.Regexp(t, `^billed time:\s+\d+ ms$`, lines[3])
	assert.Regexp(t, `^memory used:\s+[\d.]+ (B|KB|MB)$`, lines[4])
	assert.Equal(t, "log:", lines[5])
	assert.Regexp(t, `^  \S+Z INFO event eventType=open_api jobId=\d+$`, lines[6])

	code, _, errOut = invoke("helloWorld", "--client-secret", "wrong")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "authorize step")
	assert.NotContains(t, errOut, "wrong")

	var jobsOut, jobsErr bytes.Buffer
	code = run(context.Background(), []string{"jobs", "helloWorld", "--client-secret", "cli-secret", "--source", "sdk"}, &jobsOut, &jobsErr)
	require.Equal(t, 0, code, jobsErr.String())
	rows := strings.Split(strings.TrimSpace(jobsOut.String()), "\n")
	assert.Regexp(t, `^ID\s+STATUS\s+SOURCE`, rows[0])
	assert.Len(t, rows, 2, "one sdk call of helloWorld so far:\n"+jobsOut.String())
	assert.Contains(t, rows[1], "fulfilled")

	assert.Equal(t, 0, stop())
}

func TestInvokeWithoutClientID(t *testing.T) {
	t.Setenv("MINCLOUD_CLIENT_ID", "")
	t.Setenv("MINCLOUD_CLIENT_SECRET", "")
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"invoke", "helloWorld"}, &out, &errOut)
	assert.Equal(t, 1, code)
	assert.Equal(t, "602: uninitialized: no client id: set one with WithClientID or the MINCLOUD_CLIENT_ID variable\n", errOut.String())
	assert.Empty(t, out.String())
}

func TestUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	assert.Equal(t, 2, run(context.Background(), nil, &out, &errOut))
	assert.Contains(t, errOut.String(), "usage:")
	assert.Equal(t, 2, run(context.Background(), []string{"frobnicate"}, &out, &errOut))
	assert.Equal(t, 2, run(context.Background(), []string{"invoke"}, &out, &errOut))
}
