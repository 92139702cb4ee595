package main

import (
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mincloud-go/baas/emulator"
)

// serve --inspect: the functions run under Node's inspector.

func (f *serveFlags) registerInspect(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.inspect, "inspect", "", "run the JavaScript functions in one Node process under Node's inspector at HOST:PORT (--inspect alone: "+
		emulator.DefaultInspectAddr+"), with no deadlines, for a debugger to attach; whoever reaches HOST:PORT can run code, so keep HOST loopback")
	fl.Lookup("inspect").NoOptDefVal = emulator.DefaultInspectAddr
}

func (f *serveFlags) inspectOptions() []emulator.Option {
	if f.inspect == "" {
		return nil
	}
	return []emulator.Option{emulator.WithInspect(f.inspect)}
}

// printInspect says how to attach a debugger.
func (f *serveFlags) printInspect(out io.Writer) {
	if f.inspect == "" {
		return
	}
	fmt.Fprintf(out, "debugger: Node's inspector listens on %s once a function has run (one Node process; no deadlines)\n", f.inspect)
	fmt.Fprintf(out, "debugger: attach from Chrome at chrome://inspect (Configure... %s), or VS Code with an \"attach\" configuration on port %s (README: Debugging)\n",
		f.inspect, portOf(f.inspect))
}

// portOf is the port of host:port, or addr itself.
func portOf(addr string) string {
	if _, port, err := net.SplitHostPort(addr); err == nil {
		return port
	}
	return addr
}

// warnInspect warns, on stderr, of an inspector that listens beyond this
// machine: whoever reaches it can attach a debugger and so run any code
// in the functions' Node process, as the user serve runs as. It is
// allowed (a debugger on another machine, a container's port), never
// silently.
func (f *serveFlags) warnInspect(stderr io.Writer, st style) {
	if f.inspect == "" || loopbackHost(inspectHost(f.inspect)) {
		return
	}
	safe := emulator.DefaultInspectAddr // a host alone: Node's default port
	if _, port, err := net.SplitHostPort(f.inspect); err == nil {
		safe = net.JoinHostPort("127.0.0.1", port)
	}
	fmt.Fprintf(stderr, "%s --inspect %s is not a loopback address: anyone who can reach it can attach a debugger and run any code on this machine as you. "+
		"Use %s unless you mean it, and then only on a network you trust.\n", st.red("warning:"), f.inspect, safe)
}

// inspectHost is the host of an --inspect value as Node reads it
// ([host:]port, or a host alone, an IPv6 one in brackets): "" when only
// a port is given, for which Node takes its default, 127.0.0.1.
func inspectHost(v string) string {
	if strings.HasPrefix(v, "[") && strings.HasSuffix(v, "]") {
		return v[1 : len(v)-1]
	}
	i := strings.LastIndexByte(v, ':')
	if i < 0 {
		if strings.Trim(v, "0123456789") == "" {
			return "" // a port alone
		}
		return v
	}
	return strings.TrimSuffix(strings.TrimPrefix(v[:i], "["), "]")
}

// loopbackHost reports whether host names this machine only: Node's
// default (""), localhost, or a loopback address (127.0.0.0/8, ::1).
func loopbackHost(host string) bool {
	if host == "" || strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
