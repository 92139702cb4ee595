package main

import (
	"io"

	"github.com/spf13/cobra"
)

// app is one run of the command: its streams, how they print, and the
// global flags.
type app struct {
	stdin           io.Reader
	stdout, stderr  io.Writer
	outStyle        style // colour on stdout
	errStyle        style // colour on stderr
	spinnerOK       bool  // stderr is a terminal: a spinner may show
	root            string
	json            bool
	conn            connFlags
	stdinIsTerminal bool
}

func newApp(stdin io.Reader, stdout, stderr io.Writer) *app {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	a.stdinIsTerminal = isTerminal(stdin)
	errTTY := isTerminal(stderr)
	a.outStyle = style{on: isTerminal(stdout) && colourAllowed()}
	a.errStyle = style{on: errTTY && colourAllowed()}
	a.spinnerOK = errTTY && !dumbTerminal()
	return a
}

const rootLong = `mincloud manages and runs 知晓云 (MinCloud) cloud functions.

It has the hosted CLI's commands (login, new, deploy, pull, list, delete,
invoke, logout), plus jobs, logs and serve, a local emulator of the
platform. Every command works the same against the platform and against
'mincloud serve'.

Which app to call comes from, first to last: the flags --host, --client-id,
--client-secret and --env; the variables MINCLOUD_HOST, MINCLOUD_CLIENT_ID,
MINCLOUD_CLIENT_SECRET and MINCLOUD_ENV_ID; the file 'mincloud login' wrote.
The file speaks for the one app it was saved for: its client id applies
only on its host, and its secret and environment only with its host and
its client id, so that a command aimed at another app never carries them.

Exit codes:
  0  success
  1  the call failed (an HError, printed as "<code>: <message>"), or a
     local file could not be read or written
  2  a usage error: the command line was wrong, or no client id was
     given (602; nothing was sent)
  3  the function ran and failed (invoke)`

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "mincloud",
		Short:         "Manage and run 知晓云 cloud functions",
		Long:          rootLong,
		Version:       versionString(),
		SilenceErrors: true,
		SilenceUsage:  true,
		// report suggests only close matches (suggest.go).
		DisableSuggestions: true,
		PersistentPreRunE:  refuseUnusedFlags,
	}
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErr(c, "%v", err)
	})
	// The global flags may stand anywhere on the line; each command's
	// help lists those it uses (flags.go), and the others are refused.
	pf := root.PersistentFlags()
	pf.StringVar(&a.root, "root", ".", "the functions' directory: NAME.js, NAME.ts, NAME/index.js or NAME/index.ts per function")
	pf.BoolVarP(&a.json, "json", "j", false, "print JSON for scripts, and nothing else, on stdout")
	a.conn.register(root)
	showUsedFlags(root)

	root.AddCommand(
		uses(a.loginCommand(), flagJSON, flagConn),
		uses(a.logoutCommand(), flagJSON),
		uses(a.newCommand(), flagRoot, flagJSON),
		uses(a.deployCommand(), flagRoot, flagJSON, flagConn),
		uses(a.pullCommand(), flagRoot, flagJSON, flagConn),
		uses(a.listCommand(), flagJSON, flagConn),
		uses(a.deleteCommand(), flagJSON, flagConn),
		uses(a.invokeCommand(), flagJSON, flagConn),
		uses(a.jobsCommand(), flagJSON, flagConn),
		uses(a.logsCommand(), flagJSON, flagConn),
		uses(a.serveCommand(), flagRoot),
		uses(a.buildCommand(), flagRoot, flagJSON),
		a.dataCommand(), // data.go: its subcommands say which flags they use
		uses(a.schemaImportCommand(), flagConn),
	)
	return root
}

// exactArgs checks the positional arguments, naming the missing one
// (what is "NAME is required" beats cobra's "accepts 1 arg(s)").
func exactArgs(names ...string) cobra.PositionalArgs {
	return rangeArgs(len(names), names...)
}

// rangeArgs requires the first min of names and allows the rest.
func rangeArgs(min int, names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < min {
			return usageErr(cmd, "%s is required", names[len(args)])
		}
		if len(args) > len(names) {
			return usageErr(cmd, "unexpected argument %q", args[len(names)])
		}
		for i, s := range args {
			if s == "" {
				return usageErr(cmd, "%s must not be empty", names[i])
			}
		}
		return nil
	}
}
