package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mincloud-go/baas/internal/nodetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// waitFor polls serve's output for want; the watcher reports each reload.
func waitFor(t *testing.T, srv *served, want string) {
	t.Helper()
	require.Eventually(t, func() bool { return strings.Contains(srv.rest.String(), want) },
		time.Minute, 20*time.Millisecond, "serve never printed %q; it printed:\n%s", want, srv.rest.String())
}

func TestServeFunctionsFollowsTheFolder(t *testing.T) {
	t.Parallel()
	nodetest.Need(t)
	dir := t.TempDir()
	write := func(rel, src string) {
		t.Helper()
		p := filepath.Join(dir, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(src), 0o644))
	}
	write("hello.js", `exports.main = function (event, callback) { console.log('hi', event.data.name); callback(null, 'hello ' + event.data.name) }`)
	write("shout/index.js", `const up = require('./up'); exports.main = async (event) => up(event.data.name)`)
	write("shout/up.js", `module.exports = (s) => s.toUpperCase()`)

	srv, err := startServe("--client-id", "serve-fns", "--functions", dir)
	require.NoError(t, err)
	defer srv.stop()
	assert.Contains(t, strings.Join(srv.banner, "\n"), "functions: hello, shout", "the folder's functions, not the demo ones")

	c := newCLI(t).onBinary()
	c.env = []string{"MINCLOUD_HOST=" + srv.url, "MINCLOUD_CLIENT_ID=serve-fns"}
	r := c.run("invoke", "hello", `{"name":"allen"}`, "--json")
	require.Equal(t, 0, r.code, r)
	assert.JSONEq(t, `{"code":0,"data":"hello allen","error":{}}`, r.stdout)
	r = c.run("invoke", "shout", `{"name":"allen"}`, "--json")
	require.Equal(t, 0, r.code, r)
	assert.JSONEq(t, `{"code":0,"data":"ALLEN","error":{}}`, r.stdout)
	r = c.run("invoke", "helloWorld")
	assert.Equal(t, 1, r.code, "no demo functions with --functions: %s", r)

	// A change, an addition and a removal take effect without a restart.
	write("hello.js", `exports.main = function (event, callback) { callback(null, 'hi again ' + event.data.name) }`)
	waitFor(t, srv, "reloaded hello")
	r = c.run("invoke", "hello", `{"name":"allen"}`, "--json")
	require.Equal(t, 0, r.code, r)
	assert.JSONEq(t, `{"code":0,"data":"hi again allen","error":{}}`, r.stdout)

	write("shout/up.js", `module.exports = (s) => s.toUpperCase() + '!'`)
	waitFor(t, srv, "reloaded shout")
	r = c.run("invoke", "shout", `{"name":"allen"}`, "--json")
	require.Equal(t, 0, r.code, r)
	assert.JSONEq(t, `{"code":0,"data":"ALLEN!","error":{}}`, r.stdout, "a file beside index.js reloads its function")

	write("added.js", `exports.main = async () => 42`)
	waitFor(t, srv, "loaded added")
	r = c.run("invoke", "added", "--json")
	require.Equal(t, 0, r.code, r)
	assert.JSONEq(t, `{"code":0,"data":42,"error":{}}`, r.stdout)

	require.NoError(t, os.Remove(filepath.Join(dir, "hello.js")))
	waitFor(t, srv, "removed hello")
	r = c.run("invoke", "hello", `{"name":"allen"}`)
	assert.Equal(t, 1, r.code, "a removed function is unknown: %s", r)
	assert.Contains(t, r.stderr, "404")

	require.NoError(t, srv.stop())
	assert.Contains(t, srv.rest.String(), "INFO hi allen", "the functions' console lines go to serve's output")
}

func TestServeFunctionsRefusesAMissingFolder(t *testing.T) {
	t.Parallel()
	_, err := startServe("--functions", filepath.Join(t.TempDir(), "nope"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nope")
}

// A function that cannot be bundled is said once, after the banner (it
// was said twice: by the first load, before the banner, and by the
// watcher as it started).
func TestServeFunctionsReportsABrokenFunctionOnce(t *testing.T) {
	t.Parallel()
	nodetest.Need(t)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "lod.ts"), []byte("import _ from 'not-installed-here'\nexport const main = async () => _.VERSION\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ok.js"), []byte("exports.main = async () => 1\n"), 0o644))

	srv, err := startServe("--client-id", "serve-broken", "--functions", dir)
	require.NoError(t, err)
	defer srv.stop()
	banner := strings.Join(srv.banner, "\n")
	assert.True(t, strings.HasPrefix(banner, "MinCloud emulator listening on "), "the banner comes first:\n%s", banner)
	assert.Contains(t, banner, "functions: lod, ok")
	assert.NotContains(t, banner, "does not load")

	waitFor(t, srv, `lod.ts:1:15: Could not resolve "not-installed-here"`)
	c := newCLI(t).onBinary()
	c.env = []string{"MINCLOUD_HOST=" + srv.url, "MINCLOUD_CLIENT_ID=serve-broken"}
	r := c.run("invoke", "ok", "--json")
	require.Equal(t, 0, r.code, r) // the others are served
	r = c.run("invoke", "lod", "--json")
	assert.Equal(t, 3, r.code, r)
	assert.Contains(t, r.stdout, `Could not resolve \"not-installed-here\"`)
	assert.Equal(t, 1, strings.Count(srv.rest.String(), "does not load"), srv.rest.String())
	assert.Contains(t, srv.banner[len(srv.banner)-1], " invoke ok ", "the hint calls a function that loads")

	// When none loads, the hint says to fix them, naming none to call.
	require.NoError(t, os.Remove(filepath.Join(dir, "ok.js")))
	only, err := startServe("--client-id", "serve-broken", "--functions", dir)
	require.NoError(t, err)
	defer only.stop()
	assert.Equal(t, "try: fix the functions that do not load (said below); each is served again as soon as it is saved", only.banner[len(only.banner)-1])
	waitFor(t, only, "functions: lod does not load: lod.ts:1:15")
}

// A file of the folder that does not parse is reported when serve starts,
// with its file and line (esbuild's parse error: serve bundles each
// function as deploy does), not only at its first call; the other
// functions are served.
func TestServeFunctionsSaysWhereAFileDoesNotParse(t *testing.T) {
	t.Parallel()
	nodetest.Need(t)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "good.js"), []byte(`exports.main = async () => 'good'`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "broken.js"), []byte("exports.main = function (event, callback) {\n  callback(null, 'x'))\n}\n"), 0o644))
	srv, err := startServe("--client-id", "serve-parse", "--functions", dir)
	require.NoError(t, err)
	defer srv.stop()
	// Said as serve starts, after the banner, plainly, with the file and
	// the line; the banner's hint calls a function that loads.
	waitFor(t, srv, "functions: broken does not load: broken.js:2:")
	assert.NotContains(t, srv.rest.String(), "loaded broken")
	try := srv.banner[len(srv.banner)-1]
	assert.Regexp(t, `^try: mincloud .* invoke good `, try)

	c := newCLI(t).onBinary()
	c.env = []string{"MINCLOUD_HOST=" + srv.url, "MINCLOUD_CLIENT_ID=serve-parse"}
	r := c.run("invoke", "good", "--json")
	require.Equal(t, 0, r.code, r)
	assert.JSONEq(t, `{"code":0,"data":"good","error":{}}`, r.stdout)
}
