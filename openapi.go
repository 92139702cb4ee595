package baas

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/mincloud-go/baas/internal/envconf"
)

// The Open API (server-to-server) endpoints.
const (
	openAPIHost     = "https://cloud.minapp.com"
	openInvokePath  = "/oserve/v1/cloud-function/job/"
	authorizePath   = "/api/oauth2/hydrogen/openapi/authorize/"
	accessTokenPath = "/api/oauth2/access_token/"
	// defaultAPITimeout bounds an Open API call without a Timeout of its
	// own, and each step of getting an access token.
	defaultAPITimeout = 30 * time.Second
)

// EnvClientSecret names the environment variable that switches the default
// client to the Open API, as [WithClientSecret] does.
const EnvClientSecret = envconf.ClientSecret

// WithClientSecret switches the client to the Open API, for Go services
// calling from a server: the default host becomes https://cloud.minapp.com,
// calls go to /oserve/ with "Authorization: Bearer <access token>", and the
// access token is obtained with the client id and this secret, cached, and
// renewed before it expires. The secret and the tokens never appear in
// errors or logs. With a client secret, a user token ([WithAuthToken]) is
// not sent: the access token speaks for the app.
func WithClientSecret(secret string) Option { return func(c *config) { c.clientSecret = secret } }

// Request is an Open API call for [Client.Do].
type Request struct {
	Method string     // GET, POST, PATCH, DELETE
	Path   string     // e.g. /oserve/v1.3/cloud-function/
	Query  url.Values // added to the URL
	// Body is sent as JSON; a json.RawMessage or []byte is sent as it is;
	// nil sends no body.
	Body any
	// Name names the call in logs, e.g. the function it is about.
	Name string
	// Timeout bounds the call; zero means 30 s.
	Timeout time.Duration
}

// Do sends an Open API request with the access token, as every call of
// package manage does, and returns the 2xx answer. A non-2xx answer is
// an *HError, as for Invoke. The client must have a client secret.
func (c *Client) Do(ctx context.Context, r Request) (*Response, error) {
	if c.tokens == nil {
		return nil, newError(CodeUninitialized, "the Open API needs a client secret: build the client with WithClientSecret or the "+EnvClientSecret+" variable", nil)
	}
	if ctx == nil {
		return nil, errNilContext()
	}
	if !strings.HasPrefix(r.Path, "/") {
		return nil, badParam("path %q does not start with /", r.Path)
	}
	var body []byte
	switch b := r.Body.(type) {
	case nil:
	case json.RawMessage:
		body = b
	case []byte:
		body = b
	default:
		var buf bytes.Buffer
		if err := writeJSON(&buf, b); err != nil {
			return nil, badParam("body cannot be encoded as JSON: %w", err)
		}
		body = buf.Bytes()
	}
	u := c.host + r.Path
	if len(r.Query) > 0 {
		u += "?" + r.Query.Encode()
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = defaultAPITimeout
	}
	ans, err := c.send(ctx, exchange{fn: r.Name, op: OpDo, method: r.Method, url: u, body: body, timeout: timeout, bearer: true})
	if err != nil {
		return nil, err
	}
	return &Response{StatusCode: ans.status, Header: ans.header, Body: ans.body, secrets: c.redactions()}, nil
}

// tokenSource holds the Open API access token: fetched on first need by
// one caller while the others wait, kept until shortly before it expires.
type tokenSource struct {
	c *Client

	mu       sync.Mutex
	access   string
	refresh  string
	renewAt  time.Time
	inflight *tokenFetch

	// now is the clock renewal is judged by (guarded by mu); nil is
	// time.Now. Tests set it so that a lifetime passes without sleeping.
	now func() time.Time
}

func (ts *tokenSource) clock() time.Time {
	if ts.now != nil {
		return ts.now()
	}
	return time.Now()
}

// tokenFetch is one run of the two-step flow; waiters read its outcome
// once done is closed.
type tokenFetch struct {
	done     chan struct{}
	err      error
	canceled bool // the fetching caller's context ended: others try anew
}

// get returns a valid access token, fetching one if needed. Concurrent
// callers share one fetch.
func (ts *tokenSource) get(ctx context.Context) (string, error) {
	for {
		ts.mu.Lock()
		if ts.access != "" && ts.clock().Before(ts.renewAt) {
			tok := ts.access
			ts.mu.Unlock()
			return tok, nil
		}
		if f := ts.inflight; f != nil {
			ts.mu.Unlock()
			select {
			case <-f.done:
				if f.err != nil && !f.canceled {
					return "", f.err
				}
				continue // a token is there, or the fetch was cut short: look again
			case <-ctx.Done():
				return "", transportError(ctx, ctx.Err())
			}
		}
		f := &tokenFetch{done: make(chan struct{})}
		ts.inflight = f
		ts.mu.Unlock()

		tok, err := ts.c.fetchToken(ctx)
		ts.mu.Lock()
		if err == nil {
			ts.access, ts.refresh = tok.AccessToken, tok.RefreshToken
			life := time.Duration(tok.ExpiresIn) * time.Second
			// Renew a tenth of the lifetime early (at most 5 min), so that a
			// token never expires in flight.
			ts.renewAt = ts.clock().Add(life - min(life/10, 5*time.Minute))
		}
		f.err, f.canceled = err, err != nil && ctx.Err() != nil
		ts.inflight = nil
		ts.mu.Unlock()
		close(f.done)
		if err != nil {
			return "", err
		}
		return tok.AccessToken, nil
	}
}

// invalidate drops the token the server refused, unless a newer one has
// already replaced it.
func (ts *tokenSource) invalidate(token string) {
	ts.mu.Lock()
	if ts.access == token {
		ts.access, ts.renewAt = "", time.Time{}
	}
	ts.mu.Unlock()
}

// current returns the tokens held, for redaction.
func (ts *tokenSource) current() (access, refresh string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.access, ts.refresh
}

// accessToken is the code exchange's answer.
type accessToken struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
}

// fetchToken runs the two steps of the platform's flow: authorize (the
// server answers through two redirects that rely on a cookie, which the
// client's cookie jar keeps), then exchange the code for a token.
func (c *Client) fetchToken(ctx context.Context) (*accessToken, error) {
	creds := struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}{c.cfg.clientID, c.cfg.clientSecret}
	body, _ := json.Marshal(creds)
	ans, err := c.send(ctx, exchange{fn: "oauth: authorize", method: "POST", url: c.host + authorizePath, body: body, timeout: defaultAPITimeout})
	if err != nil {
		return nil, stepError("authorize", err)
	}
	var code struct {
		Code      string `json:"code"`
		ExpiresIn int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(ans.body, &code); err != nil || code.Code == "" {
		return nil, stepError("authorize", unexpectedBody(ans.status, ans.header, ans.body, c.redactions(), err))
	}

	exchangeBody, _ := json.Marshal(struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
		Code         string `json:"code"`
		GrantType    string `json:"grant_type"`
	}{c.cfg.clientID, c.cfg.clientSecret, code.Code, "authorization_code"})
	ans, err = c.send(ctx, exchange{fn: "oauth: access_token", method: "POST", url: c.host + accessTokenPath, body: exchangeBody, timeout: defaultAPITimeout})
	if err != nil {
		return nil, stepError("access_token", err)
	}
	var tok accessToken
	if err := json.Unmarshal(ans.body, &tok); err != nil || tok.AccessToken == "" {
		return nil, stepError("access_token", unexpectedBody(ans.status, ans.header, ans.body, c.redactions(), err))
	}
	if tok.ExpiresIn <= 0 {
		tok.ExpiresIn = 3600
	}
	return &tok, nil
}

// stepError names the step of the token flow that failed, keeping the
// code, the cause and the text's start ("<code>: <official text>").
func stepError(step string, err error) error {
	he, ok := err.(*HError)
	if !ok {
		return err
	}
	out := *he
	out.Message = he.Message + " (getting an access token: the " + step + " step failed)"
	return &out
}

// redactions lists what must never be printed: the user token, the client
// secret and the access and refresh tokens held now.
func (c *Client) redactions() []string {
	out := c.secrets
	if c.tokens != nil {
		a, r := c.tokens.current()
		out = append(out[:len(out):len(out)], a, r)
	}
	return out
}
