package emulator_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mincloud-go/baas/emulator"
	"github.com/mincloud-go/baas/emulator/bundle"
	"github.com/mincloud-go/baas/internal/nodetest"
)

// tsProject writes a functions folder with a TypeScript function that
// imports a relative file and an npm package installed one folder above,
// as npm leaves a project; it returns the functions folder.
func tsProject(t *testing.T) string {
	t.Helper()
	base := t.TempDir()
	write(t, filepath.Join(base, "node_modules", "pad", "package.json"), `{"name":"pad","main":"lib/pad.js"}`)
	write(t, filepath.Join(base, "node_modules", "pad", "lib", "pad.js"), "module.exports = (s, n) => String(s).padStart(n, '*')\n")
	dir := filepath.Join(base, "functions")
	write(t, filepath.Join(dir, "greet", "index.ts"), `import pad from 'pad'
import { twice } from './twice'

interface Event { data: { n: number } }

export async function main(event: Event): Promise<string> {
  return pad(twice(event.data.n), 5)
}
`)
	write(t, filepath.Join(dir, "greet", "twice.ts"), "export const twice = (n: number): number => n * 2\n")
	// boom.ts throws on line 7, and logs a stack on line 5.
	write(t, filepath.Join(dir, "boom.ts"), `type Ev = { data: { why: string } }

export const main = async (event: Ev) => {
  const e = new Error('logged')
  console.error(e.stack)
  const why: string = event.data.why
  throw new TypeError('boom: ' + why)
}
`)
	// self answers the hash of the file it runs as.
	write(t, filepath.Join(dir, "self.ts"), `import { createHash } from 'crypto'
import { readFileSync } from 'fs'
export const main = async () => createHash('sha256').update(readFileSync(__filename)).digest('hex')
`)
	return dir
}

func TestJSDirBundlesTypeScriptAndPackages(t *testing.T) {
	t.Parallel()
	nodetest.Need(t)
	dir := tsProject(t)
	srv, c := setup(t)
	names, err := srv.LoadDir(dir)
	require.NoError(t, err)
	assert.Equal(t, []string{"boom", "greet", "self"}, names)
	assert.Equal(t, `{"code":0,"data":"***42","error":{}}`, call(t, c, "greet", map[string]int{"n": 21}))

	// What runs is byte for byte the bundle deploy uploads.
	b, err := bundle.Build(dir, "self", filepath.Join(dir, "self.ts"))
	require.NoError(t, err)
	sum := sha256.Sum256(b.Code)
	assert.Equal(t, `{"code":0,"data":"`+hex.EncodeToString(sum[:])+`","error":{}}`, call(t, c, "self", nil))
}

func TestJSBundledStacksNameTheOriginalFileAndLine(t *testing.T) {
	t.Parallel()
	nodetest.Need(t)
	dir := tsProject(t)
	srv, c := setup(t)
	_, err := srv.LoadDir(dir)
	require.NoError(t, err)
	res, err := c.Invoke(context.Background(), "boom", map[string]string{"why": "because"}, true)
	require.NoError(t, err)
	require.Equal(t, 1, res.Code)
	assert.Equal(t, "TypeError", res.Error.Type)
	assert.Equal(t, "boom: because", res.Error.Message)
	boom := filepath.Join(dir, "boom.ts")
	assert.True(t, strings.HasPrefix(res.Error.Stack, "TypeError: boom: because\n    at "), res.Error.Stack)
	assert.Contains(t, res.Error.Stack, boom+":7:9", "the answer's stack names boom.ts line 7")
	assert.NotContains(t, res.Error.Stack, "mincloud-node-", "no frame in the bundle as it runs")

	j := lastJob(t, srv, "boom")
	assert.Equal(t, emulator.StatusExecutionFailed, j.Status)
	assert.Contains(t, strings.Join(j.Log, "\n"), boom+":4:13", "a stack the function logs names boom.ts too")
}

func TestJSBundleFailuresAnswerEsbuildsMessage(t *testing.T) {
	t.Parallel()
	nodetest.Need(t)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "needsPkg.ts"), "import x from 'not-installed'\nexport const main = async () => x\n")
	write(t, filepath.Join(dir, "fine.js"), "exports.main = async () => 'fine'\n")
	srv, c := setup(t)
	names, err := srv.LoadDir(dir)
	require.Error(t, err, "the function that cannot be bundled is reported where the folder is loaded")
	assert.Contains(t, err.Error(), `function needsPkg does not load: needsPkg.ts:1:15: Could not resolve "not-installed"`)
	assert.NotContains(t, err.Error(), "fine")
	var le *emulator.LoadError
	require.ErrorAs(t, err, &le, "a caller can tell which function does not load")
	assert.Equal(t, "needsPkg", le.Function)
	assert.True(t, strings.HasPrefix(le.Problem, `needsPkg.ts:1:15: Could not resolve "not-installed"`), le.Problem)
	assert.Equal(t, []string{"fine", "needsPkg"}, names, "one function that cannot be bundled does not stop the others")
	res, err := c.Invoke(context.Background(), "needsPkg", nil, true)
	require.NoError(t, err)
	assert.Equal(t, 1, res.Code)
	assert.Equal(t, `function needsPkg cannot be bundled: needsPkg.ts:1:15: Could not resolve "not-installed": `+
		`install it where Node finds it from the function's folder (npm install in that folder or a folder above)`, res.Error.Message)
	assert.Equal(t, `{"code":0,"data":"fine","error":{}}`, call(t, c, "fine", nil))
}

// watch runs WatchDir on dir and returns a function that waits for the
// report want and returns the reports before it.
func watch(t *testing.T, srv *emulator.Server, dir string) func(want string) []string {
	reports := make(chan string, 64)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.WatchDir(ctx, dir, func(msg string) { reports <- msg }) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	return func(want string) []string {
		t.Helper()
		var before []string
		for {
			select {
			case got := <-reports:
				if got == want {
					return before
				}
				before = append(before, got)
			case <-time.After(20 * time.Second):
				t.Fatalf("no report %q; got %q", want, before)
			}
		}
	}
}

func TestJSWatchDirReloadsOnlyTheFunctionsAChangeConcerns(t *testing.T) {
	t.Parallel()
	nodetest.Need(t)
	dir := t.TempDir()
	counter := "let n = 0\nexports.main = async () => ++n\n"
	write(t, filepath.Join(dir, "counter.js"), counter)
	write(t, filepath.Join(dir, "other.js"), "exports.main = async () => 'v1'\n")
	write(t, filepath.Join(dir, "lib", "shared.js"), "module.exports = 'one'\n")
	write(t, filepath.Join(dir, "a.js"), "let n = 0\nconst s = require('./lib/shared')\nexports.main = async () => s + ' ' + (++n)\n")
	write(t, filepath.Join(dir, "b", "index.ts"), "let n = 0\nimport s = require('../lib/shared')\nexport const main = async () => s + ' ' + (++n)\n")
	// Each function has workers of its own (a platform container each):
	// a reload of one retires its workers only, and the others keep their
	// module state.
	srv, c := setup(t)
	wait := watch(t, srv, dir)
	require.Eventually(t, func() bool { return len(srv.Functions()) == 4 }, 10*time.Second, 10*time.Millisecond)
	for i := 1; i <= 2; i++ {
		assert.Equal(t, `{"code":0,"data":`+string(rune('0'+i))+`,"error":{}}`, call(t, c, "counter", nil))
	}
	assert.Equal(t, `{"code":0,"data":"one 1","error":{}}`, call(t, c, "a", nil))
	assert.Equal(t, `{"code":0,"data":"one 1","error":{}}`, call(t, c, "b", nil))

	// Saving other.js reloads it alone: counter keeps its count.
	write(t, filepath.Join(dir, "other.js"), "exports.main = async () => 'v2'\n")
	assert.Empty(t, wait("reloaded other"))
	assert.Equal(t, `{"code":0,"data":"v2","error":{}}`, call(t, c, "other", nil))
	assert.Equal(t, `{"code":0,"data":3,"error":{}}`, call(t, c, "counter", nil))

	// Editor files reload nothing; other.js, saved after them, shows the
	// watcher has seen them.
	for _, f := range []string{"counter.js~", ".#counter.js", ".counter.js.swp", "counter.js.swp", "counter.tmp", ".hidden.js", "lib/shared.js~"} {
		write(t, filepath.Join(dir, f), "garbage((")
	}
	write(t, filepath.Join(dir, "other.js"), "exports.main = async () => 'v3'\n")
	assert.Empty(t, wait("reloaded other"), "editor files load and reload nothing")
	assert.Equal(t, `{"code":0,"data":4,"error":{}}`, call(t, c, "counter", nil))

	// A shared file reloads the functions whose bundle took it in, and no
	// other.
	write(t, filepath.Join(dir, "lib", "shared.js"), "module.exports = 'two'\n")
	before := wait("reloaded b")
	assert.Equal(t, []string{"reloaded a"}, before)
	write(t, filepath.Join(dir, "other.js"), "exports.main = async () => 'v4'\n")
	assert.Empty(t, wait("reloaded other"))
	assert.Equal(t, `{"code":0,"data":"two 1","error":{}}`, call(t, c, "a", nil))
	assert.Equal(t, `{"code":0,"data":"two 1","error":{}}`, call(t, c, "b", nil))
	assert.Equal(t, `{"code":0,"data":5,"error":{}}`, call(t, c, "counter", nil))

	// Saving a file unchanged reloads nothing either.
	write(t, filepath.Join(dir, "counter.js"), counter)
	write(t, filepath.Join(dir, "other.js"), "exports.main = async () => 'v5'\n")
	assert.Empty(t, wait("reloaded other"))
	assert.Equal(t, `{"code":0,"data":6,"error":{}}`, call(t, c, "counter", nil))

	// A package installed later: the function that lacked it loads.
	write(t, filepath.Join(dir, "usesPkg.js"), "const p = require('late')\nexports.main = async () => p\n")
	wait(`usesPkg does not load: usesPkg.js:1:19: Could not resolve "late": install it where Node finds it from the function's folder (npm install in that folder or a folder above)`)
	write(t, filepath.Join(dir, "other.js"), "exports.main = async () => 'v6'\n")
	assert.Empty(t, wait("reloaded other"), "a function failing as before is not reported again")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "node_modules"), 0o755))
	write(t, filepath.Join(dir, "node_modules", "late", "index.js"), "module.exports = 'installed'\n")
	wait("reloaded usesPkg")
	assert.Equal(t, `{"code":0,"data":"installed","error":{}}`, call(t, c, "usesPkg", nil))
}

func TestJSInspectListsTheTargetAndLiftsDeadlines(t *testing.T) {
	t.Parallel()
	nodetest.Need(t)
	addr := "127.0.0.1:" + strconv.Itoa(freePort(t)) // for the inspector

	dir := t.TempDir()
	write(t, filepath.Join(dir, "slow.ts"), "export const main = async (): Promise<string> => { await new Promise(r => setTimeout(r, 300)); return 'woke' }\n")
	srv, c := setup(t, emulator.WithInspect(addr), emulator.WithSyncTimeout(50*time.Millisecond))
	_, err := srv.LoadDir(dir)
	require.NoError(t, err)
	assert.Equal(t, `{"code":0,"data":"woke","error":{}}`, call(t, c, "slow", nil), "no deadline while inspecting")

	resp, err := http.Get("http://" + addr + "/json/list")
	require.NoError(t, err)
	defer resp.Body.Close()
	var targets []struct {
		Type                 string `json:"type"`
		WebSocketDebuggerURL string `json:"webSocketDebuggerUrl"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&targets))
	require.Len(t, targets, 1, "one worker, one target")
	assert.Equal(t, "node", targets[0].Type)
	assert.True(t, strings.HasPrefix(targets[0].WebSocketDebuggerURL, "ws://"+addr+"/"), targets[0].WebSocketDebuggerURL)
}
