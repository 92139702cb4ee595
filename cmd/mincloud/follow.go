package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mincloud-go/baas/internal/clientinfo"
	"github.com/mincloud-go/baas/manage"
)

// `mincloud logs NAME --follow`: each new job's log lines as the jobs of
// NAME run. From `mincloud serve`, through its event stream
// (/_/api/events); from the platform, which has no stream, by polling
// the job history.

const (
	// defaultFollowInterval is how often the platform's history is read:
	// 6 requests a minute, against the free plan's 50 per app.
	defaultFollowInterval = 10 * time.Second
	minFollowInterval     = time.Second
	// followPage is the history page read per poll: one request.
	followPage = 100
	// followLogReads caps the logs read per poll, so that a burst of
	// ended jobs is spread over the next polls instead of over the
	// app's request quota.
	followLogReads = 5
	// maxStreamLine bounds one line of the stream: a job's whole log is
	// capped at 1 MB, and JSON escaping at most sextuples it.
	maxStreamLine = 8 << 20
)

// streamPath is the emulator's event stream, which the platform does not
// have.
const streamPath = "/_/api/events"

// followPrinter prints the followed lines, as text or as JSON lines.
type followPrinter struct {
	a    *app
	name string
	enc  *json.Encoder
}

func newFollowPrinter(a *app, name string) *followPrinter {
	return &followPrinter{a: a, name: name, enc: json.NewEncoder(a.stdout)}
}

// line prints one log line of job id: "[NAME #ID] line", or with --json
// {"function","job_id","line"}.
func (p *followPrinter) line(id int64, line string) {
	if p.a.json {
		p.enc.Encode(struct {
			Function string `json:"function"`
			JobID    int64  `json:"job_id"`
			Line     string `json:"line"`
		}{p.name, id, line})
		return
	}
	fmt.Fprintf(p.a.stdout, "[%s #%d] %s\n", p.name, id, line)
}

// ended says that job id ended other than fulfilled, with why and the
// error's stack when known. The stack's frames follow the status line, so
// that a failure read live names the source file and line (the emulator
// maps a bundle's frames to the original files).
func (p *followPrinter) ended(id int64, status, why, stack string) {
	if p.a.json {
		p.enc.Encode(struct {
			Function string `json:"function"`
			JobID    int64  `json:"job_id"`
			Status   string `json:"status"`
			Error    string `json:"error,omitempty"`
			Stack    string `json:"stack,omitempty"`
		}{p.name, id, status, why, stack})
		return
	}
	if why != "" {
		status += ": " + why
	}
	fmt.Fprintf(p.a.stdout, "[%s #%d] %s\n", p.name, id, p.a.outStyle.red(status))
	// Only the frames: the stack's first line repeats the message.
	for _, l := range strings.Split(stack, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "at ") {
			fmt.Fprintf(p.a.stdout, "[%s #%d]     %s\n", p.name, id, strings.TrimSpace(l))
		}
	}
}

// notice tells the user something about the following, on stderr.
func (p *followPrinter) notice(format string, args ...any) {
	fmt.Fprintf(p.a.stderr, format+"\n", args...)
}

// followLogs runs until ctx ends (Ctrl-C), which is success.
func (a *app) followLogs(cmd *cobra.Command, name string, interval time.Duration) error {
	c, err := a.client(cmd)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	host := clientinfo.Of(c).Host
	p := newFollowPrinter(a, name)
	for first := true; ; first = false {
		body, err := openStream(ctx, host, name)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			return failed(err)
		case body == nil: // no stream here: the platform
			fns, err := a.manager(cmd)
			if err != nil {
				return err
			}
			return a.pollLogs(ctx, fns, p, interval)
		}
		if first {
			p.notice("following the jobs of %s at %s (Ctrl-C to stop)", name, host)
		}
		lost, err := readStream(body, p)
		body.Close()
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			// A closing emulator may cut the stream short: the same end.
			return failed(fmt.Errorf("the emulator at %s ended the event stream (%v): it has stopped", host, err))
		case !lost:
			return failed(fmt.Errorf("the emulator at %s ended the event stream: it has stopped", host))
		}
		p.notice("this terminal fell behind and some lines were lost; following again")
	}
}

// streamClient reads the event stream: no overall timeout (the stream
// lasts), and no credentials: the stream needs none, so none is sent to
// a host that may not be ours to trust with them.
var streamClient = &http.Client{Transport: &http.Transport{
	Proxy:                 http.ProxyFromEnvironment,
	ResponseHeaderTimeout: 30 * time.Second,
	TLSHandshakeTimeout:   10 * time.Second,
}}

// openStream opens the emulator's event stream of the function; a nil
// body and no error when the host answers with anything but a stream
// (the platform's 404).
func openStream(ctx context.Context, host, name string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, host+streamPath+"?function="+url.QueryEscape(name), nil)
	if err != nil {
		return nil, fmt.Errorf("cannot request the event stream: %w", err)
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := streamClient.Do(req)
	if ue, ok := err.(*url.Error); ok {
		err = ue.Err
	}
	if err != nil {
		return nil, fmt.Errorf("cannot reach %s: %w", host, err)
	}
	typ, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode != http.StatusOK || typ != "text/event-stream" {
		resp.Body.Close()
		return nil, nil
	}
	return resp.Body, nil
}

// streamJob is the part of a "job" event followLogs reads.
type streamJob struct {
	ID     int64  `json:"id"`
	Status string `json:"status"`
	Result *struct {
		Error struct {
			Message string `json:"message"`
			Stack   string `json:"stack"`
		} `json:"error"`
	} `json:"result"`
}

// streamLine is a "log" event.
type streamLine struct {
	ID   int64  `json:"id"`
	Line string `json:"line"`
}

// readStream prints the stream's lines until it ends; lost reports that
// the emulator dropped this reader for falling behind.
func readStream(body io.Reader, p *followPrinter) (lost bool, err error) {
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 0, 64<<10), maxStreamLine)
	var event, data string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			data = line[len("data: "):]
		case line == "":
			switch event {
			case "log":
				var l streamLine
				if json.Unmarshal([]byte(data), &l) == nil {
					p.line(l.ID, l.Line)
				}
			case "job":
				var j streamJob
				if json.Unmarshal([]byte(data), &j) == nil && failedStatus(j.Status) {
					why, stack := "", ""
					if j.Result != nil {
						why, stack = j.Result.Error.Message, j.Result.Error.Stack
					}
					p.ended(j.ID, j.Status, why, stack)
				}
			case "lost":
				return true, nil
			}
			event, data = "", ""
		}
	}
	return false, sc.Err()
}

// failedStatus reports an ending other than fulfilled.
func failedStatus(status string) bool {
	switch status {
	case "execution_failed", "deadline_exceeded", "schedule_failed":
		return true
	}
	return false
}

func jobDone(status string) bool { return status != "waiting" && status != "executing" }

// pollLogs follows the function on the platform: every interval it reads
// the newest page of the job history (one request), and prints the log
// of each new job once it has ended (one request each, at most
// followLogReads per poll). Jobs older than the start are not shown.
func (a *app) pollLogs(ctx context.Context, fns *manage.Service, p *followPrinter, interval time.Duration) error {
	// The newest job now: only later ones are followed. Ids only grow, so
	// no clock needs to agree with the platform's.
	var seen int64
	for j, err := range fns.Jobs(ctx, p.name, manage.JobFilter{PageSize: 1}) {
		if err != nil {
			return pollErr(ctx, err)
		}
		seen = j.ID
		break
	}
	p.notice("following the jobs of %s by reading its job history every %s (Ctrl-C to stop)", p.name, interval)
	pending := map[int64]manage.Job{} // new jobs not printed yet
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		page := make(map[int64]bool, followPage)
		n, newest := 0, seen
		for j, err := range fns.Jobs(ctx, p.name, manage.JobFilter{PageSize: followPage}) {
			if err != nil {
				return pollErr(ctx, err)
			}
			page[j.ID] = true
			if _, ok := pending[j.ID]; ok || j.ID > seen {
				pending[j.ID] = j
			}
			newest = max(newest, j.ID)
			if n++; n == followPage {
				break // one request per poll
			}
		}
		if n == followPage && !page[seen] && seen > 0 {
			p.notice("more than %d jobs of %s started since the last read: some are not shown", followPage, p.name)
		}
		seen = newest
		ids := make([]int64, 0, len(pending))
		for id := range pending {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		reads := 0
		for _, id := range ids {
			j := pending[id]
			if !page[id] {
				p.notice("job #%d of %s left the first page of the history before it ended: not shown", id, p.name)
				delete(pending, id)
				continue
			}
			if !jobDone(j.Status) || reads == followLogReads {
				continue
			}
			reads++
			log, err := fns.ReadLog(ctx, &j)
			if ctx.Err() != nil {
				return nil
			}
			if err != nil {
				p.notice("cannot read the log of job #%d of %s: %v", id, p.name, err)
			}
			for _, line := range strings.Split(strings.TrimRight(log, "\n"), "\n") {
				if line != "" {
					p.line(id, line)
				}
			}
			if failedStatus(j.Status) {
				p.ended(id, j.Status, "", "")
			}
			delete(pending, id)
		}
	}
}

// pollErr is a failed history read: none when interrupted.
func pollErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}
