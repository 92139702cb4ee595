package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mincloud-go/baas"
	"github.com/mincloud-go/baas/internal/clientinfo"
	"github.com/mincloud-go/baas/internal/envconf"
	"github.com/mincloud-go/baas/manage"
)

// config is what `mincloud login` stores: which app to call. The file is
// mode 0600 in a 0700 directory, since it holds the client secret.
type config struct {
	Host         string `json:"host,omitempty"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret,omitempty"`
	Env          string `json:"env,omitempty"`

	authToken string // MINCLOUD_AUTH_TOKEN only; never saved
}

// configPath is <user config dir>/mincloud/config.json.
func configPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", failed(fmt.Errorf("cannot find the user's config directory: %w", err))
	}
	return filepath.Join(dir, "mincloud", "config.json"), nil
}

// loadConfig reads the login file; none is an empty config.
func loadConfig() (config, error) {
	var c config
	path, err := configPath()
	if err != nil {
		return c, err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, failed(fmt.Errorf("cannot read the login file: %w", err))
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, failed(fmt.Errorf("the login file %s is not valid JSON (%v): run 'mincloud login' again", path, err))
	}
	return c, nil
}

// save writes the login file, readable by its owner only, through a
// temporary file so that a failure leaves the old one whole.
func (c config) save() (string, error) {
	path, err := configPath()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", failed(fmt.Errorf("cannot create the config directory: %w", err))
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return "", failed(err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".config-*.json") // mode 0600
	if err != nil {
		return "", failed(fmt.Errorf("cannot write the login file: %w", err))
	}
	_, werr := tmp.Write(append(b, '\n'))
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr, os.Chmod(tmp.Name(), 0o600), os.Rename(tmp.Name(), path)); err != nil {
		os.Remove(tmp.Name())
		return "", failed(fmt.Errorf("cannot write the login file: %w", err))
	}
	return path, nil
}

// connFlags are the global flags that say which app to call.
type connFlags struct {
	host, clientID, secret, env string
}

func (f *connFlags) register(root *cobra.Command) {
	pf := root.PersistentFlags()
	pf.StringVar(&f.host, "host", "", "API host URL (MINCLOUD_HOST; default the platform's)")
	pf.StringVar(&f.clientID, "client-id", "", "the app's client id (MINCLOUD_CLIENT_ID)")
	pf.StringVar(&f.secret, "client-secret", "", "the app's Open API client secret (MINCLOUD_CLIENT_SECRET)")
	pf.StringVarP(&f.env, "env", "e", "", "test environment id (MINCLOUD_ENV_ID)")
}

// resolve merges, first to last, the flags of cmd, the MINCLOUD_*
// variables and base (the login file). The file speaks for the one app it
// was saved for: its client id applies only on its host, its secret and
// environment only with its host and its client id, so that a command
// aimed at another app never sends them there.
func (f *connFlags) resolve(cmd *cobra.Command, base config) config {
	env := envconf.Read()
	pick := func(flag, flagVal, envVal, fileVal string) string {
		if fl := cmd.Flags().Lookup(flag); fl != nil && fl.Changed {
			return strings.TrimSpace(flagVal)
		}
		if envVal != "" {
			return envVal
		}
		return fileVal
	}
	host := pick("host", f.host, env.Host, base.Host)
	if !sameHost(host, base.Host) {
		base = config{}
	}
	id := pick("client-id", f.clientID, env.ClientID, base.ClientID)
	if id != base.ClientID {
		base.ClientSecret, base.Env = "", ""
	}
	return config{
		Host:         host,
		ClientID:     id,
		ClientSecret: pick("client-secret", f.secret, env.ClientSecret, base.ClientSecret),
		Env:          pick("env", f.env, env.EnvID, base.Env),
		authToken:    env.AuthToken,
	}
}

// sameHost reports whether two host settings name the same host: a
// trailing slash and the case of the letters do not matter.
func sameHost(a, b string) bool {
	norm := func(h string) string { return strings.TrimRight(strings.TrimSpace(h), "/") }
	return strings.EqualFold(norm(a), norm(b))
}

// client builds the SDK client for the resolved connection; extra adds
// to its options.
func (c config) client(extra ...baas.Option) (*baas.Client, error) {
	return baas.New(append([]baas.Option{baas.WithClientID(c.ClientID), baas.WithHost(c.Host), baas.WithEnv(c.Env),
		baas.WithClientSecret(c.ClientSecret), baas.WithAuthToken(c.authToken)}, extra...)...)
}

// client is the SDK client the flags, variables and login file give. A
// client id missing or a setting the SDK refuses (602, 605) is a usage
// error: nothing was sent, and the fix is on the command line.
func (a *app) client(cmd *cobra.Command, extra ...baas.Option) (*baas.Client, error) {
	base, err := loadConfig()
	if err != nil {
		return nil, err
	}
	cfg := a.conn.resolve(cmd, base)
	if cfg.ClientID == "" {
		// The SDK's 602 names its Go option; say what a shell user does.
		return nil, usageErr(cmd, "%v", &baas.HError{Code: baas.CodeUninitialized,
			Message: "uninitialized: no client id: run 'mincloud login', or set --client-id or MINCLOUD_CLIENT_ID"})
	}
	c, err := cfg.client(extra...)
	var he *baas.HError
	if errors.As(err, &he) && (he.Code == baas.CodeBadParameter || he.Code == baas.CodeUninitialized) {
		return nil, usageErr(cmd, "%v", err)
	}
	return c, err
}

// manager is the Open API client for the management commands, which
// need a client secret.
func (a *app) manager(cmd *cobra.Command) (*manage.Service, error) {
	c, err := a.client(cmd)
	if err != nil {
		return nil, err
	}
	if !clientinfo.Of(c).OpenAPI {
		return nil, usageErr(cmd, "%s needs a client secret: run 'mincloud login CLIENT_ID CLIENT_SECRET', or set --client-secret or MINCLOUD_CLIENT_SECRET", cmd.Name())
	}
	return manage.New(c), nil
}
