// Package baas calls 知晓云 (MinCloud) cloud functions from Go, as the
// official JS SDK's BaaS.invoke does: same request, same answers, same
// errors, same deadlines.
//
// # Calling a function
//
// Build one [Client] with [New] and share it; it is safe for concurrent use.
//
//	c, err := baas.New(baas.WithClientID("your-client-id"))
//	res, err := c.Invoke(ctx, "helloWorld", map[string]any{"name": "allen"}, true)
//	// res.Code == 0, string(res.Data) == `"hello allen"`
//
// A [Result] is what the function answered. A function that failed is not a
// Go error: Result.Code is then non-zero and Result.Error says why, exactly
// as the official SDK resolves. [Result.Err] turns that into an error, and
// [InvokeAs] does the common case in one call: invoke, check, decode.
//
// An async call (sync false) only queues the job; its Result has Status
// "ok" and nothing else.
//
// # Errors
//
// Every error of a call is an [*HError] whose Error text starts as the
// official SDK's: "<code>: <text>"; the SDK's own codes go on to say what
// was wrong ("605: incorrect parameter type: function name is empty").
// Code is the HTTP status when the server refused the call, or one of the
// SDK codes ([CodeNetwork], [CodeTimeout], ...). The cause stays
// reachable, so errors.Is(err, context.DeadlineExceeded) holds for a
// timeout. Bad arguments, a nil context included, fail with 605 before
// anything is sent; bad options fail in [New]. Data that does not fit the
// type asked of [Result.Decode] or [InvokeAs] is a [*DecodeError]: the
// function ran.
//
// # Deadlines and retries
//
// A sync call may take 5 s and an async one 300 s, from its start to the
// last byte of the answer, as on the platform; a shorter deadline on the
// caller's context wins. A call is sent again only when the function
// provably did not run: the connection could not be made, or the server
// answered 429.
//
// # Package-level calls
//
// [Init] then [Invoke] mirror BaaS.init then BaaS.invoke. Without Init the
// default client is built from the environment (MINCLOUD_CLIENT_ID,
// MINCLOUD_HOST, MINCLOUD_ENV_ID, MINCLOUD_AUTH_TOKEN), and inside a cloud
// function the client carried by the context ([NewContext]) is used, so a
// function calls its siblings with no set-up.
package baas

import (
	"net"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"time"

	"github.com/go-resty/resty/v2"
)

// Version is the SDK's version, sent in the default User-Agent.
const Version = "0.1.0"

// invokePath is the Web API endpoint BaaS.invoke posts to.
const invokePath = "/hserve/v1/cloud-function/job/"

// A Client calls cloud functions of one app. It holds one HTTP client and
// is safe for concurrent use; build it once with [New] and reuse it.
type Client struct {
	cfg  config
	rc   *resty.Client
	host string // without a trailing slash
	// invokeURL is host + invokePath, built once.
	invokeURL string
	secrets   []string     // values never to print (see redactions)
	tokens    *tokenSource // the Open API's access token; nil for the Web API
	obs       Observer     // nil without WithObserver
}

// New builds a Client. A client id is required (602 without one, saying
// how to set one). A bad option is a 605 that says what was wrong: a host
// that is not an absolute http(s) URL or carries a query, a fragment or
// user info; a client id, user token, environment or user agent holding a
// control character, which no HTTP header can carry.
func New(opts ...Option) (*Client, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	host, err := cfg.check()
	if err != nil {
		return nil, err
	}

	hc := &http.Client{Transport: newTransport()}
	if cfg.httpClient != nil {
		// A copy: resty and the cookie jar below must not change the
		// caller's client.
		copied := *cfg.httpClient
		hc = &copied
	}
	if cfg.clientSecret != "" && hc.Jar == nil {
		// The authorize step answers through redirects that rely on a
		// cookie set on the way.
		hc.Jar, _ = cookiejar.New(nil)
	}
	rc := resty.NewWithClient(hc).
		SetLogger(discardLogger{}).
		SetDisableWarn(true).
		SetHeader("Content-Type", "application/json").
		// What the official SDK's HTTP client (axios) accepts.
		SetHeader("Accept", "application/json, text/plain, */*").
		SetHeader("X-Hydrogen-Client-ID", cfg.clientID).
		SetHeader("User-Agent", cfg.userAgent)
	if cfg.env != "" {
		rc.SetHeader("X-Hydrogen-Env-ID", cfg.env)
	}
	if cfg.authToken != "" && cfg.clientSecret == "" {
		rc.SetHeader("Authorization", "Hydrogen-r1 "+cfg.authToken)
	}
	c := &Client{
		cfg:  cfg,
		rc:   rc,
		host: strings.TrimRight(host, "/"),
		obs:  cfg.observer(),
	}
	c.invokeURL = c.host + invokePath
	if cfg.clientSecret != "" {
		c.invokeURL = c.host + openInvokePath
		c.tokens = &tokenSource{c: c}
		c.secrets = append(c.secrets, cfg.clientSecret)
	}
	if cfg.authToken != "" {
		c.secrets = append(c.secrets, cfg.authToken)
	}
	return c, nil
}

// ClientID returns the app's client id.
func (c *Client) ClientID() string { return c.cfg.clientID }

// CloseIdleConnections closes the client's idle keep-alive connections.
// A long-lived program never needs it; a test counting goroutines may.
func (c *Client) CloseIdleConnections() { c.rc.GetClient().CloseIdleConnections() }

// newTransport is http.DefaultTransport's setup with a larger idle pool:
// one busy Client talks to one host from many goroutines, and the default
// of 2 idle connections per host would make it dial on most calls.
func newTransport() *http.Transport {
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   30 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   128,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: 1 * time.Second,
	}
}

// discardLogger silences resty: the SDK logs through slog, and only what
// it chooses to.
type discardLogger struct{}

func (discardLogger) Errorf(string, ...any) {}
func (discardLogger) Warnf(string, ...any)  {}
func (discardLogger) Debugf(string, ...any) {}

var _ resty.Logger = discardLogger{}
