package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/mincloud-go/baas/emulator"
	"github.com/mincloud-go/baas/emulator/demo"
)

// serveFlags are serve's flags. A new emulator setting is a field here,
// a line in register and a line in options (or in start, for one that
// acts on the running server), and its flag in flagOfOption; the
// emulator checks its value.
type serveFlags struct {
	addr, clientID, secret    string
	syncTimeout, asyncTimeout time.Duration
	maxJobs, memoryLimitInMB  int
	maxQueuedJobs             int
	maxQueuedBytes            byteCount
	maxJobRecords             int
	maxJobRecordBytes         byteCount
	functionsDir              string
	inspect                   string // serve_inspect.go
	dataFile, schemaFile      string
	triggers                  []string

	broken map[string]bool // the functions of --functions that do not load, as serve starts
}

func (f *serveFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fl.StringVar(&f.clientID, "client-id", "", "the app's client id (random when empty)")
	fl.StringVar(&f.secret, "client-secret", "", "the app's Open API client secret (random when empty)")
	fl.DurationVar(&f.syncTimeout, "sync-timeout", emulator.DefaultSyncTimeout, "how long a sync job may run")
	fl.DurationVar(&f.asyncTimeout, "async-timeout", emulator.DefaultAsyncTimeout, "how long an async job may run")
	fl.IntVar(&f.maxJobs, "max-jobs", emulator.DefaultMaxJobs, "how many jobs may run at once")
	fl.IntVar(&f.maxQueuedJobs, "max-queued-jobs", 0, "how many async jobs (async calls and table triggers) may wait for a slot at once; past it they fail as \"schedule failed\" (0, the default: 10 × --max-jobs)")
	f.maxQueuedBytes = emulator.DefaultMaxQueuedBytes
	fl.Var(&f.maxQueuedBytes, "max-queued-bytes", "how many bytes of event data (a number, or with KiB, MiB or GiB) the waiting async jobs may hold together; past it they fail as past --max-queued-jobs")
	fl.IntVar(&f.memoryLimitInMB, "memory-limit", emulator.DefaultMemoryLimitInMB, "the memoryLimitInMB the events carry, in MB")
	fl.StringVar(&f.functionsDir, "functions", "", "serve the JavaScript functions in DIR (<name>.js, <name>.ts, <name>/index.js or <name>/index.ts) instead of the demo functions, reloading them as they change")
	fl.IntVar(&f.maxJobRecords, "max-job-records", emulator.DefaultMaxJobRecords, "how many of the most recent jobs to keep (records, logs, history)")
	f.maxJobRecordBytes = emulator.DefaultMaxJobRecordBytes
	fl.Var(&f.maxJobRecordBytes, "max-job-record-bytes", "how many bytes of logs and results (a number, or with KiB, MiB or GiB) the kept jobs may hold together; past it the oldest go")
	f.registerInspect(cmd)
	fl.StringVar(&f.dataFile, "data", "", "keep the tables in the SQLite database FILE, across restarts (in memory when empty)")
	fl.StringVar(&f.schemaFile, "schema", "", "load tables from the schema FILE (the dashboard's JSON format); unknown tables are then 404")
	fl.StringArrayVar(&f.triggers, "trigger", nil, "run FUNCTION (async) when a record of TABLE changes: TABLE:FUNCTION[:create,update,delete]; repeatable")
}

// check rejects what only serve reads: the --trigger syntax. The
// values of the emulator's settings are the emulator's to check (see
// listenError).
func (f *serveFlags) check(cmd *cobra.Command) error {
	if _, err := triggerOptions(f.triggers); err != nil {
		return usageErr(cmd, "%v", err)
	}
	return nil
}

// flagOfOption is the flag that sets each emulator option serve passes
// with a value the emulator may refuse.
var flagOfOption = map[string]string{
	"WithSyncTimeout":       "--sync-timeout",
	"WithAsyncTimeout":      "--async-timeout",
	"WithMaxJobs":           "--max-jobs",
	"WithMaxQueuedJobs":     "--max-queued-jobs",
	"WithMaxQueuedBytes":    "--max-queued-bytes",
	"WithMemoryLimit":       "--memory-limit",
	"WithMaxJobRecords":     "--max-job-records",
	"WithMaxJobRecordBytes": "--max-job-record-bytes",
	"WithInspect":           "--inspect",
}

// listenError words the emulator's refusal of an option as a usage error
// naming serve's flag ("--max-jobs: at least 1 job must be able to run at
// once, not 0"); any other failure to start is the emulator's own.
func listenError(cmd *cobra.Command, err error) error {
	var oe *emulator.OptionError
	if errors.As(err, &oe) {
		if flag, ok := flagOfOption[oe.Option]; ok {
			return usageErr(cmd, "%s: %s", flag, oe.Reason)
		}
	}
	if errors.Is(err, syscall.EADDRINUSE) {
		// Another serve, or another program, has the port: say how to
		// pick another one, or any free one (the banner prints it).
		return failed(fmt.Errorf("%w: another program (another serve?) listens there; stop it, or give serve another --addr (--addr 127.0.0.1:0 takes any free port, and the banner says which)", err))
	}
	return failed(err)
}

func (f *serveFlags) options() []emulator.Option {
	triggers, _ := triggerOptions(f.triggers) // checked by check
	return append([]emulator.Option{
		emulator.WithClientID(f.clientID),
		emulator.WithClientSecret(f.secret),
		emulator.WithSyncTimeout(f.syncTimeout),
		emulator.WithAsyncTimeout(f.asyncTimeout),
		emulator.WithMaxJobs(f.maxJobs),
		emulator.WithMaxQueuedJobs(f.maxQueuedJobs),
		emulator.WithMaxQueuedBytes(int64(f.maxQueuedBytes)),
		emulator.WithMemoryLimit(f.memoryLimitInMB),
		emulator.WithMaxJobRecords(f.maxJobRecords),
		emulator.WithMaxJobRecordBytes(int64(f.maxJobRecordBytes)),
		emulator.WithDataFile(f.dataFile),
		schemaOption(f.schemaFile),
	}, append(triggers, f.inspectOptions()...)...)
}

// start sets up the running server: the functions of --functions, kept in
// step with their folder until ctx ends, else the demo functions. The
// channel it returns closes once it has stopped following the folder.
// The watcher's messages wait for bannerDone to close, so that they come
// after the banner, never inside it.
func (f *serveFlags) start(ctx context.Context, srv *emulator.Server, out io.Writer, bannerDone <-chan struct{}) (<-chan struct{}, error) {
	done := make(chan struct{})
	if f.functionsDir == "" {
		demo.Register(srv)
		close(done)
		return done, nil
	}
	// Load first, so that a folder that cannot be served fails serve and
	// the banner lists what is there; then follow the folder. A function
	// that does not load is served all the same (its calls say why) and
	// reported once, by the watcher as it starts (as it reports a save):
	// LoadDir's error names the same functions.
	names, err := srv.LoadDir(f.functionsDir)
	if err != nil && names == nil {
		return nil, err
	}
	f.broken = notLoading(err)
	report := func(msg string) {
		select {
		case <-bannerDone:
		case <-ctx.Done():
		}
		fmt.Fprintf(out, "functions: %s\n", msg)
	}
	go func() {
		defer close(done)
		if err := srv.WatchDir(ctx, f.functionsDir, report); err != nil {
			report(fmt.Sprintf("no longer following %s: %v", f.functionsDir, err))
		}
	}()
	return done, nil
}

// notLoading is the functions LoadDir's error says do not load.
func notLoading(err error) map[string]bool {
	broken := map[string]bool{}
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else if err != nil {
		errs = []error{err}
	}
	for _, e := range errs {
		var le *emulator.LoadError
		if errors.As(e, &le) {
			broken[le.Function] = true
		}
	}
	return broken
}

// try is the banner's last line: a call of a function that is there and
// loads, or, for an empty folder, how to add one, or, when none loads,
// what to do first.
func (f *serveFlags) try(srv *emulator.Server, names []string) string {
	switch {
	case f.functionsDir == "":
		return hint("--host", srv.URL, "--client-id", srv.ClientID, "invoke", "helloWorld", `{"name":"allen"}`)
	case len(names) == 0:
		return "add a function: " + hint("new", "NAME", "--root", f.functionsDir) + " (it is served as soon as it is saved)"
	}
	for _, n := range names {
		if !f.broken[n] {
			return hint("--host", srv.URL, "--client-id", srv.ClientID, "invoke", n, "{}")
		}
	}
	return "fix the functions that do not load (said below); each is served again as soon as it is saved"
}

func (a *app) serveCommand() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the local emulator of the platform, with your JavaScript functions or demo ones",
		Long: `serve runs the emulator: the invoke endpoint, the Open API and the job
scheduler. With --functions DIR (or --root DIR, as deploy takes it) it
serves every JavaScript function in DIR (<name>.js, <name>.ts,
<name>/index.js or <name>/index.ts, bundled as deploy bundles them) in
Node.js, and a file added, changed or removed there reloads the functions
it concerns for the next call; without either, the demo functions
(helloWorld, echo, slow, fail, chain).
It prints its URL and client id, writes the functions' logs, and stops
cleanly on Ctrl-C. The Open API (login, deploy, list, the debug invoke)
needs --client-secret: without it the secret is random and never printed.
serve has its own --client-id and --client-secret; the MINCLOUD_*
variables and the login file are for the commands that call an app.`,
		Example: `  mincloud serve --addr 127.0.0.1:8080 --client-id dev --client-secret dev
  mincloud serve --functions ./functions --client-id dev --client-secret dev
  mincloud serve --functions ./functions --inspect
  mincloud login --host http://127.0.0.1:8080 --client-id dev --client-secret dev`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			// --root names the functions' folder for every command: serve
			// takes it as --functions.
			if cmd.Flags().Changed("root") {
				if f.functionsDir != "" && filepath.Clean(f.functionsDir) != filepath.Clean(a.root) {
					return usageErr(cmd, "--root %s and --functions %s name different folders: give one of them", a.root, f.functionsDir)
				}
				f.functionsDir = a.root
			}
			if err := f.check(cmd); err != nil {
				return err
			}
			srv, err := emulator.Listen(f.addr, append(f.options(), emulator.WithLogOutput(a.stdout))...)
			if err != nil {
				return listenError(cmd, err)
			}
			stopFailures := watchFailures(srv, a.stdout, a.outStyle)
			defer stopFailures() // after Close, which ends the watch
			defer srv.Close()
			warnInspect(a.stderr, a.errStyle, srv.InspectAddr())
			bannerDone := make(chan struct{})
			following, err := f.start(cmd.Context(), srv, a.stdout, bannerDone)
			if err != nil {
				return failed(err)
			}
			fmt.Fprintf(a.stdout, "MinCloud emulator listening on %s\nclient id: %s\n", srv.URL, srv.ClientID)
			fmt.Fprintf(a.stdout, "dashboard: %s%s\n", srv.URL, emulator.DashboardPath)
			if f.secret == "" {
				// Secrets never reach the output, not even a made-up one.
				fmt.Fprintln(a.stdout, "Open API: start with --client-secret S to use login, deploy, list and the debug invoke")
			}
			names := srv.Functions()
			list := strings.Join(names, ", ")
			if list == "" {
				list = "none yet"
			}
			fmt.Fprintf(a.stdout, "functions: %s\n", list)
			printInspect(a.stdout, srv.InspectAddr())
			fmt.Fprintln(a.stdout, dataBanner(f.dataFile, f.schemaFile))
			fmt.Fprintf(a.stdout, "try: %s\n", f.try(srv, names))
			close(bannerDone)
			<-cmd.Context().Done()
			<-following // ends with the context: nothing reloads into a closing server
			srv.Close()
			stopFailures() // the failures of the jobs Close ended are out before "stopped"
			fmt.Fprintln(a.stdout, "stopped")
			return nil
		},
	}
	f.register(cmd)
	return cmd
}
