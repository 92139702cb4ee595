package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mincloud-go/baas/internal/nodetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bundleProject writes a functions folder under a project whose
// node_modules is one folder up, and returns the functions folder.
func bundleProject(t *testing.T) string {
	t.Helper()
	base := t.TempDir()
	put := func(rel, src string) {
		t.Helper()
		p := filepath.Join(base, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(src), 0o644))
	}
	put("node_modules/pad/package.json", `{"name":"pad","main":"pad.js"}`)
	put("node_modules/pad/pad.js", "module.exports = (s, n) => String(s).padStart(n, '*')\n")
	put("functions/greet/index.ts", "import pad from 'pad'\nimport { twice } from './twice'\nexport const main = async (e: { data: { n: number } }) => pad(twice(e.data.n), 5)\n")
	put("functions/greet/twice.ts", "export const twice = (n: number): number => n * 2\n")
	put("functions/self.ts", "import { createHash } from 'crypto'\nimport { readFileSync } from 'fs'\n"+
		"export const main = async () => createHash('sha256').update(readFileSync(__filename)).digest('hex')\n")
	put("functions/boom.ts", "// line 1\n\n\nexport const main = async () => {\n  const x: number = 1\n  if (x) {\n    throw new RangeError('too far')\n  }\n}\n")
	put("functions/plain.js", "exports.main = (e, cb) => cb(null, 'plain')\n")
	return filepath.Join(base, "functions")
}

func TestBuildServeAndDeployShipTheSameBytes(t *testing.T) {
	t.Parallel()
	nodetest.Need(t)
	dir := bundleProject(t)
	c := newCLI(t).onBinary()
	out := filepath.Join(c.root, "dist")
	r := c.run("build", "--root", dir, "--out", out)
	require.Equal(t, 0, r.code, r)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	require.Len(t, lines, 4, "one line per function: %s", r.stdout)
	for i, n := range []string{"boom", "greet", "plain", "self"} {
		assert.True(t, strings.HasPrefix(lines[i], "built "+n+": "+filepath.Join(out, n+".js")+" ("), lines[i])
	}
	self, err := os.ReadFile(filepath.Join(out, "self.js"))
	require.NoError(t, err)
	plain, err := os.ReadFile(filepath.Join(out, "plain.js"))
	require.NoError(t, err)
	assert.Equal(t, "exports.main = (e, cb) => cb(null, 'plain')\n", string(plain), "a plain function is written as it is")

	srv, err := startServe("--client-id", "bundles", "--client-secret", "bundle-secret", "--functions", dir)
	require.NoError(t, err)
	defer srv.stop()
	c.env = []string{"MINCLOUD_HOST=" + srv.url, "MINCLOUD_CLIENT_ID=bundles", "MINCLOUD_CLIENT_SECRET=bundle-secret"}

	data := func(r result) string {
		t.Helper()
		require.Equal(t, 0, r.code, r)
		var res struct {
			Data string `json:"data"`
		}
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &res), r.stdout)
		return res.Data
	}
	assert.Equal(t, "***42", data(c.run("invoke", "greet", `{"n":21}`, "--json")))

	// The file serve runs is the file build wrote.
	sum := sha256.Sum256(self)
	assert.Equal(t, hex.EncodeToString(sum[:]), data(c.run("invoke", "self", "--json")))

	// And the code deploy uploads is that file too.
	r = c.run("deploy", "self", "--root", dir)
	require.Equal(t, 0, r.code, r)
	pulled := t.TempDir()
	r = c.run("pull", "self", "--root", pulled)
	require.Equal(t, 0, r.code, r)
	got, err := os.ReadFile(filepath.Join(pulled, "self", "index.js"))
	require.NoError(t, err)
	assert.Equal(t, string(self), string(got), "deploy uploads byte for byte what build wrote and serve runs")
	r = c.run("pull", "self", "--root", dir)
	assert.Equal(t, 2, r.code, "pull does not overwrite TypeScript with the bundle: %s", r)

	// invoke's output names the original file and line.
	r = c.run("invoke", "boom", "--json")
	assert.Equal(t, 3, r.code, r)
	assert.Contains(t, r.stdout, filepath.Join(dir, "boom.ts")+":7:11", r.stdout)
	r = c.run("invoke", "boom")
	assert.Equal(t, 3, r.code, r)
	assert.Contains(t, r.stdout, "boom.ts:7:11", r.stdout)
}

func TestBuildReportsWhatCannotBeBundled(t *testing.T) {
	t.Parallel()
	dir := bundleProject(t)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "needsPkg.ts"), []byte("import x from 'not-installed'\nexport const main = async () => x\n"), 0o644))
	c := newCLI(t).onBinary()
	out := filepath.Join(c.root, "dist")
	r := c.run("build", "needsPkg", "greet", "--root", dir, "--out", out)
	assert.Equal(t, 1, r.code, r)
	assert.Contains(t, r.stderr, `failed needsPkg: function needsPkg cannot be bundled: needsPkg.ts:1:15: Could not resolve "not-installed"`)
	assert.Contains(t, r.stdout, "built greet: "+filepath.Join(out, "greet.js"), "the others are built")
	assert.Equal(t, 1, strings.Count(r.stderr, `Could not resolve "not-installed"`), "esbuild's message is said once: %s", r.stderr)
	assert.True(t, strings.HasSuffix(r.stderr, "error: 1 of 2 functions not built: needsPkg\n"), r.stderr)
	_, err := os.Stat(filepath.Join(out, "needsPkg.js"))
	assert.True(t, os.IsNotExist(err), "no file for a failure")

	r = c.run("deploy", "needsPkg", "--root", dir, "--host", "http://127.0.0.1:1", "--client-id", "x", "--client-secret", "y")
	assert.Equal(t, 1, r.code, r)
	assert.Contains(t, r.stderr, `needsPkg.ts:1:15: Could not resolve "not-installed"`, "deploy bundles first and uploads nothing")

	r = c.run("build", "missing", "--root", dir)
	assert.Equal(t, 2, r.code, r)
	assert.Contains(t, r.stderr, "function missing has no code in "+dir)
}

func TestServeInspectListsTheTarget(t *testing.T) {
	t.Parallel()
	nodetest.Need(t)
	addr := "127.0.0.1:" + freeInspectPort(t)
	dir := bundleProject(t)
	srv, err := startServe("--client-id", "inspect", "--functions", dir, "--inspect="+addr)
	require.NoError(t, err)
	defer srv.stop()
	assert.Contains(t, strings.Join(srv.banner, "\n"), "debugger: Node's inspector listens on "+addr)
	assert.Contains(t, strings.Join(srv.banner, "\n"), "chrome://inspect")

	c := newCLI(t).onBinary()
	c.env = []string{"MINCLOUD_HOST=" + srv.url, "MINCLOUD_CLIENT_ID=inspect"}
	r := c.run("invoke", "greet", `{"n":1}`, "--json")
	require.Equal(t, 0, r.code, r)
	resp, err := http.Get("http://" + addr + "/json/list")
	require.NoError(t, err)
	defer resp.Body.Close()
	var targets []struct {
		Type string `json:"type"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&targets))
	require.Len(t, targets, 1)
	assert.Equal(t, "node", targets[0].Type)
}
