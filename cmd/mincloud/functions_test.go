package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mincloud-go/baas/internal/nodetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRoundTrip is a whole session: new, deploy, list, invoke, pull,
// delete.
func TestRoundTrip(t *testing.T) {
	c := connected(t)
	name := "roundTrip"

	r := c.run("new", name)
	require.Equal(t, 0, r.code, r)
	path := filepath.Join(c.root, name, "index.js")
	assert.Equal(t, "created "+filepath.Join(".", name, "index.js")+"\nnext: mincloud deploy "+name+"\n", r.stdout)
	code, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(code), "exports.main = function (event, callback)", "the platform's callback style")

	r = c.run("new", name)
	assert.Equal(t, 1, r.code, "it will not overwrite")
	assert.Contains(t, r.stderr, "already exists")

	r = c.run("deploy", name, "-m", "first")
	require.Equal(t, 0, r.code, r)
	assert.Equal(t, "created "+name+" from "+filepath.Join(".", name, "index.js")+"\n", r.stdout)

	r = c.run("list", "--json")
	require.Equal(t, 0, r.code, r)
	var fns []struct {
		Name      string `json:"name"`
		Remark    string `json:"remark"`
		UpdatedAt int64  `json:"updated_at"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &fns), r.stdout)
	found := false
	for _, f := range fns {
		if f.Name == name {
			found = true
			assert.Equal(t, "first", f.Remark)
			assert.NotZero(t, f.UpdatedAt)
		}
	}
	assert.True(t, found, r.stdout)

	r = c.run("list")
	require.Equal(t, 0, r.code, r)
	assert.Regexp(t, `(?m)^NAME\s+REMARK\s+UPDATED$`, r.stdout)
	assert.Regexp(t, `(?m)^roundTrip\s+first\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$`, r.stdout)

	// The template's function runs in Node in the emulator.
	nodetest.Need(t)
	r = c.run("invoke", name, `{"a":1}`, "--json")
	require.Equal(t, 0, r.code, r)
	var run struct {
		Code  int             `json:"code"`
		Data  json.RawMessage `json:"data"`
		JobID int64           `json:"job_id"`
		Log   string          `json:"log"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &run), r.stdout)
	assert.NotZero(t, run.JobID)
	assert.Equal(t, 0, run.Code)
	assert.JSONEq(t, `{"message":"hello from roundTrip","data":{"a":1}}`, string(run.Data))
	assert.Contains(t, run.Log, `roundTrip called with {"a":1}`)

	// pull writes the deployed code back where it came from.
	require.NoError(t, os.WriteFile(path, []byte("// changed locally\n"), 0o644))
	r = c.run("pull", name)
	require.Equal(t, 0, r.code, r)
	assert.Equal(t, "pulled "+name+" into "+filepath.Join(".", name, "index.js")+"\n", r.stdout)
	pulled, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(code), string(pulled))

	r = c.run("delete", name)
	assert.Equal(t, 2, r.code, "stdin is not a terminal: --yes is required")
	assert.Contains(t, r.stderr, "pass --yes")

	r = c.run("delete", name, "--yes", "--json")
	require.Equal(t, 0, r.code, r)
	assert.JSONEq(t, `{"name":"roundTrip","deleted":true}`, r.stdout)

	r = c.run("delete", name, "--yes")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, `404: Cloud function "roundTrip" not found.`)
	r = c.run("pull", name)
	assert.Equal(t, 1, r.code)
	assert.Empty(t, r.stdout)
}

func TestDeployCreatesThenUpdates(t *testing.T) {
	c := connected(t)
	root := filepath.Join(c.root, "fns")
	require.NoError(t, os.MkdirAll(filepath.Join(root, "deployDir"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "deployDir", "index.js"), []byte("exports.main = (e, cb) => cb(null, 1)\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "deployFile.js"), []byte("exports.main = (e, cb) => cb(null, 2)\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "notes.txt"), []byte("not a function"), 0o644))

	type row struct {
		Name, Action, Path, Error string
	}
	deploy := func(args ...string) []row {
		t.Helper()
		r := c.run(append([]string{"deploy", "--root", root, "--json"}, args...)...)
		require.Equal(t, 0, r.code, r)
		var rows []row
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &rows), r.stdout)
		return rows
	}
	assert.Equal(t, []row{
		{Name: "deployDir", Action: "created", Path: filepath.Join(root, "deployDir", "index.js")},
		{Name: "deployFile", Action: "created", Path: filepath.Join(root, "deployFile.js")},
	}, deploy("-m", "v1"), "no name: every function in the root")

	require.NoError(t, os.WriteFile(filepath.Join(root, "deployFile.js"), []byte("exports.main = (e, cb) => cb(null, 3)\n"), 0o644))
	assert.Equal(t, []row{{Name: "deployFile", Action: "updated", Path: filepath.Join(root, "deployFile.js")}}, deploy("deployFile"))

	// The update changed the code and kept the remark (no -m).
	r := c.run("pull", "deployFile", "--root", root, "--json")
	require.Equal(t, 0, r.code, r)
	b, err := os.ReadFile(filepath.Join(root, "deployFile.js"))
	require.NoError(t, err)
	assert.Equal(t, "exports.main = (e, cb) => cb(null, 3)\n", string(b))
	r = c.run("list", "--json")
	require.Equal(t, 0, r.code, r)
	assert.Contains(t, r.stdout, `"name": "deployFile",`+"\n    \"remark\": \"v1\"")

	r = c.run("deploy", "missing", "--root", root)
	assert.Equal(t, 2, r.code, r)
	assert.Contains(t, r.stderr, "function missing has no code in "+root)
	assert.Empty(t, r.stdout)

	empty := t.TempDir()
	r = c.run("deploy", "--root", empty)
	assert.Equal(t, 2, r.code, r)
	assert.Contains(t, r.stderr, "no functions in "+empty)

	// Text output says what happened per function.
	c.env = append(c.env, "MINCLOUD_CLIENT_SECRET=")
	r = c.run("deploy", "--root", root, "--client-secret", testSecret)
	require.Equal(t, 0, r.code, r)
	assert.Equal(t, []string{"updated deployDir from " + filepath.Join(root, "deployDir", "index.js"),
		"updated deployFile from " + filepath.Join(root, "deployFile.js")}, strings.Split(strings.TrimSpace(r.stdout), "\n"))
	// Each function's failure is on stderr, and the exit code is 1.
	r = c.run("deploy", "--root", root, "--client-secret", "wrong-secret")
	assert.Equal(t, 1, r.code, r)
	assert.Empty(t, r.stdout)
	assert.Contains(t, r.stderr, "failed deployDir: ")
	assert.Contains(t, r.stderr, "failed deployFile: ")
	assert.Contains(t, r.stderr, "error: 2 of 2 functions not deployed: deployDir, deployFile\n", "each failure is said once, on its own line")
	assert.NotContains(t, r.stderr, "wrong-secret")

	r = c.run("deploy", "--root", root)
	assert.Equal(t, 2, r.code, "no secret: the management commands say how to give one")
	assert.Contains(t, r.stderr, "deploy needs a client secret")
}
