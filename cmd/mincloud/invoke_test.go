package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mincloud-go/baas/emulator"
	"github.com/mincloud-go/baas/internal/nodetest"
)

func TestInvokeThroughDebug(t *testing.T) {
	c := connected(t)
	r := c.run("invoke", "helloWorld", `{"name":"allen"}`)
	require.Equal(t, 0, r.code, r)
	lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
	require.Len(t, lines, 10, r.stdout)
	assert.Equal(t, []string{"success", "result:", `  "hello allen"`, "summary:"}, lines[:4])
	assert.Regexp(t, `^  job id:\s+\d+$`, lines[4])
	assert.Regexp(t, `^  run time:\s+[\d.]+ ms$`, lines[5])
	assert.Regexp(t, `^  billed time:\s+\d+ ms$`, lines[6])
	assert.Regexp(t, `^  memory used:\s+[\d.]+ (B|KB|MB)$`, lines[7])
	assert.Equal(t, "log:", lines[8])
	assert.Regexp(t, `^  \S+Z INFO event eventType=open_api jobId=\d+$`, lines[9])
	assert.Empty(t, r.stderr)

	// A function's failure: the type, the message, every log line
	// indented, exit 3.
	r = c.run("invoke", "fail", `{"message":"line one\nline two"}`)
	assert.Equal(t, 3, r.code, r)
	assert.Contains(t, r.stdout, "failed (code 1)\ntype: Error\nmessage: line one\nline two\n")
	assert.Regexp(t, `(?m)^log:\n  \S+ ERROR line one\n  line two\n$`, r.stdout, "every line of the log is indented")
	assert.Empty(t, r.stderr)

	r = c.run("invoke", "echo", `{"deep":{"list":[1,2]}}`, "--json")
	require.Equal(t, 0, r.code, r)
	var run struct {
		Code          int             `json:"code"`
		Data          json.RawMessage `json:"data"`
		JobID         int64           `json:"job_id"`
		ExecutionTime float64         `json:"execution_time"`
		MemUsage      int64           `json:"mem_usage"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &run), r.stdout)
	assert.Equal(t, 0, run.Code)
	assert.JSONEq(t, `{"deep":{"list":[1,2]}}`, string(run.Data))
	assert.NotZero(t, run.JobID)

	// A function that logged nothing: the heading says so, rather than
	// ending the output with a bare "log:".
	r = c.run("invoke", "echo", `{"a":1}`)
	require.Equal(t, 0, r.code, r)
	assert.True(t, strings.HasSuffix(r.stdout, "\nlog: (empty)\n"), r.stdout)

	r = c.run("invoke", "nope")
	assert.Equal(t, 1, r.code, "the call failed")
	assert.Equal(t, "error: 404: Cloud function \"nope\" not found.\n", r.stderr)
	assert.Empty(t, r.stdout)

	r = c.run("invoke", "fail", "--json")
	assert.Equal(t, 3, r.code)
	assert.Contains(t, r.stdout, `"type": "Error"`)
}

func TestInvokeWithoutSecret(t *testing.T) {
	c := newCLI(t)
	c.env = []string{"MINCLOUD_HOST=" + hostURL, "MINCLOUD_CLIENT_ID=" + testClientID}
	r := c.run("invoke", "helloWorld", `{"name":"web"}`)
	require.Equal(t, 0, r.code, r)
	assert.Equal(t, "success\nresult:\n  \"hello web\"\n", r.stdout, "the Web API has no summary or log")

	r = c.run("invoke", "helloWorld", "--json")
	require.Equal(t, 0, r.code, r)
	assert.JSONEq(t, `{"code":0,"data":"hello ","error":{}}`, r.stdout)

	r = c.run("invoke", "fail")
	assert.Equal(t, 3, r.code, r)
	assert.Equal(t, "failed (code 1)\ntype: Error\nmessage: something went wrong\nstack:\n  Error: something went wrong\n", r.stdout)

	r = c.run("invoke", "echo", "[1]", "--async")
	require.Equal(t, 0, r.code, r)
	assert.Equal(t, "queued echo\n", r.stdout)

	r = c.run("invoke", "echo", "--async", "--json")
	require.Equal(t, 0, r.code, r)
	assert.JSONEq(t, `{"status":"ok"}`, r.stdout)

	c.env = nil
	r = c.run("invoke", "helloWorld")
	assert.Equal(t, 2, r.code, "a missing client id is a usage error: nothing was sent")
	assert.Contains(t, r.stderr, "error: 602: uninitialized: no client id: run 'mincloud login', or set --client-id or MINCLOUD_CLIENT_ID\n")
	assert.Contains(t, r.stderr, "--help")

	r = c.run("invoke", "helloWorld", "--client-id", "x", "--host", "127.0.0.1:8080")
	assert.Equal(t, 2, r.code, "a host the SDK refuses is a usage error: %s", r)
	assert.Contains(t, r.stderr, "605: incorrect parameter type")
}

func TestInvokeAsyncThenJobsAndLogs(t *testing.T) {
	c := connected(t)
	r := c.run("invoke", "slow", `{"ms":1}`, "--async")
	require.Equal(t, 0, r.code, r)
	assert.Equal(t, "queued slow\nfollow it: mincloud jobs slow, then mincloud logs slow JOB_ID\n", r.stdout)
	// The queued job runs on its own time: wait until no job of slow is
	// waiting or executing, so that the history below is settled.
	require.Eventually(t, func() bool {
		r := c.run("jobs", "slow", "--json")
		var jobs []struct{ Status string }
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &jobs) != nil {
			return false
		}
		for _, j := range jobs {
			if j.Status == "waiting" || j.Status == "executing" {
				return false
			}
		}
		return len(jobs) > 0
	}, time.Minute, 20*time.Millisecond, "the queued job never finished")

	// A debug run of slow gives a job whose log is known.
	r = c.run("invoke", "slow", `{"ms":2}`, "--json")
	require.Equal(t, 0, r.code, r)
	var run struct {
		JobID int64  `json:"job_id"`
		Log   string `json:"log"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &run))

	r = c.run("jobs", "slow", "--json", "--source", "open_api")
	require.Equal(t, 0, r.code, r)
	var jobs []struct {
		ID          int64  `json:"id"`
		Status      string `json:"status"`
		Source      string `json:"source"`
		ServiceType string `json:"service_type"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &jobs), r.stdout)
	require.NotEmpty(t, jobs)
	ids := map[int64]bool{}
	for _, j := range jobs {
		ids[j.ID] = true
		assert.Equal(t, "open_api", j.Source, "filtered by source")
	}
	assert.True(t, ids[run.JobID], "the debug run is in the history: %s", r.stdout)

	r = c.run("jobs", "slow", "--service-type", "time_sensitive", "--limit", "1")
	require.Equal(t, 0, r.code, r)
	rows := strings.Split(strings.TrimSpace(r.stdout), "\n")
	require.Len(t, rows, 2, r.stdout)
	assert.Regexp(t, `^ID\s+STATUS\s+SOURCE\s+SERVICE\s+CREATED\s+RUN$`, rows[0])
	// slow ran 2 ms: the emulator's exact run time, not the history's 0s.
	assert.Regexp(t, regexp.MustCompile(`^\d+\s+fulfilled\s+open_api\s+time_sensitive\s+\S+ \S+\s+(\d+ms|\d+\.\ds)$`), rows[1])

	r = c.run("logs", "slow", jsonNumber(run.JobID))
	require.Equal(t, 0, r.code, r)
	assert.Equal(t, run.Log+"\n", r.stdout)
	assert.Contains(t, r.stdout, "INFO sleeping 2 ms")

	r = c.run("logs", "slow", jsonNumber(run.JobID), "--json")
	require.Equal(t, 0, r.code, r)
	var log struct {
		JobID int64    `json:"job_id"`
		Log   []string `json:"log"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &log))
	assert.Equal(t, run.JobID, log.JobID)
	assert.Equal(t, strings.Split(run.Log, "\n"), log.Log)

	r = c.run("logs", "slow", "999999999")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "404: job 999999999")
}

func jsonNumber(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// A function whose promise resolves undefined runs to its deadline; the
// command waits a little past it, so the emulator's TimeoutError (code 1,
// exit 3) is what it prints, not the SDK's own 601.
func TestInvokeWaitsForTheServersTimeout(t *testing.T) {
	// In-process, so not parallel: the command runs with the test's environment.
	nodetest.Need(t)
	srv := emulator.New(emulator.WithClientID("undef-test"))
	t.Cleanup(srv.Close)
	require.NoError(t, srv.RegisterJS("undef", "exports.main = async () => { console.log('started') }"))
	c := newCLI(t)
	c.env = []string{"MINCLOUD_HOST=" + srv.URL, "MINCLOUD_CLIENT_ID=undef-test"}
	r := c.run("invoke", "undef")
	assert.Equal(t, 3, r.code, r)
	assert.Contains(t, r.stdout, "type: TimeoutError\nmessage: function timed out after 5000 ms\n")
}
