package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoginStoresTheAppAndLogoutRemovesIt(t *testing.T) {
	t.Parallel()
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
	c.env = []string{"MINCLOUD_HOST=http://127.0.0.1:1"}
	r = c.run("list")
	assert.Equal(t, 1, r.code, r)
	assert.Contains(t, r.stderr, "600: ", "nothing listens on port 1")
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
	t.Parallel()
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
	t.Parallel()
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
