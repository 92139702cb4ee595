package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mincloud-go/baas/emulator"
	"github.com/mincloud-go/baas/function"
)

func TestLoginStoresTheAppAndLogoutRemovesIt(t *testing.T) {
	c := newCLI(t)
	file := filepath.Join(c.config, "mincloud", "config.json")

	r := c.run("login", "--host", hostURL, testClientID, testSecret)
	require.Equal(t, 0, r.code, r)
	assert.Contains(t, r.stdout, "logged in: client id "+testClientID+" on "+hostURL)
	assert.NotContains(t, r.stdout+r.stderr, testSecret, "the secret is never printed")

	st, err := os.Stat(file)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "the file holds the secret")
	dir, err := os.Stat(filepath.Dir(file))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), dir.Mode().Perm())
	var stored map[string]string
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &stored))
	assert.Equal(t, map[string]string{"host": hostURL, "client_id": testClientID, "client_secret": testSecret}, stored)

	// Later commands call the stored app with no flags or variables.
	r = c.run("list", "--json")
	require.Equal(t, 0, r.code, r)
	assert.Contains(t, r.stdout, `"name": "helloWorld"`)

	// A flag overrides the file: a wrong secret fails the call.
	r = c.run("list", "--client-secret", "wrong-secret")
	assert.Equal(t, 1, r.code, r)
	assert.Contains(t, r.stderr, "authorize step")
	assert.NotContains(t, r.stderr, "wrong-secret")
	assert.Empty(t, r.stdout, "no table header before an error")

	// So does a MINCLOUD_* variable.
	c.env = []string{"MINCLOUD_CLIENT_SECRET=wrong-secret"}
	r = c.run("list")
	assert.Equal(t, 1, r.code, r)
	assert.Contains(t, r.stderr, "authorize step")
	// Another host is another app: the file's client id does not follow.
	c.env = []string{"MINCLOUD_HOST=http://127.0.0.1:1"}
	r = c.run("list")
	assert.Equal(t, 2, r.code, r)
	assert.Contains(t, r.stderr, "602: uninitialized: no client id")
	c.env = nil

	r = c.run("logout", "--json")
	require.Equal(t, 0, r.code, r)
	var out struct {
		LoggedOut bool   `json:"logged_out"`
		Config    string `json:"config"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out), r.stdout)
	assert.True(t, out.LoggedOut)
	assert.Equal(t, file, out.Config)
	assert.NoFileExists(t, file)

	r = c.run("logout")
	assert.Equal(t, 0, r.code)
	assert.Equal(t, "not logged in: nothing to remove\n", r.stdout)

	r = c.run("list")
	assert.Equal(t, 2, r.code, "logged out: no client id, a usage error")
	assert.Contains(t, r.stderr, "602: uninitialized")
}

func TestLoginChecksTheSecret(t *testing.T) {
	c := newCLI(t)
	r := c.run("login", "--host", hostURL, testClientID, "not-the-secret")
	assert.Equal(t, 1, r.code, r)
	assert.Contains(t, r.stderr, "authorize step")
	assert.NotContains(t, r.stdout+r.stderr, "not-the-secret")
	assert.Empty(t, r.stdout)
	assert.NoFileExists(t, filepath.Join(c.config, "mincloud", "config.json"), "nothing stored for a pair that does not work")

	// The secret from the environment, out of the shell's history.
	c.env = []string{"MINCLOUD_CLIENT_SECRET=" + testSecret}
	r = c.run("login", "--host", hostURL, "--client-id", testClientID, "--json")
	require.Equal(t, 0, r.code, r)
	var out map[string]string
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out), r.stdout)
	assert.Equal(t, testClientID, out["client_id"])
	assert.Equal(t, hostURL, out["host"])
	assert.NotContains(t, r.stdout, testSecret)

	c.env = nil
	r = c.run("login", testClientID)
	assert.Equal(t, 2, r.code, r)
	assert.Contains(t, r.stderr, "client secret is required")
}

func TestBrokenLoginFile(t *testing.T) {
	c := newCLI(t)
	file := filepath.Join(c.config, "mincloud", "config.json")
	require.NoError(t, os.MkdirAll(filepath.Dir(file), 0o700))
	require.NoError(t, os.WriteFile(file, []byte("{not json"), 0o600))
	r := c.run("list")
	assert.Equal(t, 1, r.code, r)
	assert.Contains(t, r.stderr, "the login file "+file+" is not valid JSON")
	assert.Contains(t, r.stderr, "run 'mincloud login' again")
	assert.Empty(t, r.stdout)
}

// A saved login speaks for its own app only: a command aimed at another
// host, or at another client id, never carries its secret.
func TestLoginAppliesToItsOwnAppOnly(t *testing.T) {
	c := newCLI(t)
	r := c.run("login", "--host", hostURL, testClientID, testSecret)
	require.Equal(t, 0, r.code, r)

	// App B: another emulator, client id dev.
	b := emulator.New(emulator.WithClientID("dev"))
	t.Cleanup(b.Close)
	b.Register("f", func(ctx context.Context, ev *function.Event) (any, error) { return "from B", nil })

	r = c.run("--host", b.URL, "--client-id", "dev", "invoke", "f")
	require.Equal(t, 0, r.code, r)
	assert.Equal(t, "success\nresult:\n  \"from B\"\n", r.stdout, "the Web API, without A's secret: no debug summary")
	require.Len(t, b.Jobs(), 1)
	assert.Equal(t, emulator.SourceSDK, b.Jobs()[0].Source, "called as a client, not through the Open API")
	assert.Zero(t, b.TokensIssued(), "no token asked for with A's secret")

	// Another host alone: A's client id does not follow either.
	r = c.run("--host", b.URL, "invoke", "f")
	assert.Equal(t, 2, r.code, r)
	assert.Contains(t, r.stderr, "no client id")

	// A's host with another client id: no secret, so the Web API.
	r = c.run("--client-id", "someone-else", "list")
	assert.Equal(t, 2, r.code, r)
	assert.Contains(t, r.stderr, "list needs a client secret")

	// A's own host and id still use the saved secret; a trailing slash
	// names the same host.
	r = c.run("--host", hostURL+"/", "--client-id", testClientID, "list", "--json")
	require.Equal(t, 0, r.code, r)
	assert.Contains(t, r.stdout, `"name": "helloWorld"`)
}
