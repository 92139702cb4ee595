package baas

import (
	"log/slog"
	"net/http"
	"time"
)

// Defaults, as the platform and the official SDK set them.
const (
	DefaultSyncTimeout      = 5 * time.Second
	DefaultAsyncTimeout     = 300 * time.Second
	DefaultRetries          = 2
	DefaultMaxResponseBytes = 64 << 20
)

// An Option configures a [Client] built by [New] or [Init].
type Option func(*config)

// config is what the options set; New checks it once.
type config struct {
	clientID         string
	clientSecret     string
	host             string
	env              string
	authToken        string
	httpClient       *http.Client
	logger           *slog.Logger
	syncTimeout      time.Duration
	asyncTimeout     time.Duration
	retries          int
	maxResponseBytes int64
	userAgent        string
	observers        []Observer
}

func defaultConfig() config {
	return config{
		syncTimeout:      DefaultSyncTimeout,
		asyncTimeout:     DefaultAsyncTimeout,
		retries:          DefaultRetries,
		maxResponseBytes: DefaultMaxResponseBytes,
		userAgent:        "mincloud-go-baas/" + Version,
	}
}

// WithClientID sets the app's client id, sent as X-Hydrogen-Client-ID. It is
// required.
func WithClientID(id string) Option { return func(c *config) { c.clientID = id } }

// WithHost sets the API host, an absolute http or https URL. The default is
// https://<clientID>.myminapp.com, as in the official web SDK.
func WithHost(host string) Option { return func(c *config) { c.host = host } }

// WithEnv chooses a test environment, sent as X-Hydrogen-Env-ID.
func WithEnv(envID string) Option { return func(c *config) { c.env = envID } }

// WithAuthToken makes calls as a logged-in user: the token is sent as
// "Authorization: Hydrogen-r1 <token>". It never appears in errors or logs.
func WithAuthToken(token string) Option { return func(c *config) { c.authToken = token } }

// WithHTTPClient sets the http.Client the SDK sends through, for proxies,
// TLS settings or a custom transport. Its Timeout, if any, adds to the
// SDK's own deadlines; leave it zero.
func WithHTTPClient(hc *http.Client) Option { return func(c *config) { c.httpClient = hc } }

// WithLogger sets a logger that gets one debug record per attempt. The
// default logs nothing.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithSyncTimeout sets the deadline of a sync call, from its start to the
// last byte of the answer. The default is 5 s, the platform's limit.
func WithSyncTimeout(d time.Duration) Option { return func(c *config) { c.syncTimeout = d } }

// WithAsyncTimeout sets the deadline of an async call. The default is
// 300 s, the platform's limit.
func WithAsyncTimeout(d time.Duration) Option { return func(c *config) { c.asyncTimeout = d } }

// WithRetry sets how many times a call is sent again when the function
// provably did not run: the connection could not be made, or the server
// answered 429. The default is 2; 0 turns retries off.
func WithRetry(n int) Option { return func(c *config) { c.retries = n } }

// WithMaxResponseBytes caps the size of an answer; a larger one fails
// without being read into memory. The default is 64 MiB.
func WithMaxResponseBytes(n int64) Option { return func(c *config) { c.maxResponseBytes = n } }

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(c *config) { c.userAgent = ua } }
