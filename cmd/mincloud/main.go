// Command mincloud serves the 知晓云 cloud-function emulator and invokes
// functions from the shell.
//
//	mincloud serve [--addr 127.0.0.1:8080] [--client-id ID]
//	mincloud invoke NAME [JSON] [--async] [--host URL] [--client-id ID] [--env ID]
//
// serve runs the emulator with the demo functions (helloWorld, echo, slow,
// fail, chain), prints its URL and client id, writes the functions' logs,
// and stops cleanly on Ctrl-C.
//
// invoke calls a function and prints the result JSON. It exits 1 with the
// HError text when the call fails, and 2 when the function itself failed
// (a non-zero code). --host and --client-id default to MINCLOUD_HOST and
// MINCLOUD_CLIENT_ID.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/mincloud-go/baas"
	"github.com/mincloud-go/baas/emulator"
	"github.com/mincloud-go/baas/emulator/demo"
)

const usage = `usage:
  mincloud serve [--addr 127.0.0.1:8080] [--client-id ID]
  mincloud invoke NAME [JSON] [--async] [--host URL] [--client-id ID] [--env ID]
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run is the command, apart from the process, for tests.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stdout, stderr)
	case "invoke":
		return invoke(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "mincloud: unknown command %q\n%s", args[0], usage)
	return 2
}

// parse parses flags wherever they stand among the positional arguments.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	clientID := fs.String("client-id", "", "the app's client id (random when empty)")
	pos, err := parse(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "mincloud serve: unexpected argument %q\n", pos[0])
		return 2
	}
	srv, err := emulator.Listen(*addr, emulator.WithClientID(*clientID), emulator.WithLogOutput(stdout))
	if err != nil {
		fmt.Fprintln(stderr, "mincloud serve:", err)
		return 1
	}
	demo.Register(srv)
	fmt.Fprintf(stdout, "MinCloud emulator listening on %s\nclient id: %s\nfunctions: %s\n", srv.URL, srv.ClientID, strings.Join(srv.Functions(), ", "))
	fmt.Fprintf(stdout, "try: MINCLOUD_HOST=%s MINCLOUD_CLIENT_ID=%s mincloud invoke helloWorld '{\"name\":\"allen\"}'\n", srv.URL, srv.ClientID)
	<-ctx.Done()
	srv.Close()
	fmt.Fprintln(stdout, "stopped")
	return 0
}

func invoke(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("invoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	async := fs.Bool("async", false, "queue the job and return at once")
	host := fs.String("host", os.Getenv(baas.EnvHost), "API host (MINCLOUD_HOST)")
	clientID := fs.String("client-id", os.Getenv(baas.EnvClientID), "the app's client id (MINCLOUD_CLIENT_ID)")
	env := fs.String("env", os.Getenv(baas.EnvEnvID), "test environment id (MINCLOUD_ENV_ID)")
	pos, err := parse(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) < 1 || len(pos) > 2 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var params any
	if len(pos) == 2 {
		if !json.Valid([]byte(pos[1])) {
			fmt.Fprintf(stderr, "mincloud invoke: params are not valid JSON: %s\n", pos[1])
			return 2
		}
		params = json.RawMessage(pos[1])
	}
	c, err := baas.New(baas.WithClientID(*clientID), baas.WithHost(strings.TrimSpace(*host)), baas.WithEnv(*env),
		baas.WithAuthToken(os.Getenv(baas.EnvAuthToken)))
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	res, err := c.Invoke(ctx, pos[0], params, !*async)
	var he *baas.HError
	if errors.As(err, &he) {
		fmt.Fprintln(stderr, he.Error())
		return 1
	} else if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintln(stdout, res.String())
	if res.Code != 0 {
		return 2
	}
	return 0
}
