package baas

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
)

// The benchmarks run the SDK beside a baseline that makes the same call
// with bare net/http (same transport settings, same server, same run): the
// SDK's cost is the ratio of the two.

const benchAnswer = `{"code":0,"data":"hello allen","error":{}}`

func benchServer(b *testing.B) *httptest.Server {
	b.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, benchAnswer)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// bareInvoke is what a hand-written client does for the same call: encode,
// post under the platform's 5 s deadline, read, decode.
func bareInvoke(ctx context.Context, hc *http.Client, url string, params any) (*Result, error) {
	ctx, cancel := context.WithTimeout(ctx, DefaultSyncTimeout)
	defer cancel()
	body, err := json.Marshal(struct {
		FunctionName string `json:"function_name"`
		Sync         bool   `json:"sync"`
		Data         any    `json:"data,omitempty"`
	}{"helloWorld", true, params})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", url+invokePath, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Hydrogen-Client-ID", "bench")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	var res struct {
		Code  int             `json:"code"`
		Data  json.RawMessage `json:"data"`
		Error *FunctionError  `json:"error"`
	}
	if err := json.Unmarshal(data, &res); err != nil {
		return nil, err
	}
	return &Result{Code: res.Code, Data: res.Data, Error: res.Error}, nil
}

var benchParams = map[string]any{"name": "allen"}

func BenchmarkInvoke(b *testing.B) {
	srv := benchServer(b)
	ctx := context.Background()
	b.Run("baseline=net/http", func(b *testing.B) {
		hc := &http.Client{Transport: newTransport()}
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := bareInvoke(ctx, hc, srv.URL, benchParams); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sdk", func(b *testing.B) {
		c, err := New(WithClientID("bench"), WithHost(srv.URL))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := c.Invoke(ctx, "helloWorld", benchParams, true); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkInvokeParallel(b *testing.B) {
	srv := benchServer(b)
	ctx := context.Background()
	b.Run("baseline=net/http", func(b *testing.B) {
		hc := &http.Client{Transport: newTransport()}
		b.ReportAllocs()
		b.SetParallelism(64 / max(1, runtimeGOMAXPROCS()))
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := bareInvoke(ctx, hc, srv.URL, benchParams); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("sdk", func(b *testing.B) {
		c, err := New(WithClientID("bench"), WithHost(srv.URL))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.SetParallelism(64 / max(1, runtimeGOMAXPROCS()))
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := c.Invoke(ctx, "helloWorld", benchParams, true); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

func runtimeGOMAXPROCS() int { return runtime.GOMAXPROCS(0) }

// nopObserver is the least an Observer can do: the cost of the hook
// itself, beside a client without one.
type nopObserver struct{}

func (nopObserver) StartCall(ctx context.Context, _ CallInfo) context.Context { return ctx }
func (nopObserver) Attempt(context.Context, CallInfo, AttemptInfo)            {}
func (nopObserver) EndCall(context.Context, CallInfo, CallEnd)                {}

func BenchmarkInvokeObserved(b *testing.B) {
	srv := benchServer(b)
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		opts []Option
	}{
		{"baseline=sdk", nil},
		{"sdk+observer", []Option{WithObserver(nopObserver{})}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c, err := New(append([]Option{WithClientID("bench"), WithHost(srv.URL)}, bc.opts...)...)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := c.Invoke(ctx, "helloWorld", benchParams, true); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
