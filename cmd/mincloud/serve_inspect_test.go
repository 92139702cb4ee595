package main

import (
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mincloud-go/baas/emulator"
)

// freeInspectPort is a port nothing listens on at the moment of the call.
func freeInspectPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	require.NoError(t, ln.Close())
	return port
}

func TestLoopbackHost(t *testing.T) {
	t.Parallel()
	for host, loopback := range map[string]bool{
		"127.0.0.1":    true,
		"127.0.0.2":    true,
		"localhost":    true,
		"LocalHost":    true,
		"::1":          true,
		"0.0.0.0":      false,
		"::":           false,
		"192.168.1.20": false,
		"devbox":       false,
	} {
		assert.Equal(t, loopback, loopbackHost(host), host)
	}
}

// 0.0.0.0 and :: say where to listen, not where to connect: a debugger
// on this machine attaches to loopback, of the same family.
func TestAttachAddrIsLoopbackForUnspecifiedHosts(t *testing.T) {
	t.Parallel()
	for addr, attach := range map[string]string{
		"0.0.0.0:9230":      "127.0.0.1:9230",
		"[::]:9231":         "[::1]:9231",
		"127.0.0.1:9229":    "127.0.0.1:9229",
		"localhost:9232":    "localhost:9232",
		"[::1]:9233":        "[::1]:9233",
		"192.168.1.20:9234": "192.168.1.20:9234",
	} {
		assert.Equal(t, attach, attachAddr(addr), addr)
	}
}

// serve --inspect on an address beyond this machine starts, with a
// warning on stderr; its banner tells a debugger here to attach on
// loopback. (The demo functions are Go: no Node process, so nothing
// listens on the inspector's address.)
func TestServeWarnsOfAnInspectorBeyondLoopback(t *testing.T) {
	t.Parallel()
	port := freeInspectPort(t)
	srv, err := startServe("--client-id", "inspect-open", "--inspect=0.0.0.0:"+port)
	require.NoError(t, err, "a non-loopback address is accepted")
	banner := strings.Join(srv.banner, "\n")
	assert.Contains(t, banner, "debugger: Node's inspector listens on 0.0.0.0:"+port+" once a function has run")
	assert.Contains(t, banner, "debugger: attach from Chrome at chrome://inspect (Configure... 127.0.0.1:"+port+
		`), or VS Code with an "attach" configuration on port `+port+" (README: Debugging)")
	require.NoError(t, srv.stop())
	assert.Equal(t, "warning: --inspect 0.0.0.0:"+port+" is not a loopback address: anyone who can reach it can attach a debugger and run any code on this machine as you. "+
		"Use 127.0.0.1:"+port+" unless you mean it, and then only on a network you trust.\n", srv.stderr.String())

	for _, flag := range []string{"--inspect=localhost:" + port, "--inspect=" + port} {
		srv, err = startServe("--client-id", "inspect-local", flag)
		require.NoError(t, err, flag)
		require.NoError(t, srv.stop(), flag)
		assert.Empty(t, srv.stderr.String(), flag)
	}
}

// The banner says where Node listens as Node reads the value: a port
// alone on 127.0.0.1, a host alone on port 9229 (--inspect alone is
// 127.0.0.1:9229, which something else on this machine may hold).
func TestServeInspectBannerSaysWhereNodeListens(t *testing.T) {
	t.Parallel()
	port := freeInspectPort(t)
	for flag, addr := range map[string]string{
		"--inspect=" + port:       "127.0.0.1:" + port,
		"--inspect=[::1]:" + port: "[::1]:" + port,
		"--inspect":               emulator.DefaultInspectAddr,
		"--inspect=localhost":     "localhost:9229",
	} {
		srv, err := startServe("--client-id", "inspect-banner", flag)
		if err != nil && strings.HasSuffix(addr, ":9229") {
			assert.Contains(t, err.Error(), "error: --inspect: the inspector cannot listen on "+addr+": the address is in use", flag)
			continue
		}
		require.NoError(t, err, flag)
		banner := strings.Join(srv.banner, "\n")
		require.NoError(t, srv.stop(), flag)
		assert.Contains(t, banner, "debugger: Node's inspector listens on "+addr+" once a function has run", flag)
		assert.Contains(t, banner, "(Configure... "+addr+`), or VS Code with an "attach" configuration on port `+addr[strings.LastIndexByte(addr, ':')+1:], flag)
	}
}

// What Node's inspector could not listen on is a usage error naming
// --inspect, with the emulator's reason: nothing is served.
func TestServeRefusesAnInspectAddrNodeCannotListenOn(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	c := newCLI(t).onBinary()
	for value, says := range map[string]string{
		busy.Addr().String(): "--inspect: the inspector cannot listen on " + busy.Addr().String() + ": the address is in use (another debugger session, emulator or program listens there); give another port",
		"127.0.0.1:99999":    "--inspect: the inspector's port must be a number from 1024 to 65535, as Node takes it, not 99999",
		"0":                  "--inspect: the inspector's port must be a number from 1024 to 65535, not 0: Node would pick another port each time",
		"nosuchhost.invalid": `--inspect: the inspector cannot listen on nosuchhost.invalid:9229: no host "nosuchhost.invalid" is known here`,
		"":                   `invalid argument "" for "--inspect" flag: give [HOST:]PORT, e.g. 127.0.0.1:9229 or 9229, or a HOST alone for port 9229; or leave --inspect out`,
	} {
		r := c.run("serve", "--addr", "127.0.0.1:0", "--inspect="+value)
		assert.Equal(t, 2, r.code, "%q: %s", value, r)
		assert.True(t, strings.HasPrefix(r.stderr, "error: "+says), "%q: %s", value, r.stderr)
		assert.Contains(t, r.stderr, "Run 'mincloud serve --help' for usage.", value)
		assert.Empty(t, r.stdout, value)
	}
}
