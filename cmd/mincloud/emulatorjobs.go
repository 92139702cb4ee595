package main

import (
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// What the platform's job history cannot say, `mincloud serve` can: its
// dashboard API (/_/api/jobs) gives a failed job's error and stack, and
// start and end times finer than seconds. logs and jobs read it from a
// host on this machine only (the dashboard is served to loopback clients
// alone), so nothing extra is ever asked of the platform; any failure to
// read it just leaves out what it would add.

// dashJobsPath is the emulator's job list; dashJobsPath/ID one job.
const dashJobsPath = "/_/api/jobs"

// dashClient reads the dashboard API: no credentials (it needs none),
// and a short deadline, since what it gives is extra.
var dashClient = &http.Client{Timeout: 10 * time.Second}

// dashJob is the part of the dashboard's job record logs and jobs read.
type dashJob struct {
	ID         int64      `json:"id"`
	Function   string     `json:"function"`
	Status     string     `json:"status"`
	StartedAt  *time.Time `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
	Result     *struct {
		Error struct {
			Type    string `json:"type"`
			Message string `json:"message"`
			Stack   string `json:"stack"`
		} `json:"error"`
	} `json:"result"`
}

// onThisMachine reports whether host (a URL) names a loopback address or
// localhost (loopbackHost), where a `mincloud serve` may be.
func onThisMachine(host string) bool {
	u, err := url.Parse(host)
	return err == nil && loopbackHost(u.Hostname())
}

// readDash GETs path from the emulator at host into v; false when host
// is not on this machine or did not answer the dashboard's JSON.
func readDash(ctx context.Context, host, path string, v any) bool {
	if !onThisMachine(host) {
		return false
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(host, "/")+path, nil)
	if err != nil {
		return false
	}
	resp, err := dashClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	typ, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode != http.StatusOK || typ != "application/json" {
		return false
	}
	// A job's record holds up to 1 MiB of log and a 64 MiB result.
	return json.NewDecoder(io.LimitReader(resp.Body, 80<<20)).Decode(v) == nil
}

// emulatorJob reads job id of the function name from the emulator at
// host; false when that is not an emulator or the job is not there.
func emulatorJob(ctx context.Context, host, name string, id int64) (dashJob, bool) {
	var j dashJob
	ok := readDash(ctx, host, dashJobsPath+"/"+strconv.FormatInt(id, 10), &j)
	return j, ok && j.ID == id && j.Function == name
}

// emulatorRunTimes reads the run time of the newest jobs of the function
// name, by id, from the emulator at host; nil when host is not one.
func emulatorRunTimes(ctx context.Context, host, name string, limit int) map[int64]time.Duration {
	var jobs []dashJob
	q := url.Values{"function": {name}, "limit": {strconv.Itoa(limit)}}
	if !readDash(ctx, host, dashJobsPath+"?"+q.Encode(), &jobs) {
		return nil
	}
	runs := make(map[int64]time.Duration, len(jobs))
	for _, j := range jobs {
		if j.Function == name && j.StartedAt != nil && j.FinishedAt != nil {
			runs[j.ID] = j.FinishedAt.Sub(*j.StartedAt)
		}
	}
	return runs
}
