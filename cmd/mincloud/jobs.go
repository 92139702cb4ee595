package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mincloud-go/baas/internal/clientinfo"
	"github.com/mincloud-go/baas/manage"
)

func (a *app) jobsCommand() *cobra.Command {
	var filter manage.JobFilter
	var limit int
	cmd := &cobra.Command{
		Use:   "jobs NAME",
		Short: "List a function's jobs, newest first",
		Args:  exactArgs("function name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := checkFunctionName(cmd, name); err != nil {
				return err
			}
			if limit < 1 {
				return usageErr(cmd, "--limit must be at least 1, not %d", limit)
			}
			fns, err := a.manager(cmd)
			if err != nil {
				return err
			}
			filter.PageSize = min(limit, 100)
			jobs, err := during(a, "reading jobs", func() ([]manage.Job, error) {
				var out []manage.Job
				for j, err := range fns.Jobs(cmd.Context(), name, filter) {
					if err != nil {
						return nil, err
					}
					if out = append(out, j); len(out) >= limit {
						break
					}
				}
				return out, nil
			})
			if err != nil {
				return err
			}
			if a.json {
				if jobs == nil {
					jobs = []manage.Job{}
				}
				return a.printJSON(jobs)
			}
			// The history's times are whole seconds; 'mincloud serve' knows
			// the run times exactly.
			var exact map[int64]time.Duration
			if c, err := a.client(cmd); err == nil && len(jobs) > 0 {
				// Filtered, the jobs listed may be older than the newest
				// --limit: read as many as the emulator gives (1000).
				n := limit
				if filter != (manage.JobFilter{PageSize: filter.PageSize}) {
					n = 1000
				}
				exact = emulatorRunTimes(cmd.Context(), clientinfo.Of(c).Host, name, min(n, 1000))
			}
			rows := make([][]string, 0, len(jobs))
			for _, j := range jobs {
				run := "-"
				if d, ok := exact[j.ID]; ok {
					run = runTime(d)
				} else if j.StartedAt != nil && j.FinishedAt != nil {
					run = wholeSeconds(*j.FinishedAt - *j.StartedAt)
				}
				rows = append(rows, []string{strconv.FormatInt(j.ID, 10), j.Status, j.Source, j.ServiceType, unixTime(j.CreatedAt), run})
			}
			fmt.Fprint(a.stdout, a.table([]string{"ID", "STATUS", "SOURCE", "SERVICE", "CREATED", "RUN"}, rows))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&filter.Status, "status", "", "only jobs with this status (waiting, executing, fulfilled, execution_failed, ...)")
	f.StringVar(&filter.Source, "source", "", "only jobs from this source (sdk, open_api, cloud_function, timer, ...)")
	f.StringVar(&filter.ServiceType, "service-type", "", "time_sensitive (sync) or batch (async)")
	f.IntVar(&limit, "limit", 20, "how many jobs to list at most")
	return cmd
}

func (a *app) logsCommand() *cobra.Command {
	var follow bool
	var interval time.Duration
	cmd := &cobra.Command{
		Use:   "logs NAME [JOB_ID]",
		Short: "Print a job's log, or follow the function's jobs as they run",
		Long: `logs NAME JOB_ID prints the log of one of the function's jobs (see
'mincloud jobs NAME'), read from the job's user_log_url.

logs NAME --follow prints the log lines of each new job of NAME, as
"[NAME #JOB_ID] line", until Ctrl-C (exit 0). From 'mincloud serve' the
lines come as the jobs log them, through the emulator's event stream (no
client secret needed). The platform has no stream: there logs reads the
job history every --interval (10s by default: 6 requests a minute, where
the free plan allows 50 per app), plus one request per ended job for its
log (at most 5 per interval), and prints each job's log once it ended.
Failed jobs end with a line naming their status (from 'mincloud serve',
with the error's message, followed by the stack's frames, which name your
source files), with or without --follow.`,
		Example: `  mincloud logs helloWorld 1000042
  mincloud logs helloWorld --follow
  mincloud logs helloWorld --follow --json`,
		Args: rangeArgs(1, "function name", "job id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := checkFunctionName(cmd, name); err != nil {
				return err
			}
			if follow {
				if len(args) > 1 {
					return usageErr(cmd, "--follow takes no job id: it prints the jobs that start from now on")
				}
				if interval < minFollowInterval {
					return usageErr(cmd, "--interval must be at least %s, not %s", minFollowInterval, interval)
				}
				return a.followLogs(cmd, name, interval)
			}
			if len(args) < 2 {
				return usageErr(cmd, "job id is required (or --follow, to follow the new jobs)")
			}
			id, err := strconv.ParseInt(args[1], 10, 64)
			if err != nil || id <= 0 {
				return usageErr(cmd, "job id must be a positive whole number, not %q", args[1])
			}
			return a.printJobLog(cmd, name, id)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&follow, "follow", "f", false, "print the log lines of each new job as the jobs run, until Ctrl-C")
	f.DurationVar(&interval, "interval", defaultFollowInterval, "with --follow on the platform: how often to read the job history")
	return cmd
}

// printJobLog prints the log of job id of the function name and, for a
// job that failed, the ending logs --follow prints: the status, and from
// 'mincloud serve' the error's message and the stack's frames.
func (a *app) printJobLog(cmd *cobra.Command, name string, id int64) error {
	fns, err := a.manager(cmd)
	if err != nil {
		return err
	}
	c, err := a.client(cmd)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	type read struct {
		job        *manage.Job
		log        string
		why, stack string
	}
	got, err := during(a, "reading the log", func() (read, error) {
		j, err := fns.Job(ctx, name, id)
		if err != nil {
			return read{}, err
		}
		log, err := fns.ReadLog(ctx, j)
		if err != nil {
			return read{}, err
		}
		r := read{job: j, log: log}
		if failedStatus(j.Status) {
			if ej, ok := emulatorJob(ctx, clientinfo.Of(c).Host, name, id); ok && ej.Result != nil {
				r.why, r.stack = ej.Result.Error.Message, ej.Result.Error.Stack
			}
		}
		return r, nil
	})
	if err != nil {
		return err
	}
	if a.json {
		lines := []string{}
		if t := strings.TrimRight(got.log, "\n"); t != "" {
			lines = strings.Split(t, "\n")
		}
		return a.printJSON(struct {
			Name   string   `json:"name"`
			JobID  int64    `json:"job_id"`
			Status string   `json:"status"`
			Log    []string `json:"log"`
			Error  string   `json:"error,omitempty"`
			Stack  string   `json:"stack,omitempty"`
		}{name, id, got.job.Status, lines, got.why, got.stack})
	}
	fmt.Fprint(a.stdout, got.log)
	if got.log != "" && !strings.HasSuffix(got.log, "\n") {
		fmt.Fprintln(a.stdout)
	}
	if failedStatus(got.job.Status) {
		newFollowPrinter(a, name).ended(id, got.job.Status, got.why, got.stack)
	}
	return nil
}

// runTime is a job's run time as jobs shows it: milliseconds under a
// second (12ms), seconds with one decimal from there (1.5s).
func runTime(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return "<1ms"
	case d < time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
}

// wholeSeconds is a run time from the platform's history, whose times
// are whole seconds: 0 is under a second, not nothing.
func wholeSeconds(n int64) string {
	if n <= 0 {
		return "<1s"
	}
	return strconv.FormatInt(n, 10) + "s"
}
