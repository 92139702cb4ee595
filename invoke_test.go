package baas

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// setup starts a server answering on mux and a client pointed at it.
func setup(t *testing.T, opts ...Option) (*Client, *http.ServeMux) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	// Generous deadlines: on a busy machine a call may wait its turn for
	// seconds; the tests that are about deadlines set their own.
	c, err := New(append([]Option{WithClientID("test-client"), WithHost(srv.URL),
		WithSyncTimeout(2 * time.Minute), WithAsyncTimeout(2 * time.Minute)}, opts...)...)
	require.NoError(t, err)
	return c, mux
}

// answer registers a job handler that writes status and body.
func answerWith(mux *http.ServeMux, status int, contentType, body string) {
	mux.HandleFunc(invokePath, func(w http.ResponseWriter, r *http.Request) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	})
}

func asHError(t *testing.T, err error) *HError {
	t.Helper()
	var he *HError
	require.ErrorAs(t, err, &he)
	return he
}

func TestRequestIsWhatTheOfficialSDKSends(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		opts     []Option
		params   any
		sync     bool
		wantBody string
		wantHdr  map[string]string
	}{
		{
			name:     "params and sync",
			params:   map[string]any{"name": "allen"},
			sync:     true,
			wantBody: `{"function_name":"helloWorld","sync":true,"data":{"name":"allen"}}`,
		},
		{
			name:     "no params leaves data out",
			params:   nil,
			sync:     false,
			wantBody: `{"function_name":"helloWorld","sync":false}`,
		},
		{
			name:     "no HTML escaping, as JSON.stringify",
			params:   "<a&b>",
			sync:     true,
			wantBody: `{"function_name":"helloWorld","sync":true,"data":"<a&b>"}`,
		},
		{
			name:     "raw JSON passes through",
			params:   json.RawMessage(`{"b":1,"a":[1,2]}`),
			sync:     true,
			wantBody: `{"function_name":"helloWorld","sync":true,"data":{"b":1,"a":[1,2]}}`,
		},
		{
			name:     "env and user token headers",
			opts:     []Option{WithEnv("env-1"), WithAuthToken("tok-123")},
			sync:     true,
			wantBody: `{"function_name":"helloWorld","sync":true}`,
			wantHdr:  map[string]string{"X-Hydrogen-Env-ID": "env-1", "Authorization": "Hydrogen-r1 tok-123"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, mux := setup(t, tc.opts...)
			var got *http.Request
			var body []byte
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				got = r
				body, _ = io.ReadAll(r.Body)
				io.WriteString(w, `{"code":0,"data":null,"error":{}}`)
			})
			_, err := c.Invoke(context.Background(), "helloWorld", tc.params, tc.sync)
			require.NoError(t, err)
			require.NotNil(t, got)
			assert.Equal(t, "POST", got.Method)
			assert.Equal(t, "/hserve/v1/cloud-function/job/", got.URL.Path)
			assert.Equal(t, tc.wantBody, string(body))
			assert.Equal(t, "application/json", got.Header.Get("Content-Type"))
			assert.Equal(t, "test-client", got.Header.Get("X-Hydrogen-Client-ID"))
			for _, h := range []string{"X-Hydrogen-Env-ID", "Authorization"} {
				if v, ok := tc.wantHdr[h]; ok {
					assert.Equal(t, v, got.Header.Get(h))
				} else {
					assert.NotContains(t, got.Header, h, "header sent though not set")
				}
			}
		})
	}
}

func TestAnswersResolveAsTheOfficialSDK(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		status int
		body   string
		sync   bool
		want   string // the Result marshalled back
	}{
		{"success", 200, `{"code":0,"data":"hello allen","error":{}}`, true, `{"code":0,"data":"hello allen","error":{}}`},
		{"function failure is a result", 200, `{"code":1,"data":null,"error":{"message":"boom","type":"Error","stack":"at x"}}`, true,
			`{"code":1,"data":null,"error":{"message":"boom","type":"Error","stack":"at x"}}`},
		{"async acknowledgement", 200, `{"status":"ok"}`, false, `{"status":"ok"}`},
		{"extra keys kept", 200, `{"code":0,"data":{"z":1,"a":2},"error":{},"job_id":42,"execution_time":1.5}`, true,
			`{"code":0,"data":{"z":1,"a":2},"error":{},"execution_time":1.5,"job_id":42}`},
		{"201 is a success", 201, `{"code":0,"data":[1,2],"error":{}}`, true, `{"code":0,"data":[1,2],"error":{}}`},
		{"big numbers survive", 200, `{"code":0,"data":12345678901234567890123,"error":{}}`, true, `{"code":0,"data":12345678901234567890123,"error":{}}`},
		{"error as a string", 200, `{"code":1,"data":null,"error":"bad input"}`, true, `{"code":1,"data":null,"error":{"message":"bad input"}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, mux := setup(t)
			answerWith(mux, tc.status, "application/json", tc.body)
			res, err := c.Invoke(context.Background(), "f", nil, tc.sync)
			require.NoError(t, err)
			out, err := json.Marshal(res)
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(out))
		})
	}
}

func TestFunctionFailureIsAResultNotAnError(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	answerWith(mux, 200, "application/json", `{"code":1,"data":null,"error":{"message":"boom","type":"TypeError"}}`)
	res, err := c.Invoke(context.Background(), "f", nil, true)
	require.NoError(t, err)
	assert.Equal(t, 1, res.Code)
	assert.Equal(t, "boom", res.Error.Message)
	var fe *FunctionError
	require.ErrorAs(t, res.Err(), &fe)
	assert.Equal(t, 1, fe.Code)
	assert.Equal(t, "TypeError", fe.Type)
	assert.EqualError(t, res.Err(), "boom")

	_, err = InvokeAs[string](context.Background(), c, "f", nil)
	require.ErrorAs(t, err, &fe)
	var he *HError
	assert.False(t, errors.As(err, &he), "a function failure must not look like an HError")
}

func TestHTTPErrorsAreHErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		status      int
		contentType string
		body        string
		want        string // the whole Error(), or a prefix when wantMore
		wantMore    []string
	}{
		{"error_msg", 400, "application/json", `{"status":"error","error_msg":"Cloud function schedule failed"}`, "400: Cloud function schedule failed", nil},
		{"message", 403, "application/json", `{"message":"Forbidden by policy"}`, "403: Forbidden by policy", nil},
		{"error_msg wins over message", 401, "application/json", `{"error_msg":"a","message":"b"}`, "401: a", nil},
		{"json without text gets the default", 404, "application/json", `{"status":"error"}`, "404: Not Found", nil},
		{"402 default", 402, "application/json", `{}`, "402: Payment Required", nil},
		{"405 error_msg", 405, "application/json", `{"status":"error","error_msg":"Method not allowed"}`, "405: Method not allowed", nil},
		{"HTML 500 says more", 500, "text/html", "<html><body>Internal oops</body></html>", "500: unknown error",
			[]string{"HTTP 500", "text/html", "Internal oops"}},
		{"empty 502 says more", 502, "", "", "502: unknown error", []string{"HTTP 502", "empty body"}},
		{"HTML 503", 503, "text/html", "<h1>Service Unavailable</h1>", "503: unknown error", []string{"Service Unavailable"}},
		{"JSON string body", 500, "application/json", `"oops"`, "500: unknown error", []string{`oops`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, mux := setup(t, WithRetry(0))
			answerWith(mux, tc.status, tc.contentType, tc.body)
			res, err := c.Invoke(context.Background(), "f", nil, true)
			require.Nil(t, res)
			he := asHError(t, err)
			assert.Equal(t, tc.status, he.Code)
			assert.Equal(t, tc.status, he.StatusCode)
			if tc.wantMore == nil {
				assert.Equal(t, tc.want, err.Error())
			} else {
				assert.True(t, strings.HasPrefix(err.Error(), tc.want), err.Error())
				for _, m := range tc.wantMore {
					assert.Contains(t, err.Error(), m)
				}
			}
			assert.True(t, errors.Is(err, &HError{Code: tc.status}))
		})
	}
}

func TestLongErrorBodyIsCut(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	answerWith(mux, 500, "text/html", strings.Repeat("x", 100000))
	_, err := c.Invoke(context.Background(), "f", nil, true)
	he := asHError(t, err)
	assert.Less(t, len(he.Error()), 400)
	assert.Contains(t, he.Error(), "…")
}

func TestBadInputSendsNothing(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	c, mux := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { hits.Add(1) })
	cases := []struct {
		name   string
		fn     string
		params any
	}{
		{"empty name", "", nil},
		{"channel", "f", make(chan int)},
		{"func", "f", func() {}},
		{"NaN", "f", math.NaN()},
		{"Inf inside a map", "f", map[string]float64{"x": math.Inf(1)}},
		{"invalid raw JSON", "f", json.RawMessage(`{"a":`)},
	}
	for _, tc := range cases {
		_, err := c.Invoke(context.Background(), tc.fn, tc.params, true)
		he := asHError(t, err)
		assert.Equal(t, CodeBadParameter, he.Code, tc.name)
		assert.True(t, strings.HasPrefix(err.Error(), "605: incorrect parameter type"), tc.name+": "+err.Error())
	}
	_, err := c.Invoke(context.Background(), "", nil, true)
	assert.EqualError(t, err, "605: incorrect parameter type: function name is empty")
	//lint:ignore SA1012 a nil context is the bad input under test
	_, err = c.Invoke(nil, "f", nil, true)
	assert.EqualError(t, err, "605: incorrect parameter type: context is nil: pass context.Background() or a context with a deadline")
	assert.Zero(t, hits.Load(), "bad input reached the server")
}

func TestNonObjectSuccessIsAnHError(t *testing.T) {
	t.Parallel()
	cases := map[string]struct{ ct, body, want string }{
		"truncated": {"application/json", `{"code":0,"data":"hel`, `{\"code\":0,\"data\":\"hel`},
		"HTML":      {"text/html", `<html>hi</html>`, "text/html"},
		"empty":     {"application/json", ``, "empty body"},
		"array":     {"application/json", `[1,2,3]`, "[1,2,3]"},
		"null":      {"application/json", `null`, "null"},
		"no code":   {"application/json", `{"foo":1}`, "foo"},
		"bad code":  {"application/json", `{"code":"zero"}`, "zero"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, mux := setup(t)
			answerWith(mux, 200, tc.ct, tc.body)
			res, err := c.Invoke(context.Background(), "f", nil, true)
			assert.Nil(t, res)
			he := asHError(t, err)
			assert.Equal(t, 200, he.StatusCode)
			assert.Contains(t, he.Error(), "unexpected response")
			assert.Contains(t, he.Error(), tc.want)
		})
	}
}

func TestOversizedAnswerIsRefused(t *testing.T) {
	t.Parallel()
	t.Run("known length", func(t *testing.T) {
		t.Parallel()
		c, mux := setup(t, WithMaxResponseBytes(1024))
		answerWith(mux, 200, "application/json", `{"code":0,"data":"`+strings.Repeat("a", 4096)+`","error":{}}`)
		_, err := c.Invoke(context.Background(), "f", nil, true)
		assert.Contains(t, asHError(t, err).Error(), "too large")
	})
	t.Run("endless stream is not read to its end", func(t *testing.T) {
		t.Parallel()
		c, mux := setup(t, WithMaxResponseBytes(1<<20))
		var sent atomic.Int64
		mux.HandleFunc(invokePath, func(w http.ResponseWriter, r *http.Request) {
			chunk := bytes.Repeat([]byte("a"), 32<<10)
			for i := 0; i < 4096; i++ { // 128 MiB at most
				n, err := w.Write(chunk)
				sent.Add(int64(n))
				if err != nil {
					return
				}
			}
		})
		_, err := c.Invoke(context.Background(), "f", nil, true)
		assert.Contains(t, asHError(t, err).Error(), "too large")
		assert.Less(t, sent.Load(), int64(64<<20), "the client kept reading past its cap")
	})
}

func TestDeadlines(t *testing.T) {
	t.Parallel()
	slow := func(mux *http.ServeMux, d time.Duration) {
		mux.HandleFunc(invokePath, func(w http.ResponseWriter, r *http.Request) {
			// Read the body first: only then does the server notice a
			// client that hangs up, and end r.Context().
			io.Copy(io.Discard, r.Body)
			select {
			case <-time.After(d):
			case <-r.Context().Done():
			}
			io.WriteString(w, `{"code":0,"data":1,"error":{}}`)
		})
	}
	t.Run("sync deadline", func(t *testing.T) {
		t.Parallel()
		c, mux := setup(t, WithSyncTimeout(100*time.Millisecond))
		slow(mux, 5*time.Second)
		_, err := c.Invoke(context.Background(), "f", nil, true)
		assert.EqualError(t, err, `601: request timeout: "f" did not answer within its 100ms deadline (the sync call limit, WithSyncTimeout)`)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, CodeTimeout, asHError(t, err).Code)
	})
	t.Run("async deadline is separate", func(t *testing.T) {
		t.Parallel()
		c, mux := setup(t, WithSyncTimeout(50*time.Millisecond), WithAsyncTimeout(2*time.Second))
		slow(mux, 200*time.Millisecond)
		_, err := c.Invoke(context.Background(), "f", nil, false)
		assert.NoError(t, err)
		_, err = c.Invoke(context.Background(), "f", nil, true)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	})
	t.Run("trickling body cannot hold the call", func(t *testing.T) {
		t.Parallel()
		c, mux := setup(t, WithSyncTimeout(300*time.Millisecond))
		mux.HandleFunc(invokePath, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "100000")
			w.WriteHeader(200)
			for i := 0; i < 1000; i++ {
				if _, err := w.Write([]byte(" ")); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-time.After(50 * time.Millisecond):
				case <-r.Context().Done():
					return
				}
			}
		})
		start := time.Now()
		_, err := c.Invoke(context.Background(), "f", nil, true)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, CodeTimeout, asHError(t, err).Code)
		assert.Less(t, time.Since(start), 20*time.Second, "cut at its deadline, not when the 50 s body ends")
	})
	t.Run("caller's shorter deadline wins", func(t *testing.T) {
		t.Parallel()
		c, mux := setup(t)
		slow(mux, time.Hour) // answers when the call gives up
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := c.Invoke(ctx, "f", nil, true)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Less(t, time.Since(start), 30*time.Second, "cut at the context's deadline, not the client's 2 minutes")
		assert.Regexp(t, `^601: request timeout: "f" did not answer before the context's deadline, \d+ms after the call started$`, err.Error())
	})
	t.Run("cancellation", func(t *testing.T) {
		t.Parallel()
		c, mux := setup(t)
		slow(mux, 5*time.Second)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		_, err := c.Invoke(ctx, "f", nil, true)
		assert.ErrorIs(t, err, context.Canceled)
		assert.False(t, errors.Is(err, context.DeadlineExceeded))
	})
}

// closedAddr returns an address where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestRefusedConnection(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	c, err := New(WithClientID("x"), WithHost("http://"+closedAddr(t)), WithRetry(2), WithLogger(newTestLogger(&logs)))
	require.NoError(t, err)
	_, err = c.Invoke(context.Background(), "f", nil, true)
	he := asHError(t, err)
	assert.Equal(t, CodeNetwork, he.Code)
	assert.True(t, strings.HasPrefix(err.Error(), "600: network disconnected"), err.Error())
	var opErr *net.OpError
	assert.ErrorAs(t, err, &opErr, "the cause is kept")
	assert.Equal(t, 3, strings.Count(logs.String(), "baas: call"), "a refused connection is retried")
}

func TestRetries(t *testing.T) {
	t.Parallel()
	t.Run("429 then success", func(t *testing.T) {
		t.Parallel()
		c, mux := setup(t)
		var n atomic.Int32
		mux.HandleFunc(invokePath, func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) == 1 {
				w.WriteHeader(429)
				io.WriteString(w, `{"error_msg":"slow down"}`)
				return
			}
			io.WriteString(w, `{"code":0,"data":"ok","error":{}}`)
		})
		res, err := c.Invoke(context.Background(), "f", nil, true)
		require.NoError(t, err)
		assert.JSONEq(t, `"ok"`, string(res.Data))
		assert.EqualValues(t, 2, n.Load())
	})
	t.Run("WithRetry(0) sends once", func(t *testing.T) {
		t.Parallel()
		c, mux := setup(t, WithRetry(0))
		var n atomic.Int32
		mux.HandleFunc(invokePath, func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			w.WriteHeader(429)
		})
		_, err := c.Invoke(context.Background(), "f", nil, true)
		assert.Equal(t, 429, asHError(t, err).Code)
		assert.EqualValues(t, 1, n.Load())
	})
	t.Run("no retry past the deadline", func(t *testing.T) {
		t.Parallel()
		c, mux := setup(t, WithRetry(5), WithSyncTimeout(300*time.Millisecond))
		var n atomic.Int32
		mux.HandleFunc(invokePath, func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			w.Header().Set("Retry-After", "10")
			w.WriteHeader(429)
		})
		start := time.Now()
		_, err := c.Invoke(context.Background(), "f", nil, true)
		assert.Equal(t, 429, asHError(t, err).Code)
		assert.EqualValues(t, 1, n.Load())
		assert.Less(t, time.Since(start), 5*time.Second, "no 10 s wait for a retry the deadline does not allow")
	})
	for _, status := range []int{500, 502, 503, 400} {
		t.Run("no retry on "+http.StatusText(status), func(t *testing.T) {
			t.Parallel()
			c, mux := setup(t)
			var n atomic.Int32
			mux.HandleFunc(invokePath, func(w http.ResponseWriter, r *http.Request) {
				n.Add(1)
				w.WriteHeader(status)
			})
			_, err := c.Invoke(context.Background(), "f", nil, true)
			assert.Equal(t, status, asHError(t, err).Code)
			assert.EqualValues(t, 1, n.Load(), "the function may have run")
		})
	}
	t.Run("no retry when the connection breaks after sending", func(t *testing.T) {
		t.Parallel()
		c, mux := setup(t)
		var n atomic.Int32
		mux.HandleFunc(invokePath, func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		})
		_, err := c.Invoke(context.Background(), "f", nil, true)
		assert.Equal(t, CodeNetwork, asHError(t, err).Code)
		assert.EqualValues(t, 1, n.Load())
	})
}

func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	const token = "super-secret-token-value"
	var logs bytes.Buffer
	c, mux := setup(t, WithAuthToken(token), WithLogger(newTestLogger(&logs)), WithRetry(0))
	mux.HandleFunc(invokePath, func(w http.ResponseWriter, r *http.Request) {
		// A misbehaving proxy echoing the request's headers back.
		w.WriteHeader(502)
		io.WriteString(w, "<pre>Authorization: "+r.Header.Get("Authorization")+"</pre>")
	})
	_, err := c.Invoke(context.Background(), "f", nil, true)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), token)
	assert.Contains(t, err.Error(), "[REDACTED]")
	assert.NotContains(t, logs.String(), token)
	assert.Contains(t, logs.String(), "status=502")

	mux2 := http.NewServeMux()
	srv := httptest.NewServer(mux2)
	defer srv.Close()
	mux2.HandleFunc(invokePath, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(400)
		io.WriteString(w, `{"error_msg":"bad token `+strings.TrimPrefix(r.Header.Get("Authorization"), "Hydrogen-r1 ")+`"}`)
	})
	c2, err := New(WithClientID("x"), WithHost(srv.URL), WithAuthToken(token))
	require.NoError(t, err)
	_, err = c2.Invoke(context.Background(), "f", nil, true)
	assert.EqualError(t, err, "400: bad token [REDACTED]")
}

func TestLoggerGetsOneRecordPerAttempt(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	c, mux := setup(t, WithLogger(newTestLogger(&logs)))
	answerWith(mux, 200, "application/json", `{"code":0,"data":1,"error":{}}`)
	_, err := c.Invoke(context.Background(), "helloWorld", nil, true)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	require.Len(t, lines, 1)
	for _, want := range []string{"level=DEBUG", "function=helloWorld", "status=200", "attempt=1", "duration="} {
		assert.Contains(t, lines[0], want)
	}
}

func TestLoggerSaysWhenA2xxBodyWasUnusable(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	c, mux := setup(t, WithLogger(newTestLogger(&logs)))
	answerWith(mux, 200, "text/html", `<html>maintenance</html>`)
	_, err := c.Invoke(context.Background(), "helloWorld", nil, true)
	assert.Equal(t, 200, asHError(t, err).Code)
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	require.Len(t, lines, 1)
	for _, want := range []string{"status=200", `answer="unusable 2xx body"`, `error="200: unexpected response (HTTP 200, Content-Type text/html`} {
		assert.Contains(t, lines[0], want)
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	_, err := New()
	assert.Equal(t, CodeUninitialized, asHError(t, err).Code)
	assert.EqualError(t, err, "602: uninitialized: no client id: set one with WithClientID or the MINCLOUD_CLIENT_ID variable")
	for _, host := range []string{"example.com", "ftp://example.com", "/relative", "http://", "::bad"} {
		_, err := New(WithClientID("x"), WithHost(host))
		assert.Equal(t, CodeBadParameter, asHError(t, err).Code, host)
	}
	for _, opt := range []Option{WithSyncTimeout(0), WithAsyncTimeout(-1), WithRetry(-1), WithMaxResponseBytes(0)} {
		_, err := New(WithClientID("x"), opt)
		assert.Equal(t, CodeBadParameter, asHError(t, err).Code)
	}
	c, err := New(WithClientID("abc"))
	require.NoError(t, err)
	assert.Equal(t, "https://abc.myminapp.com"+invokePath, c.invokeURL)
	c, err = New(WithClientID("abc"), WithHost("http://127.0.0.1:9/"))
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:9"+invokePath, c.invokeURL)
}

// A bad option fails in New with a 605 that says what was wrong, instead
// of every call failing later with a 600 (or posting to a wrong URL).
func TestNewSaysWhatWasWrong(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		opts []Option
		want string // after "605: incorrect parameter type: "
	}{
		{"query", []Option{WithHost("https://example.com/?a=1")}, `host "https://example.com/?a=1" carries a query; give only scheme, host, port and path`},
		{"empty query", []Option{WithHost("https://example.com/?")}, `host "https://example.com/?" carries a query; give only scheme, host, port and path`},
		{"fragment", []Option{WithHost("https://example.com/#x")}, `host "https://example.com/#x" carries a fragment; give only scheme, host, port and path`},
		{"user info", []Option{WithHost("https://bob:hunter2@example.com")}, `host "https://bob:xxxxx@example.com" carries user info; the SDK authenticates with the client id and tokens, not the URL`},
		{"no scheme", []Option{WithHost("example.com")}, `host "example.com" is not an absolute http(s) URL (WithHost wants e.g. https://example.com)`},
		{"newline in host", []Option{WithHost("https://example.com\n")}, `host is not a URL: net/url: invalid control character in URL (WithHost wants e.g. https://example.com)`},
		{"client id", []Option{WithClientID("abc\r\nX-Evil: 1")}, `the client id holds the control character 0x0d at byte 3, which an HTTP header cannot carry`},
		{"token", []Option{WithAuthToken("tok\nsecret")}, `the user token (WithAuthToken) holds the control character 0x0a at byte 3, which an HTTP header cannot carry`},
		{"env", []Option{WithEnv("e\x00")}, `the environment id (WithEnv) holds the control character 0x00 at byte 1, which an HTTP header cannot carry`},
		{"user agent", []Option{WithUserAgent("ua\x7f")}, `the user agent (WithUserAgent) holds the control character 0x7f at byte 2, which an HTTP header cannot carry`},
		{"sync timeout", []Option{WithSyncTimeout(0)}, `the sync timeout must be positive, not 0s (WithSyncTimeout)`},
	}
	for _, tc := range cases {
		_, err := New(append([]Option{WithClientID("x")}, tc.opts...)...)
		assert.Equal(t, CodeBadParameter, asHError(t, err).Code, tc.name)
		assert.EqualError(t, err, "605: incorrect parameter type: "+tc.want, tc.name)
		assert.NotContains(t, err.Error(), "secret", tc.name)
		assert.NotContains(t, err.Error(), "hunter2", tc.name)
	}
	_, err := New(WithClientID(" \t"))
	assert.EqualError(t, err, "602: uninitialized: the client id is blank: set one with WithClientID or the MINCLOUD_CLIENT_ID variable")
	assert.Equal(t, CodeUninitialized, asHError(t, err).Code)
	_, err = New(WithClientID("x"), WithUserAgent("tabs\tare fine"))
	assert.NoError(t, err)
}

func TestInvokeFunctionReturnsTheWholeAnswer(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	mux.HandleFunc(invokePath, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "r-1")
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"code":0,"data":"hello allen","error":{}}`)
	})
	resp, err := c.InvokeFunction(context.Background(), "helloWorld", map[string]string{"name": "allen"}, true)
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "r-1", resp.Header.Get("X-Request-Id"))
	assert.Equal(t, `{"code":0,"data":"hello allen","error":{}}`, string(resp.Body))
	assert.Equal(t, 0, resp.Data.Code)
	var s string
	require.NoError(t, resp.Data.Decode(&s))
	assert.Equal(t, "hello allen", s)

	// Body and Data hold memory of their own: changing one leaves the other.
	for i := range resp.Body {
		resp.Body[i] = 'x'
	}
	assert.Equal(t, `"hello allen"`, string(resp.Data.Data))

	_, err = c.InvokeFunction(context.Background(), "", nil, true)
	assert.Equal(t, CodeBadParameter, asHError(t, err).Code)
}

func TestInvokeAs(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	answerWith(mux, 200, "application/json", `{"code":0,"data":{"sum":3},"error":{}}`)
	type out struct{ Sum int }
	got, err := InvokeAs[out](context.Background(), c, "add", []int{1, 2})
	require.NoError(t, err)
	assert.Equal(t, 3, got.Sum)

	// The function ran: data that does not fit T is no 605 ("nothing was
	// sent") but a DecodeError.
	_, err = InvokeAs[[]string](context.Background(), c, "add", nil)
	var de *DecodeError
	require.ErrorAs(t, err, &de, "data that does not fit T")
	assert.Equal(t, "*[]string", de.Type)
	assert.False(t, errors.As(err, new(*HError)))
	var ute *json.UnmarshalTypeError
	assert.ErrorAs(t, err, &ute)
}

func TestConcurrentCalls(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	mux.HandleFunc(invokePath, func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Data int `json:"data"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		w.Write([]byte(`{"code":0,"data":` + jsonInt(req.Data*2) + `,"error":{}}`))
	})
	var wg sync.WaitGroup
	errs := make(chan error, 2000)
	for i := 0; i < 2000; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := InvokeAs[int](context.Background(), c, "double", i)
			if err == nil && got != 2*i {
				err = errors.New("wrong answer")
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// newTestLogger logs everything, debug included, as text into w.
func newTestLogger(w io.Writer) *slog.Logger {
	var mu sync.Mutex
	return slog.New(slog.NewTextHandler(&lockedWriter{w: w, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func jsonInt(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
