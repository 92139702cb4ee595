package main

import (
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The host of an --inspect value is the one Node binds: a port alone
// keeps Node's default, 127.0.0.1 (node --inspect=[host:]port).
func TestInspectHostIsTheOneNodeBinds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		value, host string
		loopback    bool
	}{
		{"127.0.0.1:9229", "127.0.0.1", true},
		{"127.0.0.2:9229", "127.0.0.2", true},
		{"localhost:9229", "localhost", true},
		{"LocalHost:9229", "LocalHost", true},
		{"9229", "", true},
		{":9229", "", true},
		{"[::1]:9229", "::1", true},
		{"[::1]", "::1", true},
		{"0.0.0.0:9229", "0.0.0.0", false},
		{"[::]:9229", "::", false},
		{"192.168.1.20:9229", "192.168.1.20", false},
		{"devbox:9229", "devbox", false},
		{"devbox", "devbox", false},
	} {
		host := inspectHost(tc.value)
		assert.Equal(t, tc.host, host, tc.value)
		assert.Equal(t, tc.loopback, loopbackHost(host), tc.value)
	}
}

// serve --inspect on an address beyond this machine starts, with a
// warning on stderr; on a loopback one, without. (The demo functions are
// Go: no Node process, so nothing listens on the inspector's address.)
func TestServeWarnsOfAnInspectorBeyondLoopback(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	require.NoError(t, ln.Close())

	srv, err := startServe("--client-id", "inspect-open", "--inspect=0.0.0.0:"+port)
	require.NoError(t, err, "a non-loopback address is accepted")
	assert.Contains(t, strings.Join(srv.banner, "\n"), "debugger: Node's inspector listens on 0.0.0.0:"+port)
	require.NoError(t, srv.stop())
	assert.Equal(t, "warning: --inspect 0.0.0.0:"+port+" is not a loopback address: anyone who can reach it can attach a debugger and run any code on this machine as you. "+
		"Use 127.0.0.1:"+port+" unless you mean it, and then only on a network you trust.\n", srv.stderr.String())

	for _, flag := range []string{"--inspect", "--inspect=localhost:" + port} {
		srv, err = startServe("--client-id", "inspect-local", flag)
		require.NoError(t, err, flag)
		require.NoError(t, srv.stop(), flag)
		assert.Empty(t, srv.stderr.String(), flag)
	}
}

// The warning's advice is an address Node accepts: the loopback host with
// the given port, or Node's default address for a host given alone.
func TestInspectWarningAdvisesALoopbackAddress(t *testing.T) {
	t.Parallel()
	for value, advice := range map[string]string{
		"0.0.0.0:9230": "Use 127.0.0.1:9230 unless",
		"[::]:9231":    "Use 127.0.0.1:9231 unless",
		"devbox":       "Use 127.0.0.1:9229 unless",
	} {
		var out strings.Builder
		(&serveFlags{inspect: value}).warnInspect(&out, style{})
		assert.Contains(t, out.String(), advice, value)
	}
}
