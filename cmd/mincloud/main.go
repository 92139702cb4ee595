// Command mincloud serves the 知晓云 cloud-function emulator and invokes
// functions from the shell.
//
//	mincloud serve [--addr 127.0.0.1:8080] [--client-id ID] [--client-secret S]
//	mincloud invoke NAME [JSON] [--async] [--host URL] [--client-id ID] [--client-secret S] [--env ID]
//	mincloud jobs NAME [--status S] [--source S] [--service-type T] [--limit N] [--host URL] [--client-id ID] [--client-secret S]
//
// serve runs the emulator with the demo functions (helloWorld, echo, slow,
// fail, chain), prints its URL and client id, writes the functions' logs,
// and stops cleanly on Ctrl-C.
//
// invoke calls a function and prints the result JSON. It exits 1 with the
// HError text when the call fails, and 2 when the function itself failed
// (a non-zero code). With a client secret it goes through the Open API's
// debug endpoint and, after the result, prints what the hosted CLI prints:
// the job id, the run time, the billed time, the memory used and the log.
//
// jobs lists a function's job history, newest first (Open API).
//
// --host, --client-id, --client-secret and --env default to MINCLOUD_HOST,
// MINCLOUD_CLIENT_ID, MINCLOUD_CLIENT_SECRET and MINCLOUD_ENV_ID.
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
	"github.com/mincloud-go/baas/internal/hooks"
	"github.com/mincloud-go/baas/manage"
)

const usage = `usage:
  mincloud serve [--addr 127.0.0.1:8080] [--client-id ID] [--client-secret S]
  mincloud invoke NAME [JSON] [--async] [--host URL] [--client-id ID] [--client-secret S] [--env ID]
  mincloud jobs NAME [--status S] [--source S] [--service-type T] [--limit N] [--host URL] [--client-id ID] [--client-secret S]
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
	case "jobs":
		return jobs(ctx, args[1:], stdout, stderr)
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
	secret := fs.String("client-secret", "", "the app's Open API secret (random when empty)")
	pos, err := parse(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "mincloud serve: unexpected argument %q\n", pos[0])
		return 2
	}
	srv, err := emulator.Listen(*addr, emulator.WithClientID(*clientID), emulator.WithClientSecret(*secret), emulator.WithLogOutput(stdout))
	if err != nil {
		fmt.Fprintln(stderr, "mincloud serve:", err)
		return 1
	}
	demo.Register(srv)
	fmt.Fprintf(stdout, "MinCloud emulator listening on %s\nclient id: %s\nclient secret: %s\nfunctions: %s\n",
		srv.URL, srv.ClientID, srv.ClientSecret, strings.Join(srv.Functions(), ", "))
	fmt.Fprintf(stdout, "try: MINCLOUD_HOST=%s MINCLOUD_CLIENT_ID=%s mincloud invoke helloWorld '{\"name\":\"allen\"}'\n", srv.URL, srv.ClientID)
	<-ctx.Done()
	srv.Close()
	fmt.Fprintln(stdout, "stopped")
	return 0
}

// connection holds the flags that say which app to call.
type connection struct {
	host, clientID, secret, env *string
}

func connectionFlags(fs *flag.FlagSet) connection {
	return connection{
		host:     fs.String("host", os.Getenv(baas.EnvHost), "API host (MINCLOUD_HOST)"),
		clientID: fs.String("client-id", os.Getenv(baas.EnvClientID), "the app's client id (MINCLOUD_CLIENT_ID)"),
		secret:   fs.String("client-secret", os.Getenv(baas.EnvClientSecret), "the app's Open API secret (MINCLOUD_CLIENT_SECRET)"),
		env:      fs.String("env", os.Getenv(baas.EnvEnvID), "test environment id (MINCLOUD_ENV_ID)"),
	}
}

func (cn connection) client() (*baas.Client, error) {
	return baas.New(baas.WithClientID(*cn.clientID), baas.WithHost(strings.TrimSpace(*cn.host)), baas.WithEnv(*cn.env),
		baas.WithClientSecret(*cn.secret), baas.WithAuthToken(os.Getenv(baas.EnvAuthToken)))
}

// fail prints err, the HError text for an HError, and returns exit code 1.
func fail(stderr io.Writer, err error) int {
	var he *baas.HError
	if errors.As(err, &he) {
		fmt.Fprintln(stderr, he.Error())
	} else {
		fmt.Fprintln(stderr, err)
	}
	return 1
}

func invoke(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("invoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	async := fs.Bool("async", false, "queue the job and return at once")
	cn := connectionFlags(fs)
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
	c, err := cn.client()
	if err != nil {
		return fail(stderr, err)
	}
	if hooks.OpenAPI(c) && !*async {
		run, err := manage.New(c).Debug(ctx, pos[0], params)
		if err != nil {
			return fail(stderr, err)
		}
		fmt.Fprintln(stdout, run.Result.String())
		printSummary(stdout, run)
		if run.Code != 0 {
			return 2
		}
		return 0
	}
	res, err := c.Invoke(ctx, pos[0], params, !*async)
	if err != nil {
		return fail(stderr, err)
	}
	fmt.Fprintln(stdout, res.String())
	if res.Code != 0 {
		return 2
	}
	return 0
}

// printSummary prints a debug run's figures and log, as the hosted CLI.
func printSummary(w io.Writer, run *manage.DebugResult) {
	fmt.Fprintf(w, "job id:      %d\n", run.JobID)
	fmt.Fprintf(w, "run time:    %.2f ms\n", run.ExecutionTime)
	fmt.Fprintf(w, "billed time: %.0f ms\n", run.BillingTime)
	fmt.Fprintf(w, "memory used: %s\n", humanBytes(run.MemUsage))
	fmt.Fprintln(w, "log:")
	for _, line := range run.LogLines() {
		fmt.Fprintln(w, "  "+line)
	}
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func jobs(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("jobs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var filter manage.JobFilter
	fs.StringVar(&filter.Status, "status", "", "only jobs with this status (fulfilled, execution_failed, ...)")
	fs.StringVar(&filter.Source, "source", "", "only jobs from this source (sdk, open_api, cloud_function, ...)")
	fs.StringVar(&filter.ServiceType, "service-type", "", "time_sensitive (sync) or batch (async)")
	limit := fs.Int("limit", 20, "how many jobs to list at most")
	cn := connectionFlags(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 1 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	c, err := cn.client()
	if err != nil {
		return fail(stderr, err)
	}
	filter.PageSize = min(max(*limit, 1), 100)
	fmt.Fprintf(stdout, "%-12s %-18s %-15s %-15s %-20s %s\n", "ID", "STATUS", "SOURCE", "SERVICE", "CREATED", "RUN")
	n := 0
	for j, err := range manage.New(c).Jobs(ctx, pos[0], filter) {
		if err != nil {
			return fail(stderr, err)
		}
		run := "-"
		if j.StartedAt != nil && j.FinishedAt != nil {
			run = fmt.Sprintf("%ds", *j.FinishedAt-*j.StartedAt)
		}
		fmt.Fprintf(stdout, "%-12d %-18s %-15s %-15s %-20s %s\n", j.ID, j.Status, j.Source, j.ServiceType,
			j.Created().UTC().Format("2006-01-02 15:04:05"), run)
		if n++; n >= *limit {
			break
		}
	}
	return 0
}
