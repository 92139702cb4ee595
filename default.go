package baas

import (
	"context"
	"sync"

	"github.com/mincloud-go/baas/internal/envconf"
)

// Environment variables the default client is built from when [Init] was
// not called: what a cloud function's runtime provides. MINCLOUD_CLIENT_SECRET
// ([EnvClientSecret]) switches it to the Open API.
const (
	EnvClientID  = envconf.ClientID
	EnvHost      = envconf.Host
	EnvEnvID     = envconf.EnvID
	EnvAuthToken = envconf.AuthToken
)

// defaults holds the package-level client: the one Init built, or the one
// last built from the environment with the values it was built from.
var defaults struct {
	mu      sync.Mutex
	initd   *Client
	fromEnv *Client
	env     envconf.Values
}

func envOptions(v envconf.Values) []Option {
	return []Option{WithClientID(v.ClientID), WithHost(v.Host), WithEnv(v.EnvID), WithAuthToken(v.AuthToken), WithClientSecret(v.ClientSecret)}
}

// EnvOptions returns the options the MINCLOUD_* variables give: the client
// id ([EnvClientID]), host, environment, user token and client secret; an
// unset variable leaves its default. Options after them override them:
//
//	c, err := baas.New(append(baas.EnvOptions(), baas.WithLogger(l))...)
//
// It is how [Default] builds its client, and how the examples and the
// mincloud command read the environment.
func EnvOptions() []Option { return envOptions(envconf.Read()) }

// Init builds the package-level client used by [Invoke] and
// [InvokeFunction], as BaaS.init does. It replaces any earlier one; on
// error the earlier one stays.
func Init(opts ...Option) error {
	c, err := New(opts...)
	if err != nil {
		return err
	}
	defaults.mu.Lock()
	defaults.initd = c
	defaults.mu.Unlock()
	return nil
}

// Default returns the client the package-level functions use without a
// client in the context: the one [Init] built, else one built from the
// environment. Without a client id anywhere it fails with 602.
func Default() (*Client, error) {
	defaults.mu.Lock()
	defer defaults.mu.Unlock()
	if defaults.initd != nil {
		return defaults.initd, nil
	}
	env := envconf.Read()
	if defaults.fromEnv != nil && env == defaults.env {
		return defaults.fromEnv, nil
	}
	if env.ClientID == "" {
		return nil, newError(CodeUninitialized, "no client id: call Init with WithClientID, or set the "+EnvClientID+" variable", nil)
	}
	c, err := New(envOptions(env)...)
	if err != nil {
		return nil, err
	}
	defaults.fromEnv, defaults.env = c, env
	return c, nil
}

type ctxKey struct{}

// NewContext returns a context that carries c. The package-level [Invoke]
// called with it (or a context derived from it) uses c: this is how code
// inside a cloud function reaches its siblings with the function's own
// credentials.
func NewContext(ctx context.Context, c *Client) context.Context {
	return context.WithValue(ctx, ctxKey{}, c)
}

// FromContext returns the client ctx carries, if any.
func FromContext(ctx context.Context) (*Client, bool) {
	if ctx == nil {
		return nil, false
	}
	c, ok := ctx.Value(ctxKey{}).(*Client)
	return c, ok && c != nil
}

// clientFor picks the client of a package-level call: the context's, else
// the default.
func clientFor(ctx context.Context) (*Client, error) {
	if c, ok := FromContext(ctx); ok {
		return c, nil
	}
	return Default()
}

// Invoke calls a function with the client in ctx, else the default
// client, as BaaS.invoke does. See [Client.Invoke].
func Invoke(ctx context.Context, name string, params any, sync bool) (*Result, error) {
	if name == "" { // checked first, as the official SDK does
		return nil, errEmptyName()
	}
	if ctx == nil {
		return nil, errNilContext()
	}
	c, err := clientFor(ctx)
	if err != nil {
		return nil, err
	}
	return c.Invoke(ctx, name, params, sync)
}

// InvokeFunction is the package-level form of [Client.InvokeFunction].
//
// Deprecated: use Invoke.
func InvokeFunction(ctx context.Context, name string, params any, sync bool) (*Response, error) {
	if name == "" {
		return nil, errEmptyName()
	}
	if ctx == nil {
		return nil, errNilContext()
	}
	c, err := clientFor(ctx)
	if err != nil {
		return nil, err
	}
	return c.InvokeFunction(ctx, name, params, sync)
}
