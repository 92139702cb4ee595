package baas

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mincloud-go/baas/internal/testclock"
)

// openPlatform answers as the platform's Open API does (protocol.md §4):
// authorize through two 302 redirects that need a cookie set on the way,
// a single-use code exchanged for a bearer token, and /oserve/ endpoints
// that want that token.
type openPlatform struct {
	*httptest.Server
	id, secret string

	mu     sync.Mutex
	codes  map[string]bool // issued, not yet used
	tokens map[string]bool // valid access tokens
	issued int

	// refuse401 makes the next n bearer calls answer 401 whatever the token.
	refuse401 atomic.Int32
	// authorizeAnswer, when set, replaces the authorize step's answer.
	authorizeAnswer func(w http.ResponseWriter)
	expiresIn       int          // the access tokens' lifetime in seconds; 3600 when 0
	calls           atomic.Int32 // bearer calls that reached a handler
	last            atomic.Pointer[http.Request]
	lastBody        atomic.Pointer[string]
}

func newOpenPlatform(t *testing.T) *openPlatform {
	t.Helper()
	p := &openPlatform{id: "open-client", secret: "s3cr3t-value", codes: map[string]bool{}, tokens: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+authorizePath, func(w http.ResponseWriter, r *http.Request) {
		if p.authorizeAnswer != nil {
			p.authorizeAnswer(w)
			return
		}
		var creds struct{ ClientID, ClientSecret string }
		if json.NewDecoder(r.Body).Decode(&struct {
			ClientID     *string `json:"client_id"`
			ClientSecret *string `json:"client_secret"`
		}{&creds.ClientID, &creds.ClientSecret}) != nil || creds.ClientID != p.id || creds.ClientSecret != p.secret {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error_msg":"invalid client"}`)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "sessionid", Value: "sess-1", Path: "/"})
		http.Redirect(w, r, "/api/oauth2/step-one/", http.StatusFound)
	})
	mux.HandleFunc("GET /api/oauth2/step-one/", func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("sessionid"); err != nil || c.Value != "sess-1" {
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"error_msg":"no session"}`)
			return
		}
		http.Redirect(w, r, "/api/oauth2/step-two/", http.StatusFound)
	})
	mux.HandleFunc("GET /api/oauth2/step-two/", func(w http.ResponseWriter, r *http.Request) {
		if _, err := r.Cookie("sessionid"); err != nil {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		p.mu.Lock()
		code := fmt.Sprintf("code-%d", len(p.codes)+p.issued)
		p.codes[code] = true
		p.mu.Unlock()
		fmt.Fprintf(w, `{"code":%q,"expires_in":600}`, code)
	})
	mux.HandleFunc("POST "+accessTokenPath, func(w http.ResponseWriter, r *http.Request) {
		var ex struct {
			ClientID     string `json:"client_id"`
			ClientSecret string `json:"client_secret"`
			Code         string `json:"code"`
			GrantType    string `json:"grant_type"`
		}
		json.NewDecoder(r.Body).Decode(&ex)
		p.mu.Lock()
		defer p.mu.Unlock()
		if ex.ClientID != p.id || ex.ClientSecret != p.secret || ex.GrantType != "authorization_code" || !p.codes[ex.Code] {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error_msg":"invalid code"}`)
			return
		}
		delete(p.codes, ex.Code) // single use
		p.issued++
		tok := fmt.Sprintf("access-%d", p.issued)
		p.tokens[tok] = true
		life := p.expiresIn
		if life == 0 {
			life = 3600
		}
		fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":%d,"refresh_token":"refresh-%d","scope":"all"}`, tok, life, p.issued)
	})
	bearer := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			p.mu.Lock()
			valid := ok && p.tokens[tok]
			p.mu.Unlock()
			if !valid || p.refuse401.Add(-1) >= 0 {
				w.WriteHeader(http.StatusUnauthorized)
				io.WriteString(w, `{"error_msg":"access token expired"}`)
				return
			}
			p.refuse401.Store(0)
			body, _ := io.ReadAll(r.Body)
			s := string(body)
			p.last.Store(r)
			p.lastBody.Store(&s)
			p.calls.Add(1)
			h(w, r)
		}
	}
	mux.HandleFunc("POST "+openInvokePath, bearer(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"code":0,"data":"hello from the open api","error":{}}`)
	}))
	mux.HandleFunc("/oserve/v1.3/cloud-function/", bearer(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/missing/") {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"error_msg":"Cloud function \"missing\" not found."}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"method":%q,"query":%q}`, r.Method, r.URL.RawQuery)
	}))
	p.Server = httptest.NewServer(mux)
	t.Cleanup(p.Close)
	return p
}

func (p *openPlatform) client(t *testing.T, opts ...Option) *Client {
	t.Helper()
	// Generous deadlines: on a busy machine a call may wait its turn for
	// seconds; the tests that are about deadlines set their own.
	c, err := New(append([]Option{WithClientID(p.id), WithClientSecret(p.secret), WithHost(p.URL),
		WithSyncTimeout(2 * time.Minute), WithAsyncTimeout(2 * time.Minute)}, opts...)...)
	require.NoError(t, err)
	return c
}

func (p *openPlatform) tokensIssued() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.issued
}

func TestOpenAPIInvokeSendsTheBearerToken(t *testing.T) {
	t.Parallel()
	p := newOpenPlatform(t)
	c := p.client(t, WithAuthToken("user-token"), WithEnv("env-1"))
	res, err := c.Invoke(context.Background(), "helloWorld", map[string]string{"name": "allen"}, true)
	require.NoError(t, err)
	assert.Equal(t, `{"code":0,"data":"hello from the open api","error":{}}`, res.String())
	r := p.last.Load()
	assert.Equal(t, "Bearer access-1", r.Header.Get("Authorization"), "the access token speaks for the app; no user token")
	assert.Equal(t, "env-1", r.Header.Get("X-Hydrogen-Env-ID"))
	assert.Equal(t, `{"function_name":"helloWorld","sync":true,"data":{"name":"allen"}}`, *p.lastBody.Load())
}

func TestOpenAPITokenIsFetchedOnceForManyCallers(t *testing.T) {
	t.Parallel()
	p := newOpenPlatform(t)
	c := p.client(t)
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Invoke(context.Background(), "f", nil, true)
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	assert.Equal(t, 1, p.tokensIssued())
	assert.Equal(t, int32(32), p.calls.Load())
}

func TestOpenAPI401RenewsTheTokenOnce(t *testing.T) {
	t.Parallel()
	p := newOpenPlatform(t)
	c := p.client(t)
	_, err := c.Invoke(context.Background(), "f", nil, true)
	require.NoError(t, err)

	p.refuse401.Store(1) // the server forgot the token: renew, send again
	_, err = c.Invoke(context.Background(), "f", nil, true)
	require.NoError(t, err)
	assert.Equal(t, 2, p.tokensIssued())
	assert.Equal(t, "Bearer access-2", p.last.Load().Header.Get("Authorization"))

	p.refuse401.Store(5) // refused again after renewing: give up with the 401
	_, err = c.Invoke(context.Background(), "f", nil, true)
	assert.EqualError(t, err, "401: access token expired")
	assert.Equal(t, 3, p.tokensIssued(), "one renewal per call, not a loop")
}

// A token is renewed a tenth of its lifetime before it expires, so that it
// never expires in flight: with a 100 s lifetime, after 90 s. The fake
// platform never expires a token, so only early renewal can fetch a
// second one here (a client that waits for a 401 keeps the first).
func TestOpenAPITokenIsRenewedBeforeItExpires(t *testing.T) {
	t.Parallel()
	p := newOpenPlatform(t)
	p.expiresIn = 100
	c := p.client(t)
	clock := testclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	c.tokens.now = clock.Now
	invoke := func() {
		t.Helper()
		_, err := c.Invoke(context.Background(), "f", nil, true)
		require.NoError(t, err)
	}
	invoke()
	clock.Advance(89 * time.Second)
	invoke()
	assert.Equal(t, 1, p.tokensIssued(), "a token with more than a tenth of its life left is reused")
	clock.Advance(2 * time.Second) // 91 s: within the last tenth
	invoke()
	assert.Equal(t, 2, p.tokensIssued(), "renewed in the last tenth of its life")
	assert.Equal(t, "Bearer access-2", p.last.Load().Header.Get("Authorization"))
	clock.Advance(89 * time.Second)
	invoke()
	assert.Equal(t, 2, p.tokensIssued(), "the renewed token's life counts from its renewal")

	// A long lifetime is renewed at most 5 minutes early.
	p.expiresIn = 7200
	clock.Advance(time.Hour) // past access-2's renewal time
	invoke()
	require.Equal(t, 3, p.tokensIssued())
	clock.Advance(7200*time.Second - 5*time.Minute - time.Second)
	invoke()
	assert.Equal(t, 3, p.tokensIssued(), "kept until 5 minutes before it expires")
	clock.Advance(2 * time.Second)
	invoke()
	assert.Equal(t, 4, p.tokensIssued(), "renewed 5 minutes before it expires")
}

func TestOpenAPITokenFlowFailureNamesItsStep(t *testing.T) {
	t.Parallel()
	p := newOpenPlatform(t)
	c, err := New(WithClientID(p.id), WithClientSecret("wrong-secret-value"), WithHost(p.URL))
	require.NoError(t, err)
	_, err = c.Invoke(context.Background(), "f", nil, true)
	assert.EqualError(t, err, "401: invalid client (getting an access token: the authorize step failed)")
	assert.Zero(t, p.calls.Load())

	p.authorizeAnswer = func(w http.ResponseWriter) { io.WriteString(w, `<html>wrong-secret-value</html>`) }
	_, err = c.Invoke(context.Background(), "f", nil, true)
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "200: unexpected response (HTTP 200"), err.Error())
	assert.NotContains(t, err.Error(), "wrong-secret-value", "the secret never appears in errors")
	assert.Contains(t, err.Error(), "(getting an access token: the authorize step failed)")
}

func TestOpenAPITimeoutKeepsTheOfficialPrefix(t *testing.T) {
	t.Parallel()
	p := newOpenPlatform(t)
	block := make(chan struct{})
	t.Cleanup(func() { close(block) })
	p.authorizeAnswer = func(w http.ResponseWriter) { <-block }
	c := p.client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.Invoke(ctx, "f", nil, true)
	assert.Equal(t, CodeTimeout, asHError(t, err).Code)
	assert.True(t, strings.HasPrefix(err.Error(), "601: request timeout: "), err.Error())
	assert.Contains(t, err.Error(), "authorize")
}

func TestDo(t *testing.T) {
	t.Parallel()
	p := newOpenPlatform(t)
	c := p.client(t)
	ctx := context.Background()

	resp, err := c.Do(ctx, Request{Method: http.MethodGet, Path: "/oserve/v1.3/cloud-function/", Query: map[string][]string{"limit": {"5"}}})
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	var echo struct{ Method, Query string }
	require.NoError(t, resp.Unmarshal(&echo))
	assert.Equal(t, "GET", echo.Method)
	assert.Equal(t, "limit=5", echo.Query)

	for _, body := range []any{json.RawMessage(`{"a":1}`), []byte(`{"a":1}`), map[string]int{"a": 1}} {
		_, err = c.Do(ctx, Request{Method: http.MethodPatch, Path: "/oserve/v1.3/cloud-function/f/", Body: body})
		require.NoError(t, err)
		assert.Equal(t, `{"a":1}`, *p.lastBody.Load(), "%T", body)
		assert.Equal(t, "application/json", p.last.Load().Header.Get("Content-Type"))
	}

	_, err = c.Do(ctx, Request{Method: http.MethodGet, Path: "/oserve/v1.3/cloud-function/missing/"})
	assert.EqualError(t, err, `404: Cloud function "missing" not found.`)

	var out struct{ Method []int }
	err = resp.Unmarshal(&out)
	assert.True(t, strings.HasPrefix(err.Error(), "200: unexpected response (HTTP 200, Content-Type application/json"), err.Error())

	before := p.calls.Load()
	_, err = c.Do(ctx, Request{Method: http.MethodGet, Path: "oserve/v1.3/cloud-function/"})
	assert.EqualError(t, err, `605: incorrect parameter type: path "oserve/v1.3/cloud-function/" does not start with /`)
	_, err = c.Do(ctx, Request{Method: http.MethodPost, Path: "/oserve/x/", Body: make(chan int)})
	assert.Equal(t, CodeBadParameter, asHError(t, err).Code)
	//lint:ignore SA1012 a nil context is the bad input under test
	_, err = c.Do(nil, Request{Method: http.MethodGet, Path: "/oserve/x/"})
	assert.Equal(t, CodeBadParameter, asHError(t, err).Code)
	assert.Equal(t, before, p.calls.Load(), "bad input reached the server")

	web, err := New(WithClientID("x"), WithHost(p.URL))
	require.NoError(t, err)
	_, err = web.Do(ctx, Request{Method: http.MethodGet, Path: "/oserve/v1.3/cloud-function/"})
	assert.EqualError(t, err, "602: uninitialized: the Open API needs a client secret: build the client with WithClientSecret or the MINCLOUD_CLIENT_SECRET variable")
}
