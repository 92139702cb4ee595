package baas

import (
	"errors"
	"net/url"
	"strings"
)

// check validates the options once, in New, so that a bad one fails there
// with what was wrong instead of later as a 600. It returns the host to
// call.
func (cfg *config) check() (string, error) {
	switch {
	case cfg.clientID == "":
		return "", newError(CodeUninitialized, "no client id: set one with WithClientID or the "+EnvClientID+" variable", nil)
	case strings.TrimSpace(cfg.clientID) == "":
		return "", newError(CodeUninitialized, "the client id is blank: set one with WithClientID or the "+EnvClientID+" variable", nil)
	}
	// Header values: a control character would make net/http refuse the
	// request on every call. The token's value is a secret: not quoted.
	for _, h := range [...]struct{ what, v string }{
		{"the client id", cfg.clientID},
		{"the user token (WithAuthToken)", cfg.authToken},
		{"the environment id (WithEnv)", cfg.env},
		{"the user agent (WithUserAgent)", cfg.userAgent},
	} {
		if i := controlByte(h.v); i >= 0 {
			return "", badParam("%s holds the control character %#02x at byte %d, which an HTTP header cannot carry", h.what, h.v[i], i)
		}
	}

	host := cfg.host
	switch {
	case host != "":
	case cfg.clientSecret != "":
		host = openAPIHost
	default:
		host = "https://" + cfg.clientID + ".myminapp.com"
	}
	if err := checkHost(host); err != nil {
		return "", err
	}
	switch {
	case cfg.syncTimeout <= 0:
		return "", badParam("the sync timeout must be positive, not %v (WithSyncTimeout)", cfg.syncTimeout)
	case cfg.asyncTimeout <= 0:
		return "", badParam("the async timeout must be positive, not %v (WithAsyncTimeout)", cfg.asyncTimeout)
	case cfg.retries < 0:
		return "", badParam("the retry count must not be negative, not %d (WithRetry)", cfg.retries)
	case cfg.maxResponseBytes <= 0:
		return "", badParam("the response size cap must be positive, not %d (WithMaxResponseBytes)", cfg.maxResponseBytes)
	}
	return host, nil
}

// checkHost accepts an absolute http(s) URL with at most a path: calls are
// made by appending an endpoint's path, so a query or a fragment would
// land in the wrong place, and user info would be sent as Basic auth.
func checkHost(host string) error {
	u, err := url.Parse(host)
	if err != nil {
		// The reason alone: url.Error quotes the URL, password included.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return badParam("host is not a URL: %v (WithHost wants e.g. https://example.com)", err)
	}
	shown := u.Redacted() // never print a password given in the URL
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return badParam("host %q is not an absolute http(s) URL (WithHost wants e.g. https://example.com)", shown)
	case u.Host == "":
		return badParam("host %q has no host name", shown)
	case u.User != nil:
		return badParam("host %q carries user info; the SDK authenticates with the client id and tokens, not the URL", shown)
	case u.RawQuery != "" || u.ForceQuery:
		return badParam("host %q carries a query; give only scheme, host, port and path", shown)
	case u.Fragment != "" || strings.Contains(host, "#"):
		return badParam("host %q carries a fragment; give only scheme, host, port and path", shown)
	}
	if i := controlByte(host); i >= 0 {
		return badParam("host %q holds a control character", shown)
	}
	return nil
}

// controlByte returns the index of the first byte of s no HTTP header
// value may hold (a control character other than tab), or -1.
func controlByte(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return i
		}
	}
	return -1
}
