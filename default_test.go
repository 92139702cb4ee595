package baas

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mincloud-go/baas/internal/envconf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests change the package-level client and the environment, so they
// do not run in parallel.

func resetDefaults(t *testing.T) {
	t.Helper()
	reset := func() {
		defaults.mu.Lock()
		defaults.initd, defaults.fromEnv, defaults.env = nil, nil, envconf.Values{}
		defaults.mu.Unlock()
	}
	reset()
	t.Cleanup(reset)
}

func echoServer(t *testing.T, hits *atomic.Int32) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, `{"code":0,"data":"`+r.Header.Get("X-Hydrogen-Client-ID")+`|`+r.Header.Get("X-Hydrogen-Env-ID")+`|`+r.Header.Get("Authorization")+`","error":{}}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestDefaultClientWithoutSetUpFailsWith602(t *testing.T) {
	resetDefaults(t)
	t.Setenv(EnvClientID, "")
	t.Setenv(EnvHost, "")
	_, err := Invoke(context.Background(), "f", nil, true)
	assert.Equal(t, CodeUninitialized, asHError(t, err).Code)
	_, err = InvokeFunction(context.Background(), "f", nil, true)
	assert.Equal(t, CodeUninitialized, asHError(t, err).Code)
	_, err = Invoke(context.Background(), "", nil, true)
	assert.Equal(t, CodeBadParameter, asHError(t, err).Code, "the name is checked first, as the official SDK")
}

func TestDefaultClientFromEnvironment(t *testing.T) {
	resetDefaults(t)
	var hits atomic.Int32
	srv := echoServer(t, &hits)
	t.Setenv(EnvClientID, "env-client")
	t.Setenv(EnvHost, srv.URL)
	t.Setenv(EnvEnvID, "test-env")
	t.Setenv(EnvAuthToken, "tok")
	got, err := InvokeAs[string](context.Background(), nil, "f", nil)
	require.NoError(t, err)
	assert.Equal(t, "env-client|test-env|Hydrogen-r1 tok", got)

	first, err := Default()
	require.NoError(t, err)
	again, err := Default()
	require.NoError(t, err)
	assert.Same(t, first, again, "the default client is built once per environment")

	t.Setenv(EnvClientID, "other")
	res, err := Invoke(context.Background(), "f", nil, true)
	require.NoError(t, err)
	assert.Equal(t, `"other|test-env|Hydrogen-r1 tok"`, string(res.Data))
}

func TestInitThenInvoke(t *testing.T) {
	resetDefaults(t)
	var hits atomic.Int32
	srv := echoServer(t, &hits)
	t.Setenv(EnvClientID, "")
	require.Error(t, Init(WithHost(srv.URL)), "Init without a client id")
	require.NoError(t, Init(WithClientID("init-client"), WithHost(srv.URL)))
	res, err := Invoke(context.Background(), "f", nil, true)
	require.NoError(t, err)
	assert.Equal(t, `"init-client||"`, string(res.Data))
	resp, err := InvokeFunction(context.Background(), "f", nil, true)
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
}

func TestContextClientWins(t *testing.T) {
	resetDefaults(t)
	var hits atomic.Int32
	srv := echoServer(t, &hits)
	require.NoError(t, Init(WithClientID("init-client"), WithHost(srv.URL)))
	c, err := New(WithClientID("ctx-client"), WithHost(srv.URL))
	require.NoError(t, err)
	ctx := NewContext(context.Background(), c)
	got, ok := FromContext(ctx)
	require.True(t, ok)
	assert.Same(t, c, got)
	res, err := Invoke(ctx, "f", nil, true)
	require.NoError(t, err)
	assert.Equal(t, `"ctx-client||"`, string(res.Data))
	_, ok = FromContext(context.Background())
	assert.False(t, ok)
}

func TestNoGoroutineLeftBehind(t *testing.T) {
	var hits atomic.Int32
	srv := echoServer(t, &hits)
	hc := &http.Client{Transport: newTransport()}
	c, err := New(WithClientID("x"), WithHost(srv.URL), WithHTTPClient(hc))
	require.NoError(t, err)
	before := runtime.NumGoroutine()
	for i := 0; i < 50; i++ {
		_, err := c.Invoke(context.Background(), "f", nil, true)
		require.NoError(t, err)
	}
	// Only the pooled keep-alive connections may remain; close them.
	hc.CloseIdleConnections()
	srv.CloseClientConnections()
	deadline := time.Now().Add(time.Minute) // a generous wait for the goroutines to end
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	assert.LessOrEqual(t, runtime.NumGoroutine(), before)
}
