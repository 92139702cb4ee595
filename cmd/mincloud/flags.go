package main

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// The global flags come in groups, and each command says which groups it
// uses: its help lists those and no others, and it refuses the others
// rather than ignore them.
const (
	flagRoot = "root" // --root
	flagJSON = "json" // --json
	flagConn = "conn" // --host, --client-id, --client-secret, --env
)

// flagGroup names the group of each global flag.
var flagGroup = map[string]string{
	"root": flagRoot, "json": flagJSON,
	"host": flagConn, "client-id": flagConn, "client-secret": flagConn, "env": flagConn,
}

const usesAnnotation = "mincloud:uses"

// uses records that cmd uses the global flags of groups.
func uses(cmd *cobra.Command, groups ...string) *cobra.Command {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[usesAnnotation] = strings.Join(groups, ",")
	return cmd
}

// usesGlobal reports whether cmd uses the global flag f. The root lists
// them all: they are its own flags.
func usesGlobal(cmd *cobra.Command, f *pflag.Flag) bool {
	if !cmd.HasParent() {
		return true
	}
	group, global := flagGroup[f.Name]
	if !global {
		return true
	}
	for _, g := range strings.Split(cmd.Annotations[usesAnnotation], ",") {
		if g == group {
			return true
		}
	}
	return false
}

// inherited returns cmd's flag name if it is the root's global one, not a
// flag of cmd's own with the same name (serve's --client-id).
func inherited(cmd *cobra.Command, name string) *pflag.Flag {
	f := cmd.Flags().Lookup(name)
	if f == nil || f != cmd.Root().PersistentFlags().Lookup(name) {
		return nil
	}
	return f
}

// showUsedFlags makes the help of each command list only the global flags
// it uses. The flags are shared by the whole tree, which lives for one
// run, so hiding them for the help being printed is enough.
func showUsedFlags(root *cobra.Command) {
	help := root.HelpFunc()
	root.SetHelpFunc(func(cmd *cobra.Command, args []string) {
		root.PersistentFlags().VisitAll(func(f *pflag.Flag) {
			f.Hidden = !usesGlobal(cmd, f)
		})
		help(cmd, args)
	})
}

// refuseUnusedFlags is a usage error for a global flag given to a command
// that does not use it: a flag silently ignored would leave the user
// believing it took effect.
func refuseUnusedFlags(cmd *cobra.Command, args []string) error {
	var bad string
	cmd.Root().PersistentFlags().VisitAll(func(pf *pflag.Flag) {
		if f := inherited(cmd, pf.Name); bad == "" && f != nil && f.Changed && !usesGlobal(cmd, f) {
			bad = f.Name
		}
	})
	if bad != "" {
		return usageErr(cmd, "--%s does not apply to %s", bad, cmd.CommandPath())
	}
	return nil
}
