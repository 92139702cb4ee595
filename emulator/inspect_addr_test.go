package emulator_test

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mincloud-go/baas/emulator"
	"github.com/mincloud-go/baas/internal/nodetest"
)

// freePort is a port nothing listens on at the moment of the call.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	return port
}

// inspectRefusal is the reason Listen gives for WithInspect(v), failing
// the test if it starts or refuses another option.
func inspectRefusal(t *testing.T, v string) string {
	t.Helper()
	srv, err := emulator.Listen("127.0.0.1:0", emulator.WithInspect(v))
	if !assert.Error(t, err, "WithInspect(%q) is refused", v) {
		srv.Close()
		return ""
	}
	var oe *emulator.OptionError
	require.ErrorAs(t, err, &oe, v)
	assert.Equal(t, "WithInspect", oe.Option, v)
	assert.PanicsWithValue(t, "emulator: "+err.Error(), func() { emulator.New(emulator.WithInspect(v)) }, v)
	return oe.Reason
}

// An address in use is refused at start: Node would only print on its
// stderr that its inspector did not start, and run on without it.
func TestInspectAddrInUseIsRefused(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	addr := ln.Addr().String()
	_, port, _ := net.SplitHostPort(addr)

	want := "the inspector cannot listen on " + addr + ": the address is in use (another debugger session, emulator or program listens there); give another port"
	assert.Equal(t, want, inspectRefusal(t, addr))
	assert.Equal(t, want, inspectRefusal(t, port), "a port alone is on 127.0.0.1, as Node binds it")
}

// What node --inspect= refuses (it exits with code 9: every call then
// failed "node did not start"), or takes for a port it picks itself, is
// refused at start, saying what form is expected.
func TestInspectAddrFormsNodeRefusesAreRefused(t *testing.T) {
	t.Parallel()
	const form = "give [HOST:]PORT, e.g. 127.0.0.1:9229 or 9229, or a HOST alone for port 9229"
	for v, want := range map[string]string{
		"127.0.0.1:99999":  "the inspector's port must be a number from 1024 to 65535, as Node takes it, not 99999",
		"65536":            "the inspector's port must be a number from 1024 to 65535, as Node takes it, not 65536",
		"127.0.0.1:80":     "the inspector's port must be a number from 1024 to 65535, as Node takes it, not 80",
		"127.0.0.1:0":      "the inspector's port must be a number from 1024 to 65535, not 0: Node would pick another port each time it starts the functions' process, and no debugger could be told where to attach; give a free port, e.g. 9229",
		"0":                "not 0: Node would pick another port",
		"127.0.0.1:":       `the inspector's address "127.0.0.1:" has no port after its colon: ` + form,
		"127.0.0.1:port":   `the inspector's port must be a number from 1024 to 65535, not "port": ` + form,
		"::1":              `the inspector's address "::1" has more than one colon: an IPv6 host goes in brackets, e.g. [::1]:9229; ` + form,
		"[::1":             `the inspector's address "[::1" has no closing ]: ` + form,
		"[::1]9229":        `the inspector's address "[::1]9229" has "9229" after its host: ` + form,
		"[127.0.0.1]:9229": `the inspector's address "[127.0.0.1]:9229" holds "127.0.0.1" in brackets, which is not an IPv6 address: ` + form,
	} {
		assert.Contains(t, inspectRefusal(t, v), want, v)
	}
}

// A host Node cannot listen on is refused at start: one not known (Node
// prints `Unable to resolve "foo"` and runs on) or not this machine's.
func TestInspectAddrOfAnotherMachineIsRefused(t *testing.T) {
	t.Parallel()
	port := strconv.Itoa(freePort(t))
	assert.Contains(t, inspectRefusal(t, "nosuchhost.invalid"),
		`the inspector cannot listen on nosuchhost.invalid:9229: no host "nosuchhost.invalid" is known here`, "a host alone, as Node reads it")
	assert.Contains(t, inspectRefusal(t, "nosuchhost.invalid:"+port),
		`; give [HOST:]PORT, e.g. 127.0.0.1:9229 or 9229, or a HOST alone for port 9229, with a host of this machine`)
	// 192.0.2.1 is TEST-NET-1 (RFC 5737): no machine's own.
	assert.Equal(t, "the inspector cannot listen on 192.0.2.1:"+port+": 192.0.2.1 is not an address of this machine; "+
		"give [HOST:]PORT, e.g. 127.0.0.1:9229 or 9229, or a HOST alone for port 9229, with a host of this machine",
		inspectRefusal(t, "192.0.2.1:"+port))
}

// What Node accepts is accepted, and InspectAddr says where Node listens:
// a port alone is on 127.0.0.1, a host alone on port 9229.
func TestInspectAddrIsWhereNodeListens(t *testing.T) {
	t.Parallel()
	port := strconv.Itoa(freePort(t))
	for v, want := range map[string]string{
		port:                        "127.0.0.1:" + port,
		":" + port:                  "127.0.0.1:" + port,
		"0" + port:                  "127.0.0.1:" + port,
		"localhost:" + port:         "localhost:" + port,
		"127.0.0.1:" + port:         "127.0.0.1:" + port,
		"[::1]:" + port:             "[::1]:" + port,
		"localhost":                 "localhost:9229",
		"127.0.0.1":                 "127.0.0.1:9229",
		emulator.DefaultInspectAddr: emulator.DefaultInspectAddr,
	} {
		srv, err := emulator.Listen("127.0.0.1:0", emulator.WithInspect(v))
		var oe *emulator.OptionError
		if want == emulator.DefaultInspectAddr || want == "localhost:9229" || want == "127.0.0.1:9229" {
			// Port 9229 may be taken on this machine: the refusal then
			// still shows how the value was read.
			if errors.As(err, &oe) {
				assert.Contains(t, oe.Reason, "the inspector cannot listen on "+want+": the address is in use", v)
				continue
			}
		}
		require.NoError(t, err, v)
		assert.Equal(t, want, srv.InspectAddr(), v)
		srv.Close()
	}
	srv := emulator.New()
	defer srv.Close()
	assert.Empty(t, srv.InspectAddr(), "no inspector without WithInspect")
}

// Node reads the value as the emulator does: given a port alone, its
// inspector is at InspectAddr, on 127.0.0.1.
func TestJSInspectPortAloneListensWhereInspectAddrSays(t *testing.T) {
	t.Parallel()
	nodetest.Need(t)
	port := strconv.Itoa(freePort(t))
	srv, c := setup(t, emulator.WithInspect(port))
	require.Equal(t, "127.0.0.1:"+port, srv.InspectAddr())
	require.NoError(t, srv.RegisterJS("one", "exports.main = async () => 1\n"))
	assert.Equal(t, `{"code":0,"data":1,"error":{}}`, call(t, c, "one", nil))

	resp, err := http.Get("http://" + srv.InspectAddr() + "/json/list")
	require.NoError(t, err)
	defer resp.Body.Close()
	var targets []struct {
		Type string `json:"type"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&targets))
	require.Len(t, targets, 1)
	assert.Equal(t, "node", targets[0].Type)
}
