package emulator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/mincloud-go/baas"
	"github.com/mincloud-go/baas/emulator"
	"github.com/mincloud-go/baas/function"
)

// BenchmarkEmulatorInvoke measures SDK → emulator → a trivial handler
// beside SDK → a bare httptest handler answering the same bytes, in the
// same run: the ratio is the emulator's cost.
func BenchmarkEmulatorInvoke(b *testing.B) {
	ctx := context.Background()
	params := map[string]any{"name": "allen"}
	run := func(b *testing.B, c *baas.Client) {
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			res, err := c.Invoke(ctx, "helloWorld", params, true)
			if err != nil || res.Code != 0 {
				b.Fatal(res, err)
			}
		}
	}
	b.Run("baseline=httptest", func(b *testing.B) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"code":0,"data":"hello allen","error":{}}`)
		}))
		defer srv.Close()
		c, err := baas.New(baas.WithClientID("bench"), baas.WithHost(srv.URL))
		if err != nil {
			b.Fatal(err)
		}
		run(b, c)
	})
	b.Run("emulator", func(b *testing.B) {
		srv := emulator.New()
		defer srv.Close()
		srv.Register("helloWorld", func(ctx context.Context, ev *function.Event) (any, error) {
			return "hello allen", nil
		})
		c, err := srv.Client()
		if err != nil {
			b.Fatal(err)
		}
		run(b, c)
	})
}

// BenchmarkJobHistoryPage reads a page of 20 over HTTP with 50,000 jobs
// recorded, beside the same page with only 20 recorded: a page costs its
// own length, not the history's. A status filter has to look at every
// job in the time range to count them (total_count); it is shown too.
func BenchmarkJobHistoryPage(b *testing.B) {
	for _, n := range []int{20, 50_000} {
		srv := emulator.New(emulator.WithMaxJobRecords(n))
		srv.Register("count", func(ctx context.Context, ev *function.Event) (any, error) { return nil, nil })
		c, err := srv.Client(baas.WithRetry(3))
		if err != nil {
			b.Fatal(err)
		}
		var wg sync.WaitGroup
		next := make(chan struct{})
		go func() {
			for i := 0; i < n; i++ {
				next <- struct{}{}
			}
			close(next)
		}()
		for w := 0; w < 32; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range next {
					if _, err := c.Invoke(context.Background(), "count", nil, false); err != nil {
						b.Error(err)
					}
				}
			}()
		}
		wg.Wait()
		if err := srv.Wait(context.Background()); err != nil {
			b.Fatal(err)
		}
		tok := benchToken(b, srv)
		for _, query := range []string{"", "&status=fulfilled"} {
			benchPage(b, fmt.Sprintf("jobs=%d%s", n, query), srv.URL+"/oserve/v1.3/cloud-function/count/job/?limit=20&offset=0"+query, tok)
		}
		srv.Close()
	}
}

// benchPage measures GET url with the token.
func benchPage(b *testing.B, name, url, tok string) {
	b.Run(name, func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			req, _ := http.NewRequest("GET", url, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatal(resp.Status)
			}
		}
	})
}

// benchToken runs the OAuth dance for a benchmark.
func benchToken(b *testing.B, srv *emulator.Server) string {
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	body, _ := json.Marshal(map[string]string{"client_id": srv.ClientID, "client_secret": srv.ClientSecret})
	resp, err := hc.Post(srv.URL+"/api/oauth2/hydrogen/openapi/authorize/", "application/json", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	var code struct{ Code string }
	json.NewDecoder(resp.Body).Decode(&code)
	resp.Body.Close()
	body, _ = json.Marshal(map[string]string{"client_id": srv.ClientID, "client_secret": srv.ClientSecret, "grant_type": "authorization_code", "code": code.Code})
	resp, err = http.Post(srv.URL+"/api/oauth2/access_token/", "application/json", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&tok)
	return tok.AccessToken
}
