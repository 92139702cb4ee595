package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/mincloud-go/baas/emulator"
)

// serve's terminal shows each job's log lines (the emulator's log
// output); a job that fails there would show nothing more than its own
// lines. watchFailures adds one line per job that ends in failure, in the
// same "[NAME #ID]" style: its status and its error's type and first line
// of message. The stack is left to `mincloud logs`, which prints it.

// watchFailures prints a line on out for each job of srv that ends in
// failure, until stop is called; stop returns once the last line is out.
func watchFailures(srv *emulator.Server, out io.Writer, s style) (stop func()) {
	events, unwatch := srv.WatchJobs()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range events {
			if ev.Dropped > 0 {
				// The watch holds 256 changes: a terminal that far behind
				// misses some, and says so rather than nothing.
				fmt.Fprintf(out, "serve: this terminal fell behind: %d job changes not shown here (mincloud jobs NAME lists the jobs)\n", ev.Dropped)
			}
			if line := failureLine(&ev.Job, s); line != "" {
				fmt.Fprint(out, line)
			}
		}
	}()
	return func() {
		unwatch()
		<-done
	}
}

// failureLine is "[NAME #ID] status: Type: message\n" for a job that
// ended in failure, without the message's further lines; "" for any
// other change.
func failureLine(j *emulator.Job, s style) string {
	if !j.Done() || j.Status == emulator.StatusFulfilled {
		return ""
	}
	why := ""
	if j.Result != nil && j.Result.Error != nil {
		e := j.Result.Error
		msg, _, _ := strings.Cut(strings.TrimSpace(e.Message), "\n")
		why = ": " + e.Type + ": " + strings.TrimSpace(msg)
	}
	return fmt.Sprintf("[%s #%d] %s%s\n", j.Function, j.ID, s.red(j.Status), why)
}
