package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mincloud-go/baas/internal/nodetest"
)

// serve's own output says that a job failed, after the job's log lines:
// one line with the status, the error's type and the first line of its
// message, no stack. A job that succeeded gets no such line.
func TestServeSaysWhichJobsFailed(t *testing.T) {
	t.Parallel()
	nodetest.Need(t)
	dir := t.TempDir()
	for name, src := range map[string]string{
		"throws": "exports.main = async () => { console.log('about to throw'); throw new TypeError('bad input\\nsecond line') }",
		"quits":  "exports.main = async () => { console.log('exiting'); process.exit(3) }",
		"timer":  "exports.main = (event, callback) => { setTimeout(() => { throw new RangeError('from a timer') }, 10) }",
		"hangs":  "exports.main = () => new Promise(() => {})",
		"fine":   "exports.main = async () => { console.log('all good'); return 1 }",
	} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name+".js"), []byte(src), 0o644))
	}
	srv, err := startServe("--client-id", "serve-failures", "--functions", dir, "--sync-timeout", "1s")
	require.NoError(t, err)
	defer srv.stop()
	c := newCLI(t).onBinary()
	c.env = []string{"MINCLOUD_HOST=" + srv.url, "MINCLOUD_CLIENT_ID=serve-failures"}
	for _, name := range []string{"throws", "quits", "timer", "hangs"} {
		r := c.run("invoke", name)
		assert.Equal(t, 3, r.code, "%s: %s", name, r)
	}
	r := c.run("invoke", "fine")
	require.Equal(t, 0, r.code, r)
	waitFor(t, srv, "INFO all good")
	require.NoError(t, srv.stop())
	out := srv.rest.String()
	for _, want := range []string{
		`(?s)\[throws #(\d+)\] \S+ INFO about to throw\n.*\[throws #\d+\] execution_failed: TypeError: bad input\n`,
		`(?s)\[quits #\d+\] \S+ INFO exiting\n.*\[quits #\d+\] execution_failed: Error: the function called process.exit\(3\)\n`,
		`\[timer #\d+\] execution_failed: RangeError: uncaught exception: from a timer\n`,
		`\[hangs #\d+\] deadline_exceeded: TimeoutError: function timed out after 1000 ms\n`,
	} {
		assert.Regexp(t, want, out)
	}
	assert.NotContains(t, out, "second line", "the message's first line only")
	assert.NotContains(t, out, " at ", "no stack: mincloud logs prints it")
	assert.NotRegexp(t, `\[fine #\d+\] [a-z_]+:`, out, "a job that succeeded gets no line")
}
