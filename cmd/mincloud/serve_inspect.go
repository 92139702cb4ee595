package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mincloud-go/baas/emulator"
)

// serve --inspect: the functions run under Node's inspector. The emulator
// checks the value (emulator.WithInspect) and says where Node listens
// (Server.InspectAddr); serve tells the user where to attach.

func (f *serveFlags) registerInspect(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.Var((*inspectValue)(&f.inspect), "inspect", "run the JavaScript functions in one Node process under Node's inspector at [HOST:]PORT (as node --inspect takes it; --inspect alone: "+
		emulator.DefaultInspectAddr+"), with no deadlines, for a debugger to attach; whoever reaches HOST:PORT can run code, so keep HOST loopback")
	fl.Lookup("inspect").NoOptDefVal = emulator.DefaultInspectAddr
}

// inspectValue is --inspect's value: an empty one is refused, as node
// --inspect= refuses it, rather than turning the inspector off unsaid.
// The rest is the emulator's to check.
type inspectValue string

func (v *inspectValue) String() string { return string(*v) }
func (v *inspectValue) Type() string   { return "string" }

func (v *inspectValue) Set(s string) error {
	if s == "" {
		return errors.New("give [HOST:]PORT, e.g. 127.0.0.1:9229 or 9229, or a HOST alone for port 9229; or leave --inspect out")
	}
	*v = inspectValue(s)
	return nil
}

func (f *serveFlags) inspectOptions() []emulator.Option {
	if f.inspect == "" {
		return nil
	}
	return []emulator.Option{emulator.WithInspect(f.inspect)}
}

// printInspect says where Node's inspector listens (addr, host:port as
// the emulator settled it; "" without --inspect) and how to attach a
// debugger to it.
func printInspect(out io.Writer, addr string) {
	if addr == "" {
		return
	}
	attach := attachAddr(addr)
	_, port, _ := net.SplitHostPort(addr)
	fmt.Fprintf(out, "debugger: Node's inspector listens on %s once a function has run (one Node process; no deadlines)\n", addr)
	fmt.Fprintf(out, "debugger: attach from Chrome at chrome://inspect (Configure... %s), or VS Code with an \"attach\" configuration on port %s (README: Debugging)\n",
		attach, port)
}

// attachAddr is where a debugger on this machine connects to an inspector
// listening on addr: the address itself, but for the unspecified ones
// (0.0.0.0, ::), which say where to listen (everywhere) and are no place
// to connect to: loopback then, of the same family.
func attachAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	ip := net.ParseIP(host)
	switch {
	case ip == nil || !ip.IsUnspecified():
		return addr
	case ip.To4() != nil:
		return net.JoinHostPort("127.0.0.1", port)
	}
	return net.JoinHostPort("::1", port)
}

// warnInspect warns, on stderr, of an inspector that listens beyond this
// machine (addr as in printInspect): whoever reaches it can attach a
// debugger and so run any code in the functions' Node process, as the
// user serve runs as. It is allowed (a debugger on another machine, a
// container's port), never silently.
func warnInspect(stderr io.Writer, st style, addr string) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || loopbackHost(host) {
		return
	}
	fmt.Fprintf(stderr, "%s --inspect %s is not a loopback address: anyone who can reach it can attach a debugger and run any code on this machine as you. "+
		"Use %s unless you mean it, and then only on a network you trust.\n", st.red("warning:"), addr, net.JoinHostPort("127.0.0.1", port))
}

// loopbackHost reports whether host names this machine only: localhost
// or a loopback address (127.0.0.0/8, ::1).
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
