// Command mincloud manages and runs 知晓云 cloud functions: the hosted
// CLI's commands (login, new, deploy, pull, list, delete, invoke, logout)
// plus jobs, logs and a local emulator (serve). Every command works the
// same against the platform and against `mincloud serve`.
//
// Run `mincloud help` or `mincloud help COMMAND` for the details.
//
// Exit codes: 0 success; 1 the call failed (an HError, or a local file
// could not be read or written); 2 a usage error, a client id missing
// included (nothing was sent); 3 the function ran and failed.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/mincloud-go/baas"
)

// Exit codes, as the help and the README document them.
const (
	exitOK         = 0
	exitFailed     = 1 // the call failed: an HError, or local I/O
	exitUsage      = 2 // the command line was wrong
	exitFuncFailed = 3 // the function ran and failed
)

// version is set at build time with -ldflags "-X main.version=v1.2.3";
// otherwise it is the SDK's version, the one its User-Agent sends.
var version = ""

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run runs the command line args on the given streams, as main does, and
// returns the exit code. The first Ctrl-C (or SIGTERM) cancels the
// command; a second one kills it, as the signal's default does.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop()
	}()
	return runContext(ctx, args, stdin, stdout, stderr)
}

// exitError carries a command's failure out with its exit code.
type exitError struct {
	code int
	err  error
	cmd  string // the command path, for the usage hint
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageErr is a usage error of cmd: what was wrong, and exit code 2.
func usageErr(cmd *cobra.Command, format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...), cmd: cmd.CommandPath()}
}

// errFuncFailed says the function ran and failed: the outcome is
// printed already, so nothing more is.
var errFuncFailed = &exitError{code: exitFuncFailed, err: errors.New("the function failed")}

// runContext is run under ctx: the tests stop a serve by cancelling it.
func runContext(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	app := newApp(stdin, stdout, stderr)
	root := app.rootCommand()
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	return app.report(cmd, err)
}

// report prints err on stderr and returns its exit code.
func (a *app) report(cmd *cobra.Command, err error) int {
	var ee *exitError
	var he *baas.HError
	if errors.As(err, &ee) {
		switch ee.code {
		case exitFuncFailed: // the outcome is printed already
		case exitUsage:
			path := ee.cmd
			if path == "" {
				path = cmd.CommandPath()
			}
			fmt.Fprintf(a.stderr, "%s %s\nRun '%s --help' for usage.\n", a.errStyle.red("error:"), ee.err, path)
		default:
			fmt.Fprintf(a.stderr, "%s %s\n", a.errStyle.red("error:"), ee.err)
		}
		return ee.code
	}
	if errors.As(err, &he) {
		fmt.Fprintf(a.stderr, "%s %s\n", a.errStyle.red("error:"), he.Error())
		return exitFailed
	}
	// What is left comes from cobra's own parsing: unknown commands,
	// flags and arguments.
	fmt.Fprintf(a.stderr, "%s %s%s\nRun '%s --help' for usage.\n", a.errStyle.red("error:"), err, suggestion(cmd.Root(), err), cmd.CommandPath())
	return exitUsage
}

// failed marks a local failure (a file that cannot be read or written)
// as exit code 1.
func failed(err error) error { return &exitError{code: exitFailed, err: err} }

// versionString is what --version prints.
func versionString() string {
	if version != "" {
		return version
	}
	return baas.Version
}
