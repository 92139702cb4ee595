package emulator_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mincloud-go/baas/emulator"
	"github.com/mincloud-go/baas/function"
)

// get sends a GET with extra headers and returns the answer and its body.
func get(t *testing.T, url string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	require.NoError(t, err)
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

// The page and its two files are served from the binary, load nothing
// from elsewhere, and carry the client id but never the secret.
func TestDashboardServesItsPage(t *testing.T) {
	t.Parallel()
	srv, _ := setup(t, emulator.WithClientSecret("very-secret-value-42"))
	srv.Register("hello", hello)
	for path, typ := range map[string]string{
		"/_/": "text/html", "/_/app.js": "text/javascript", "/_/app.css": "text/css",
		"/_/api/info": "application/json", "/_/api/functions": "application/json",
	} {
		resp, body := get(t, srv.URL+path, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		assert.Contains(t, resp.Header.Get("Content-Type"), typ, path)
		assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "default-src 'self'", path)
		assert.NotContains(t, body, srv.ClientSecret, path)
		assert.NotContains(t, body, "http://", path+": everything is relative, nothing from outside")
		assert.NotContains(t, body, "https://", path)
	}
	_, page := get(t, srv.URL+"/_/", nil)
	assert.Contains(t, page, `<script src="app.js"`)
	_, info := get(t, srv.URL+"/_/api/info", nil)
	assert.JSONEq(t, `{"client_id":"`+srv.ClientID+`","invoke_path":"/hserve/v1/cloud-function/job/"}`, info)
	_, fns := get(t, srv.URL+"/_/api/functions", nil)
	var list []struct{ Name, Remark string }
	require.NoError(t, json.Unmarshal([]byte(fns), &list))
	assert.Equal(t, []struct{ Name, Remark string }{{"hello", "Go handler"}}, list)

	resp, _ := get(t, srv.URL+"/_", nil)
	assert.Equal(t, srv.URL+"/_/", resp.Request.URL.String(), "/_ redirects to the page")
	resp, body := get(t, srv.URL+"/_/api/nothing", nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Contains(t, body, "Not found")
}

// A page of another site must not read the dashboard: no CORS header,
// and a Host that is a DNS name (rebinding to 127.0.0.1) is refused.
func TestDashboardIsForThisMachineOnly(t *testing.T) {
	t.Parallel()
	srv, _ := setup(t)
	resp, _ := get(t, srv.URL+"/_/api/jobs", map[string]string{"Origin": "https://evil.example"})
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))

	port := srv.URL[strings.LastIndex(srv.URL, ":"):]
	for _, path := range []string{"/_/", "/_/api/jobs", "/_/api/events"} {
		resp, body := get(t, srv.URL+path, map[string]string{"Host": "evil.example" + port})
		assert.Equal(t, http.StatusForbidden, resp.StatusCode, path)
		assert.Contains(t, body, "served to this machine only", path)
	}
	resp, _ = get(t, srv.URL+"/_/api/jobs", map[string]string{"Host": "localhost" + port})
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	// The SDK's endpoints keep their CORS for mini programs and web pages.
	resp, _ = get(t, srv.URL+"/hserve/v1/cloud-function/job/", map[string]string{"Origin": "https://app.example"})
	assert.Equal(t, "https://app.example", resp.Header.Get("Access-Control-Allow-Origin"))
}

type dashJob struct {
	ID       int64    `json:"id"`
	Function string   `json:"function"`
	Status   string   `json:"status"`
	Log      []string `json:"log"`
	Result   *struct {
		Code int             `json:"code"`
		Data json.RawMessage `json:"data"`
	} `json:"result"`
	StartedAt  *string `json:"started_at"`
	FinishedAt *string `json:"finished_at"`
}

// The jobs API lists the most recent jobs newest first, of one function
// or all, without logs; one job comes with its log.
func TestDashboardJobsAPI(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	srv.Register("hello", hello)
	srv.Register("echo", func(context.Context, *function.Event) (any, error) { return nil, nil })
	for _, name := range []string{"hello", "echo", "hello"} {
		_, err := c.Invoke(context.Background(), name, map[string]any{"name": name}, true)
		require.NoError(t, err)
	}
	list := func(query string) []dashJob {
		resp, body := get(t, srv.URL+"/_/api/jobs"+query, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		var out []dashJob
		require.NoError(t, json.Unmarshal([]byte(body), &out), body)
		return out
	}
	all := list("")
	require.Len(t, all, 3)
	assert.Equal(t, []string{"hello", "echo", "hello"}, []string{all[0].Function, all[1].Function, all[2].Function})
	assert.Greater(t, all[0].ID, all[1].ID)
	assert.Nil(t, all[0].Log, "listings leave the log out")
	assert.Len(t, list("?limit=1"), 1)
	hellos := list("?function=hello")
	require.Len(t, hellos, 2)
	assert.Equal(t, all[0].ID, hellos[0].ID)
	assert.Empty(t, list("?function=nobody"))
	resp, _ := get(t, srv.URL+"/_/api/jobs?limit=0", nil)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)

	resp, body := get(t, srv.URL+"/_/api/jobs/"+jsonInt(all[0].ID), nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var one dashJob
	require.NoError(t, json.Unmarshal([]byte(body), &one))
	assert.Equal(t, emulator.StatusFulfilled, one.Status)
	require.Len(t, one.Log, 1)
	assert.Contains(t, one.Log[0], "INFO saying hello name=hello")
	require.NotNil(t, one.Result)
	assert.JSONEq(t, `"hello hello"`, string(one.Result.Data))
	assert.NotNil(t, one.StartedAt)
	assert.NotNil(t, one.FinishedAt)
	resp, _ = get(t, srv.URL+"/_/api/jobs/12", nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

// A job called with a traceparent shows its trace id, so that the
// dashboard leads from a trace to the job.
func TestDashboardShowsTheTraceID(t *testing.T) {
	t.Parallel()
	srv, _ := setup(t)
	srv.Register("hello", hello)
	code, body := post(t, srv, "POST", map[string]string{
		"X-Hydrogen-Client-ID": srv.ClientID,
		"traceparent":          "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
	}, `{"function_name":"hello","data":{"name":"t"}}`)
	require.Equal(t, http.StatusOK, code, body)
	_, list := get(t, srv.URL+"/_/api/jobs", nil)
	var jobs []struct {
		TraceID string `json:"trace_id"`
	}
	require.NoError(t, json.Unmarshal([]byte(list), &jobs))
	require.Len(t, jobs, 1)
	assert.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", jobs[0].TraceID)
}

// The jobs API reads the records while jobs are being recorded (run
// with -race): newest first, each job once.
func TestDashboardJobsWhileJobsRun(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, emulator.WithMaxJobRecords(50))
	srv.Register("hello", hello)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 200 {
			if _, err := c.Invoke(context.Background(), "hello", map[string]any{"name": "r"}, false); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for reading := true; reading; {
		select {
		case <-done:
			reading = false
		default:
		}
		for _, query := range []string{"?limit=20", "?function=hello&limit=20"} {
			_, body := get(t, srv.URL+"/_/api/jobs"+query, nil)
			var jobs []dashJob
			require.NoError(t, json.Unmarshal([]byte(body), &jobs), body)
			for i := 1; i < len(jobs); i++ {
				require.Greater(t, jobs[i-1].ID, jobs[i].ID, "newest first, each once")
			}
		}
	}
}
