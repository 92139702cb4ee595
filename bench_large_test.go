package baas

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// Large answers: a function returning megabytes, read by the SDK beside a
// bare net/http client that does io.ReadAll and encoding/json into a
// struct, answered with a Content-Length and chunked.

// largeAnswer is a sync answer whose data, an array of small objects, is
// about size bytes.
func largeAnswer(size int) []byte {
	var b strings.Builder
	b.Grow(size + 64)
	b.WriteString(`{"code":0,"data":[`)
	for i := 0; b.Len() < size; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"name":"item %d","tags":["a","b"],"score":%d.5}`, i, i, i%97)
	}
	b.WriteString(`],"error":{}}`)
	return []byte(b.String())
}

// largeServer answers every call with answer, with a Content-Length or
// chunked (written in 32 KiB pieces, each flushed).
func largeServer(b *testing.B, answer []byte, chunked bool) *httptest.Server {
	b.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		if !chunked {
			w.Header().Set("Content-Length", strconv.Itoa(len(answer)))
			w.Write(answer)
			return
		}
		for rest := answer; len(rest) > 0; {
			n := min(len(rest), 32<<10)
			w.Write(rest[:n])
			w.(http.Flusher).Flush()
			rest = rest[n:]
		}
	}))
	b.Cleanup(srv.Close)
	return srv
}

// bareLargeInvoke is the baseline: post, io.ReadAll, encoding/json.
func bareLargeInvoke(ctx context.Context, hc *http.Client, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", url+invokePath,
		strings.NewReader(`{"function_name":"big","sync":true}`))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Hydrogen-Client-ID", "bench")
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	var res struct {
		Code  int
		Data  json.RawMessage
		Error json.RawMessage
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return 0, err
	}
	return len(res.Data), nil
}

func BenchmarkInvokeLarge(b *testing.B) {
	ctx := context.Background()
	for _, size := range []int{1 << 20, 16 << 20} {
		answer := largeAnswer(size)
		for _, chunked := range []bool{false, true} {
			framing := "content-length"
			if chunked {
				framing = "chunked"
			}
			srv := largeServer(b, answer, chunked)
			name := fmt.Sprintf("%dMiB/%s", size>>20, framing)
			b.Run(name+"/baseline=net/http", func(b *testing.B) {
				hc := &http.Client{Transport: newTransport()}
				b.ReportAllocs()
				b.SetBytes(int64(len(answer)))
				for i := 0; i < b.N; i++ {
					if _, err := bareLargeInvoke(ctx, hc, srv.URL); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(name+"/sdk", func(b *testing.B) {
				c, err := New(WithClientID("bench"), WithHost(srv.URL))
				if err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.SetBytes(int64(len(answer)))
				for i := 0; i < b.N; i++ {
					res, err := c.Invoke(ctx, "big", nil, true)
					if err != nil {
						b.Fatal(err)
					}
					if len(res.Data) < size {
						b.Fatalf("data of %d bytes", len(res.Data))
					}
				}
			})
		}
	}
}
