package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mincloud-go/baas/internal/nodetest"
)

// serveInProcess runs `mincloud serve args...` through runContext and
// waits for its banner. stop cancels it, as Ctrl-C does, and returns its
// exit code.
func serveInProcess(t *testing.T, args ...string) (url string, out *lockedBuffer, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out = &lockedBuffer{}
	errOut := &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- runContext(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), strings.NewReader(""), out, errOut)
	}()
	stopped := false
	stop = func() int {
		if stopped {
			return 0
		}
		stopped = true
		cancel()
		select {
		case code := <-done:
			return code
		case <-time.After(time.Minute):
			t.Fatal("serve did not stop")
			return -1
		}
	}
	t.Cleanup(func() { stop() })
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "\ntry: ") || len(done) > 0 },
		time.Minute, 10*time.Millisecond)
	m := regexp.MustCompile(`(?m)^MinCloud emulator listening on (\S+)$`).FindStringSubmatch(out.String())
	require.NotNil(t, m, "no URL in %q; stderr %q", out.String(), errOut.String())
	return m[1], out, stop
}

// The banner's hint is a command that runs as printed: what needs quoting
// is quoted.
func TestServeHintQuotesWhatNeedsQuoting(t *testing.T) {
	nodetest.Need(t)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "has space.js"), []byte(`exports.main = async (event) => 'spaced'`), 0o644))
	url, out, stop := serveInProcess(t, "--functions", dir, "--client-id", "my app")
	assert.Contains(t, out.String(), "functions: has space\n")
	assert.Contains(t, out.String(), "try: mincloud --host "+url+" --client-id 'my app' invoke 'has space' '{}'\n")

	// The hint runs as printed.
	c := newCLI(t)
	r := c.run("--host", url, "--client-id", "my app", "invoke", "has space", "{}")
	require.Equal(t, 0, r.code, r)
	assert.Equal(t, "success\nresult:\n  \"spaced\"\n", r.stdout)
	assert.Equal(t, 0, stop())
	assert.True(t, strings.HasSuffix(out.String(), "stopped\n"), out.String())
}

// --root names serve's functions folder, as it does deploy's; an empty
// folder's banner says how to add a function instead of calling one that
// does not exist.
func TestServeRootIsTheFunctionsFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "my functions")
	require.NoError(t, os.Mkdir(dir, 0o755))
	_, out, stop := serveInProcess(t, "--root", dir)
	banner := out.String()
	assert.Contains(t, banner, "functions: none yet\n")
	assert.Contains(t, banner, "try: add a function: mincloud new NAME --root '"+dir+"' (it is served as soon as it is saved)\n")
	assert.NotRegexp(t, `(?m)^try: .*invoke`, banner, "no call of a function that is not there")
	assert.NotContains(t, banner, "helloWorld", "not the demo functions")
	assert.Equal(t, 0, stop())
}

// new's hint names the root it wrote to, quoted.
func TestNewHintKeepsTheRoot(t *testing.T) {
	c := newCLI(t)
	root := filepath.Join(c.root, "a root")
	r := c.run("new", "fresh", "--root", root)
	require.Equal(t, 0, r.code, r)
	assert.Equal(t, "created "+filepath.Join(root, "fresh", "index.js")+"\nnext: mincloud deploy fresh --root '"+root+"'\n", r.stdout)
}
