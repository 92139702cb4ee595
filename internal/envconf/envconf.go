// Package envconf reads the MINCLOUD_* variables, in one place for package
// baas's default client, the examples and the mincloud command.
package envconf

import (
	"os"
	"strings"
)

// The variables' names.
const (
	ClientID     = "MINCLOUD_CLIENT_ID"
	Host         = "MINCLOUD_HOST"
	EnvID        = "MINCLOUD_ENV_ID"
	AuthToken    = "MINCLOUD_AUTH_TOKEN"
	ClientSecret = "MINCLOUD_CLIENT_SECRET"
)

// Values are the variables' values, "" for an unset one. Values is
// comparable, so a cache can tell when the environment changed.
type Values struct {
	ClientID, Host, EnvID, AuthToken, ClientSecret string
}

// Read reads the variables. Surrounding spaces are dropped: a value pasted
// with a trailing space or newline means the same value.
func Read() Values {
	get := func(name string) string { return strings.TrimSpace(os.Getenv(name)) }
	return Values{
		ClientID:     get(ClientID),
		Host:         get(Host),
		EnvID:        get(EnvID),
		AuthToken:    get(AuthToken),
		ClientSecret: get(ClientSecret),
	}
}
