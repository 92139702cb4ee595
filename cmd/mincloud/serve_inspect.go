package main

import (
	"fmt"
	"io"
	"net"

	"github.com/spf13/cobra"

	"github.com/mincloud-go/baas/emulator"
)

// serve --inspect: the functions run under Node's inspector.

func (f *serveFlags) registerInspect(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.inspect, "inspect", "", "run the JavaScript functions in one Node process under Node's inspector at HOST:PORT (--inspect alone: "+
		emulator.DefaultInspectAddr+"), with no deadlines, for a debugger to attach")
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
