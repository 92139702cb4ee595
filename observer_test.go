package baas

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is an Observer that keeps what it was told, and puts a value
// and headers of its own into each call.
type recorder struct {
	mu       sync.Mutex
	starts   []CallInfo
	attempts []AttemptInfo
	ends     []CallEnd
	// ctxOK counts the Attempt and EndCall calls that received the
	// context StartCall returned.
	ctxOK int
}

type recorderKey struct{ r *recorder }

func (r *recorder) StartCall(ctx context.Context, call CallInfo) context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.starts = append(r.starts, call)
	call.Header.Set("Traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	// The SDK's own headers are not the observer's to change.
	call.Header.Set("X-Hydrogen-Client-ID", "hijacked")
	call.Header["x-hydrogen-client-id"] = []string{"hijacked"} // not canonical: still the SDK's
	call.Header.Set("Authorization", "Bearer hijacked")
	return context.WithValue(ctx, recorderKey{r}, r)
}

func (r *recorder) Attempt(ctx context.Context, _ CallInfo, a AttemptInfo) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts = append(r.attempts, a)
	if ctx.Value(recorderKey{r}) == r {
		r.ctxOK++
	}
}

func (r *recorder) EndCall(ctx context.Context, _ CallInfo, e CallEnd) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ends = append(r.ends, e)
	if ctx.Value(recorderKey{r}) == r {
		r.ctxOK++
	}
}

func TestObserverSeesA429RetryAndTheAnswer(t *testing.T) {
	var n atomic.Int32
	var seen []http.Header
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		seen = append(seen, r.Header.Clone())
		mu.Unlock()
		if n.Add(1) == 1 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"status":"error","error_msg":"too many requests"}`)
			return
		}
		io.WriteString(w, `{"code":0,"data":"hello allen","error":{}}`)
	}))
	defer srv.Close()
	rec := &recorder{}
	c, err := New(WithClientID("obs"), WithHost(srv.URL), WithObserver(rec))
	require.NoError(t, err)

	res, err := c.Invoke(context.Background(), "helloWorld", map[string]any{"name": "allen"}, true)
	require.NoError(t, err)
	assert.Equal(t, `"hello allen"`, string(res.Data))

	require.Len(t, rec.starts, 1)
	call := rec.starts[0]
	assert.Equal(t, OpInvoke, call.Op)
	assert.Equal(t, "helloWorld", call.Function)
	assert.True(t, call.Sync)
	assert.Equal(t, "POST", call.Method)
	assert.Equal(t, srv.URL+invokePath, call.URL)
	assert.False(t, call.Start.IsZero())

	require.Len(t, rec.attempts, 2)
	first, second := rec.attempts[0], rec.attempts[1]
	assert.Equal(t, 1, first.N)
	assert.Equal(t, http.StatusTooManyRequests, first.StatusCode)
	assert.True(t, first.Retry)
	// backoff(1, 0): between 50 and 100 ms.
	assert.GreaterOrEqual(t, first.Wait, 50*time.Millisecond)
	assert.LessOrEqual(t, first.Wait, 100*time.Millisecond)
	var he *HError
	require.ErrorAs(t, first.Err, &he)
	assert.Equal(t, 429, he.Code)
	assert.Equal(t, 2, second.N)
	assert.Equal(t, 200, second.StatusCode)
	assert.NoError(t, second.Err)
	assert.False(t, second.Retry)
	assert.Zero(t, second.Wait)
	// The second attempt started after the first's wait.
	assert.GreaterOrEqual(t, second.Start.Sub(first.End), first.Wait)

	require.Len(t, rec.ends, 1)
	end := rec.ends[0]
	assert.Equal(t, 2, end.Attempts)
	assert.Equal(t, 200, end.StatusCode)
	assert.NoError(t, end.Err)
	assert.Same(t, res, end.Result)
	assert.Empty(t, end.JobID)
	assert.Equal(t, 3, rec.ctxOK, "Attempt and EndCall receive the context StartCall returned")

	require.Len(t, seen, 2)
	for _, h := range seen {
		assert.Equal(t, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", h.Get("Traceparent"), "every attempt carries the observer's headers")
		assert.Equal(t, "obs", h.Get("X-Hydrogen-Client-ID"))
		assert.Empty(t, h.Get("Authorization"))
	}
}

func TestObserverSeesAnHError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"status":"error","error_msg":"function not found"}`)
	}))
	defer srv.Close()
	rec := &recorder{}
	c, err := New(WithClientID("obs"), WithHost(srv.URL), WithObserver(rec))
	require.NoError(t, err)

	_, err = c.InvokeFunction(context.Background(), "missing", nil, false)
	require.Error(t, err)
	require.Len(t, rec.starts, 1)
	assert.Equal(t, OpInvokeFunction, rec.starts[0].Op)
	assert.False(t, rec.starts[0].Sync)
	require.Len(t, rec.attempts, 1)
	assert.False(t, rec.attempts[0].Retry)
	require.Len(t, rec.ends, 1)
	end := rec.ends[0]
	assert.Same(t, err, end.Err)
	assert.Nil(t, end.Result)
	assert.Equal(t, 404, end.StatusCode)
	assert.Equal(t, 1, end.Attempts)
}

func TestObserverReadsTheJobIDOfAnAsyncAnswer(t *testing.T) {
	for _, tc := range []struct{ answer, want string }{
		{`{"status":"ok","job_id":1234}`, "1234"},
		{`{"status":"ok","job_id":"j-56"}`, "j-56"},
		{`{"status":"ok"}`, ""},
		{`{"status":"ok","job_id":null}`, ""},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, tc.answer)
		}))
		rec := &recorder{}
		c, err := New(WithClientID("obs"), WithHost(srv.URL), WithObserver(rec))
		require.NoError(t, err)
		_, err = c.Invoke(context.Background(), "later", nil, false)
		srv.Close()
		require.NoError(t, err)
		require.Len(t, rec.ends, 1)
		assert.Equal(t, tc.want, rec.ends[0].JobID, tc.answer)
	}
}

func TestObserverSeesDoAsOneCallWithoutTheTokenSteps(t *testing.T) {
	p := newOpenPlatform(t)
	p.refuse401.Store(1)
	rec := &recorder{}
	c := p.client(t, WithObserver(rec))

	_, err := c.Do(context.Background(), Request{Method: "GET", Path: "/oserve/v1.3/cloud-function/hello/", Name: "hello"})
	require.NoError(t, err)
	require.Len(t, rec.starts, 1, "getting the access token is part of the attempt, not a call")
	assert.Equal(t, OpDo, rec.starts[0].Op)
	assert.Equal(t, "hello", rec.starts[0].Function)
	assert.Equal(t, "GET", rec.starts[0].Method)
	require.Len(t, rec.attempts, 2)
	assert.Equal(t, 401, rec.attempts[0].StatusCode)
	assert.True(t, rec.attempts[0].Retry, "a refused token is renewed and the call sent again")
	assert.Zero(t, rec.attempts[0].Wait)
	assert.Equal(t, 200, rec.attempts[1].StatusCode)
	require.Len(t, rec.ends, 1)
	assert.Nil(t, rec.ends[0].Result)
	assert.Equal(t, 200, rec.ends[0].StatusCode)
	// The observer's Authorization never replaces the access token.
	assert.Equal(t, "Bearer access-2", p.last.Load().Header.Get("Authorization"))
	assert.Equal(t, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", p.last.Load().Header.Get("Traceparent"))
}

func TestObserversAreCalledInOrderWithTheContextThreaded(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"code":1,"data":null,"error":{"message":"boom"}}`)
	}))
	defer srv.Close()
	a, b := &recorder{}, &recorder{}
	c, err := New(WithClientID("obs"), WithHost(srv.URL), WithObserver(a), WithObserver(nil), WithObserver(b))
	require.NoError(t, err)
	res, err := c.Invoke(context.Background(), "fails", nil, true)
	require.NoError(t, err, "a function failure is a Result, not an error")
	for _, r := range []*recorder{a, b} {
		require.Len(t, r.ends, 1)
		assert.Same(t, res, r.ends[0].Result)
		assert.Equal(t, 1, r.ends[0].Result.Code)
		assert.NoError(t, r.ends[0].Err)
	}
	// b's StartCall got a's context: both values are in what b returned.
	assert.Equal(t, 2, a.ctxOK)
	assert.Equal(t, 2, b.ctxOK)
}

func TestObserverIsNotToldOfACallRefusedBeforeSending(t *testing.T) {
	rec := &recorder{}
	c, err := New(WithClientID("obs"), WithHost("http://127.0.0.1:1"), WithObserver(rec))
	require.NoError(t, err)
	_, err = c.Invoke(context.Background(), "", nil, true)
	require.Error(t, err)
	assert.Empty(t, rec.starts)
	assert.Empty(t, rec.ends)
}
