package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mincloud-go/baas/internal/nodetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const cliSchema = `[
 {"name":"post","row_read_perm":["user:*"],"row_write_perm":["user:*"],"write_perm":["user:*"],
  "schema":{"fields":[{"name":"title","type":"string"},{"name":"by","type":"reference","schema_name":"author"}]},
  "indexes":[{"fields":["title"]}]},
 {"name":"author","row_read_perm":["user:*"],"row_write_perm":["user:*"],"write_perm":["user:*"],
  "schema":{"fields":[{"name":"nick","type":"string"},{"name":"age","type":"integer"}]}}
]`

// serveData starts a 'mincloud serve' of its own with extra flags and
// returns a CLI connected to it.
func serveData(t *testing.T, args ...string) (*served, *cli) {
	t.Helper()
	srv, err := startServe(append([]string{"--client-id", "data-test", "--client-secret", "data-secret"}, args...)...)
	require.NoError(t, err)
	t.Cleanup(func() { srv.stop() })
	c := newCLI(t)
	c.env = []string{"MINCLOUD_HOST=" + srv.url, "MINCLOUD_CLIENT_ID=data-test", "MINCLOUD_CLIENT_SECRET=data-secret"}
	return srv, c
}

// TestSchemaImportThenDataRoundTrip: schema-import into serve (§8.4),
// import JSON lines, export them, and a file database kept across a
// restart of serve.
func TestSchemaImportThenDataRoundTrip(t *testing.T) {
	// In-process (not parallel): the command runs with the test's environment.
	dbPath := filepath.Join(t.TempDir(), "data.db")
	srv, c := serveData(t, "--data", dbPath)
	assert.Contains(t, strings.Join(srv.banner, "\n"), "data: tables in "+dbPath)

	require.NoError(t, os.WriteFile(filepath.Join(c.root, "blog.json"), []byte(cliSchema), 0o600))
	r := c.run("schema-import", "blog")
	require.Equal(t, 0, r.code, r)
	assert.Equal(t, "created table author\ncreated table post\n", r.stdout, "tables without references first")

	r = c.run("schema-import", "blog")
	assert.Equal(t, 1, r.code, r)
	assert.Contains(t, r.stderr, "exists already")

	lines := `{"id":"a1","nick":"ann","age":30}
{"id":"a2","nick":"bob","age":"old"}

{"id":"a3","nick":"cy","age":41}
`
	require.NoError(t, os.WriteFile(filepath.Join(c.root, "authors.jsonl"), []byte(lines), 0o600))
	r = c.run("data", "import", "author", "authors.jsonl")
	// bob's age is a string: his only other field, nick, is written and
	// age is dropped (§6.2) — so all three are created.
	require.Equal(t, 0, r.code, r)
	assert.Contains(t, r.stderr, "imported 3 records into author")

	r = c.run("data", "export", "author", "--where", `{"age":{"$gte":30}}`)
	require.Equal(t, 0, r.code, r)
	out := strings.Split(strings.TrimSpace(r.stdout), "\n")
	require.Len(t, out, 2, r.stdout)
	var first map[string]any
	require.NoError(t, json.Unmarshal([]byte(out[0]), &first))
	assert.Equal(t, "a1", first["id"])

	c.stdin = `{"title":"hello","by":{"id":"a1","_table":"author"}}` + "\n" + `{"title":"hello"}` + "\n"
	r = c.run("data", "import", "post", "-")
	assert.Equal(t, 1, r.code, "the second breaks the unique index on title: %s", r)
	assert.Contains(t, r.stderr, "record 2 refused: 11000")
	assert.Contains(t, r.stderr, "imported 1 records into post")

	// Stop serve and start it again on the same file: all is there.
	require.NoError(t, srv.stop())
	_, c2 := serveData(t, "--data", dbPath)
	r = c2.run("data", "export", "post")
	require.Equal(t, 0, r.code, r)
	assert.Contains(t, r.stdout, `"by":{"_table":"author","id":"a1"}`)
	r = c2.run("data", "export", "nope")
	assert.Equal(t, 1, r.code, r)
	assert.Contains(t, r.stderr, `404: Table "nope" does not exist.`, "the server's answer, said once")

	// The sqlite3 tool reads the file (serve is still running). Under CI
	// (.ci/run installs it) its absence is a failure, not a skip.
	if _, err := exec.LookPath("sqlite3"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the sqlite3 tool is needed and CI is set: %v", err)
		}
		t.Logf("sqlite3 not found: the file's readability by it is not checked")
		return
	}
	b, err := exec.Command("sqlite3", dbPath, "SELECT count(*) FROM mc_tables").CombinedOutput()
	require.NoError(t, err, string(b))
	assert.Equal(t, "2", strings.TrimSpace(string(b)))
}

// TestDataImportIntoAFreshEmulator: without a schema the emulator makes a
// table by its first write, so the README's seeding of a fresh 'mincloud
// serve' with 'data import' works, and a table never written exports
// empty (it reads as empty there) instead of a 404.
func TestDataImportIntoAFreshEmulator(t *testing.T) {
	_, c := serveData(t)
	r := c.run("data", "export", "product")
	require.Equal(t, 0, r.code, r)
	assert.Empty(t, r.stdout)
	assert.Contains(t, r.stderr, "exported 0 records of product")

	c.stdin = `{"name":"pen","stock":3}` + "\n" + `{"name":"ink","stock":1}` + "\n"
	r = c.run("data", "import", "product", "-")
	require.Equal(t, 0, r.code, r)
	assert.Contains(t, r.stderr, "imported 2 records into product")

	r = c.run("data", "export", "product", "--where", `{"name":"pen"}`)
	require.Equal(t, 0, r.code, r)
	assert.Contains(t, r.stdout, `"stock":3`)
	assert.Equal(t, 1, strings.Count(r.stdout, "\n"), r.stdout)
}

// TestServeSchemaFlagAndBadInput: serve --schema loads tables; the data
// commands refuse bad input before sending anything.
func TestServeSchemaFlagAndBadInput(t *testing.T) {
	// In-process (not parallel): the command runs with the test's environment.
	dir := t.TempDir()
	schema := filepath.Join(dir, "s.json")
	require.NoError(t, os.WriteFile(schema, []byte(cliSchema), 0o600))
	srv, c := serveData(t, "--schema", schema)
	assert.Contains(t, strings.Join(srv.banner, "\n"), "schema "+schema)

	r := c.run("data", "export", "author")
	require.Equal(t, 0, r.code, r)
	assert.Empty(t, r.stdout)

	require.NoError(t, os.WriteFile(filepath.Join(c.root, "bad.jsonl"), []byte("{\"a\":1}\n[1]\n"), 0o600))
	r = c.run("data", "import", "author", "bad.jsonl")
	assert.Equal(t, 2, r.code, r)
	assert.Contains(t, r.stderr, "line 2 is not a JSON object")

	r = c.run("data", "export", "author", "--where", "{nope")
	assert.Equal(t, 2, r.code, r)

	// Without a secret: a usage error naming what to do.
	c.env = []string{"MINCLOUD_HOST=" + srv.url, "MINCLOUD_CLIENT_ID=data-test"}
	r = c.run("data", "export", "author")
	assert.Equal(t, 2, r.code, r)
	assert.Contains(t, r.stderr, "needs a client secret")

	// A missing schema file fails serve.
	r = newCLI(t).onBinary().run("serve", "--addr", "127.0.0.1:0", "--schema", filepath.Join(dir, "missing.json"))
	assert.Equal(t, 1, r.code, r)
	assert.Contains(t, r.stderr, fmt.Sprintf("schema: open %s", filepath.Join(dir, "missing.json")))
}

// TestServeTriggerRunsAJavaScriptFunction: serve --trigger runs a
// function of --functions when a record of the table changes.
func TestServeTriggerRunsAJavaScriptFunction(t *testing.T) {
	t.Parallel()
	nodetest.Need(t)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "onNote.js"), []byte(
		`exports.main = async (event) => { console.log('trigger', event.eventType, event.flex_schema_name, event.data.event, event.data.after.text) }`), 0o644))
	srv, err := startServe("--client-id", "trig", "--functions", dir, "--trigger", "note:onNote:create")
	require.NoError(t, err)
	defer srv.stop()
	req, _ := http.NewRequest("POST", srv.url+"/hserve/v2.4/table/note/record/?expand=", strings.NewReader(`{"text":"hi"}`))
	req.Header.Set("X-Hydrogen-Client-ID", "trig")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 201, resp.StatusCode)
	waitFor(t, srv, "trigger trigger note on_create hi")

	r := newCLI(t).onBinary().run("serve", "--addr", "127.0.0.1:0", "--trigger", "note")
	assert.Equal(t, 2, r.code, r)
	assert.Contains(t, r.stderr, "use TABLE:FUNCTION")
	// What a trigger may name is the emulator's rule: serve refuses what
	// Listen refuses, with its message.
	r = newCLI(t).onBinary().run("serve", "--addr", "127.0.0.1:0", "--trigger", "note:onNote:created")
	assert.NotEqual(t, 0, r.code, r)
	assert.Contains(t, r.stderr, `unknown event "created" (create, update or delete)`)
	r = newCLI(t).onBinary().run("serve", "--addr", "127.0.0.1:0", "--trigger", ":onNote")
	assert.NotEqual(t, 0, r.code, r)
	assert.Contains(t, r.stderr, "the table name is empty")
}

// TestServeSaysANewTableOnce: without a schema, serve says once per table
// that a first write made it (issue 15), however many writes follow.
func TestServeSaysANewTableOnce(t *testing.T) {
	// In-process (not parallel): the command runs with the test's environment.
	srv, c := serveData(t)
	assert.Contains(t, strings.Join(srv.banner, "\n"), "no schema: a table is made by its first write")
	c.stdin = "{\"a\":1}\n{\"a\":2}\n"
	for range 2 {
		r := c.run("data", "import", "fresh", "-")
		require.Equal(t, 0, r.code, r)
	}
	require.NoError(t, srv.stop())
	out := srv.rest.String()
	assert.Equal(t, 1, strings.Count(out, `table "fresh" made by its first write`), out)
}
