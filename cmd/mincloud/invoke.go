package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mincloud-go/baas"
	"github.com/mincloud-go/baas/internal/clientinfo"
	"github.com/mincloud-go/baas/manage"
)

func (a *app) invokeCommand() *cobra.Command {
	var async bool
	cmd := &cobra.Command{
		Use:   "invoke NAME [JSON]",
		Short: "Run a function and print its outcome, summary and log",
		Long: `invoke runs the function with the JSON params (none: {}) and prints the
outcome: the result on success; the error's type, message and stack on
failure. With a client secret it goes through the Open API's debug
endpoint and then prints the summary (job id, run time, billed time,
memory used) and the whole log, every line indented.

--async queues the job and returns at once; follow it with 'mincloud
jobs NAME' and 'mincloud logs NAME JOB_ID'.

Exit code 3 says the function ran and failed; 1 that the call failed.`,
		Example: `  mincloud invoke helloWorld '{"name":"allen"}'
  mincloud invoke report --async
  mincloud invoke helloWorld --json | jq .data`,
		Args: rangeArgs(1, "function name", "params"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := checkFunctionName(cmd, name); err != nil {
				return err
			}
			var params any
			if len(args) == 2 {
				if err := checkJSON(args[1]); err != nil {
					return usageErr(cmd, "params are not valid JSON: %v", err)
				}
				params = json.RawMessage(args[1])
			}
			// A sync call waits a little past the function's deadline (the
			// platform's 5 s), so that a function that runs to it ends with the
			// server's TimeoutError (code 1, exit 3) rather than the SDK's 601.
			c, err := a.client(cmd, baas.WithSyncTimeout(baas.DefaultSyncTimeout+invokeGrace))
			if err != nil {
				return err
			}
			if async {
				return a.invokeAsync(cmd, c, name, params)
			}
			if clientinfo.Of(c).OpenAPI {
				run, err := during(a, "running "+name, func() (*manage.DebugResult, error) {
					return manage.New(c).Debug(cmd.Context(), name, params)
				})
				if err != nil {
					return err
				}
				if a.json {
					if err := a.printJSON(run); err != nil {
						return err
					}
				} else {
					a.printOutcome(&run.Result)
					a.printSummary(run)
				}
				return outcomeErr(&run.Result)
			}
			res, err := during(a, "running "+name, func() (*baas.Result, error) {
				return c.Invoke(cmd.Context(), name, params, true)
			})
			if err != nil {
				return err
			}
			if a.json {
				if err := a.printJSON(res); err != nil {
					return err
				}
			} else {
				a.printOutcome(res)
			}
			return outcomeErr(res)
		},
	}
	cmd.Flags().BoolVar(&async, "async", false, "queue the job and return at once")
	return cmd
}

// checkJSON says where s stops being JSON.
func checkJSON(s string) error {
	var v json.RawMessage
	err := json.Unmarshal([]byte(s), &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("%v at offset %d", se, se.Offset)
	}
	return err
}

func outcomeErr(r *baas.Result) error {
	if r.Code != 0 {
		return errFuncFailed
	}
	return nil
}

func (a *app) invokeAsync(cmd *cobra.Command, c *baas.Client, name string, params any) error {
	res, err := during(a, "queueing "+name, func() (*baas.Result, error) {
		return c.Invoke(cmd.Context(), name, params, false)
	})
	if err != nil {
		return err
	}
	if a.json {
		return a.printJSON(res)
	}
	fmt.Fprintf(a.stdout, "%s %s\n", a.outStyle.green("queued"), name)
	if clientinfo.Of(c).OpenAPI {
		fmt.Fprintf(a.stdout, "follow it: %s, then %s JOB_ID\n", hint("jobs", name), hint("logs", name))
	}
	return nil
}

// printOutcome prints success and the result, or failure and the error's
// type, message and stack.
func (a *app) printOutcome(r *baas.Result) {
	s := a.outStyle
	if r.Code == 0 {
		fmt.Fprintln(a.stdout, s.green("success"))
		fmt.Fprintln(a.stdout, s.bold("result:"))
		fmt.Fprint(a.stdout, indent(prettyJSON(r.Data), "  "))
		return
	}
	fmt.Fprintf(a.stdout, "%s (code %d)\n", s.red("failed"), r.Code)
	fe := r.Err().(*baas.FunctionError)
	if fe.Type != "" {
		fmt.Fprintf(a.stdout, "%s %s\n", s.bold("type:"), fe.Type)
	}
	fmt.Fprintf(a.stdout, "%s %s\n", s.bold("message:"), fe.Error())
	if fe.Stack != "" {
		fmt.Fprintln(a.stdout, s.bold("stack:"))
		fmt.Fprint(a.stdout, indent(fe.Stack, "  "))
	}
}

// prettyJSON indents raw JSON; null when absent.
func prettyJSON(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "null"
	}
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return string(raw)
	}
	return b.String()
}

// printSummary prints a debug run's figures, as the hosted CLI, and the
// whole log with every line indented (the hosted CLI indents only the
// first).
func (a *app) printSummary(run *manage.DebugResult) {
	s := a.outStyle
	fmt.Fprintln(a.stdout, s.bold("summary:"))
	fmt.Fprintf(a.stdout, "  job id:      %d\n", run.JobID)
	fmt.Fprintf(a.stdout, "  run time:    %.2f ms\n", run.ExecutionTime)
	fmt.Fprintf(a.stdout, "  billed time: %.0f ms\n", run.BillingTime)
	fmt.Fprintf(a.stdout, "  memory used: %s\n", humanBytes(run.MemUsage))
	lines := run.LogLines()
	if len(lines) == 0 {
		// Said, so that a bare "log:" as the last line does not look cut.
		fmt.Fprintf(a.stdout, "%s (empty)\n", s.bold("log:"))
		return
	}
	fmt.Fprintln(a.stdout, s.bold("log:"))
	fmt.Fprint(a.stdout, indent(strings.Join(lines, "\n"), "  "))
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

// invokeGrace is how long past the function's deadline a sync invoke
// waits for the server's answer.
const invokeGrace = 2 * time.Second
