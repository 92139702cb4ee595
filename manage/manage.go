// Package manage manages 知晓云 cloud functions over the Open API:
// debug runs with their log, the job history, and listing, creating,
// updating and deleting functions. It works on a baas.Client built with
// baas.WithClientSecret.
//
//	c, _ := baas.New(baas.WithClientID(id), baas.WithClientSecret(secret))
//	fns := manage.New(c)
//	run, err := fns.Debug(ctx, "helloWorld", map[string]any{"name": "allen"})
//	for job, err := range fns.Jobs(ctx, "helloWorld", manage.JobFilter{Status: "fulfilled"}) { ... }
package manage

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mincloud-go/baas"
	"github.com/mincloud-go/baas/internal/clientinfo"
)

const basePath = "/oserve/v1.3/cloud-function/"

// Service is the function-management API on one client.
type Service struct {
	c *baas.Client
}

// New returns the service for c, which must have a client secret.
func New(c *baas.Client) *Service { return &Service{c: c} }

// fnPath is the path of one function, with suffix ("", "job/", "debug/").
func fnPath(name, suffix string) string {
	return basePath + url.PathEscape(name) + "/" + suffix
}

// checkName fails with the SDK's 605 for an empty name, sending nothing.
func checkName(name string) error {
	if name == "" {
		// The SDK's 605 for bad input found before anything is sent.
		return &baas.HError{Code: baas.CodeBadParameter, Message: "incorrect parameter type: function name is empty"}
	}
	return nil
}

// Invoke calls the function by its path (the v1.3 Open API): the same
// answers as baas.Client.Invoke. params nil sends {}.
func (s *Service) Invoke(ctx context.Context, name string, params any, sync bool) (*baas.Result, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	if params == nil {
		params = json.RawMessage(`{}`) // data is required on this endpoint
	}
	info := clientinfo.Of(s.c)
	timeout, asyncTimeout := info.SyncTimeout, info.AsyncTimeout
	if !sync {
		timeout = asyncTimeout
	}
	resp, err := s.c.Do(ctx, baas.Request{
		Method: http.MethodPost, Path: fnPath(name, "job/"), Name: name, Timeout: timeout,
		Body: struct {
			Data any  `json:"data"`
			Sync bool `json:"sync"`
		}{params, sync},
	})
	if err != nil {
		return nil, err
	}
	var res baas.Result
	return &res, resp.Unmarshal(&res)
}

// DebugResult is a debug run's answer: the function's outcome and what the
// run cost, with its log.
type DebugResult struct {
	baas.Result
	// JobID is the run's job id.
	JobID int64 `json:"job_id"`
	// ExecutionTime is how long the function ran, in milliseconds.
	ExecutionTime float64 `json:"execution_time"`
	// BillingTime is the billed time, in milliseconds.
	BillingTime float64 `json:"billing_time"`
	// MemUsage is the memory used, in bytes.
	MemUsage int64 `json:"mem_usage"`
	// Log is the run's log, one line per console call:
	// "<ISO time> <LEVEL> <message>".
	Log string `json:"log"`
}

// String returns the whole debug answer as JSON, as the platform sent it:
// the outcome with the job id, the times, the memory and the log. (Without
// it, printing a DebugResult would print only the embedded Result.)
func (d DebugResult) String() string {
	b, err := d.MarshalJSON()
	if err != nil {
		return fmt.Sprintf("<invalid DebugResult: %v>", err)
	}
	return string(b)
}

// LogLines returns the log split into its lines.
func (d *DebugResult) LogLines() []string {
	if d.Log == "" {
		return nil
	}
	return strings.Split(strings.TrimRight(d.Log, "\n"), "\n")
}

// UnmarshalJSON reads the debug answer; Result's own decoding takes the
// code, data and error.
func (d *DebugResult) UnmarshalJSON(b []byte) error {
	var meta struct {
		JobID         int64   `json:"job_id"`
		ExecutionTime float64 `json:"execution_time"`
		BillingTime   float64 `json:"billing_time"`
		MemUsage      int64   `json:"mem_usage"`
		Log           string  `json:"log"`
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		return err
	}
	if err := json.Unmarshal(b, &d.Result); err != nil {
		return err
	}
	for _, k := range []string{"job_id", "execution_time", "billing_time", "mem_usage", "log"} {
		delete(d.Result.Extra, k)
	}
	if len(d.Result.Extra) == 0 {
		d.Result.Extra = nil
	}
	d.JobID, d.ExecutionTime, d.BillingTime, d.MemUsage, d.Log = meta.JobID, meta.ExecutionTime, meta.BillingTime, meta.MemUsage, meta.Log
	return nil
}

// MarshalJSON writes the debug answer as the platform sends it.
func (d DebugResult) MarshalJSON() ([]byte, error) {
	r := d.Result
	r.Extra = make(map[string]json.RawMessage, len(d.Extra)+5)
	for k, v := range d.Extra {
		r.Extra[k] = v
	}
	for k, v := range map[string]any{"job_id": d.JobID, "execution_time": d.ExecutionTime,
		"billing_time": d.BillingTime, "mem_usage": d.MemUsage, "log": d.Log} {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		r.Extra[k] = b
	}
	return r.MarshalJSON()
}

// Debug runs the function synchronously through the debug endpoint and
// returns its outcome with the run's figures and log.
func (s *Service) Debug(ctx context.Context, name string, params any) (*DebugResult, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	if params == nil {
		params = json.RawMessage(`{}`)
	}
	resp, err := s.c.Do(ctx, baas.Request{
		Method: http.MethodPost, Path: fnPath(name, "debug/"), Name: name,
		Body: struct {
			FunctionName string `json:"function_name"`
			Data         any    `json:"data"`
			Sync         bool   `json:"sync"`
		}{name, params, true},
	})
	if err != nil {
		return nil, err
	}
	var d DebugResult
	return &d, resp.Unmarshal(&d)
}

// Job is one run in a function's history.
type Job struct {
	ID          int64  `json:"id"`
	CreatedAt   int64  `json:"created_at"`  // unix seconds
	StartedAt   *int64 `json:"started_at"`  // nil until it starts
	FinishedAt  *int64 `json:"finished_at"` // nil until it ends
	MemUsage    int64  `json:"mem_usage"`
	ServiceType string `json:"service_type"` // time_sensitive (sync) or batch (async)
	Source      string `json:"source"`
	Status      string `json:"status"`
	UserLogURL  string `json:"user_log_url"`
}

// Created returns CreatedAt as a time.
func (j Job) Created() time.Time { return time.Unix(j.CreatedAt, 0) }

// JobFilter narrows the job history; zero fields do not filter.
type JobFilter struct {
	Source        string    // sdk, open_api, cloud_function, timer, ...
	Status        string    // waiting, executing, fulfilled, execution_failed, ...
	ServiceType   string    // time_sensitive or batch
	CreatedAfter  time.Time // created_at__gte
	CreatedBefore time.Time // created_at__lte
	PageSize      int       // limit per page; the server's default when 0
}

func (f JobFilter) query() url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("source", f.Source)
	set("status", f.Status)
	set("service_type", f.ServiceType)
	if !f.CreatedAfter.IsZero() {
		q.Set("created_at__gte", strconv.FormatInt(f.CreatedAfter.Unix(), 10))
	}
	if !f.CreatedBefore.IsZero() {
		q.Set("created_at__lte", strconv.FormatInt(f.CreatedBefore.Unix(), 10))
	}
	if f.PageSize > 0 {
		q.Set("limit", strconv.Itoa(f.PageSize))
	}
	return q
}

// Meta is a page's position in a paginated list.
type Meta struct {
	Limit      int     `json:"limit"`
	Offset     int     `json:"offset"`
	Next       *string `json:"next"`
	Previous   *string `json:"previous"`
	TotalCount int     `json:"total_count"`
}

type page[T any] struct {
	Meta    Meta `json:"meta"`
	Objects []T  `json:"objects"`
}

// pages yields every object of a paginated list, following meta.next page
// by page; an error ends the sequence.
func pages[T any](ctx context.Context, s *Service, name, path string, q url.Values) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		for {
			resp, err := s.c.Do(ctx, baas.Request{Method: http.MethodGet, Path: path, Query: q, Name: name})
			if err != nil {
				yield(zero, err)
				return
			}
			var p page[T]
			if err := resp.Unmarshal(&p); err != nil {
				yield(zero, err)
				return
			}
			for _, o := range p.Objects {
				if !yield(o, nil) {
					return
				}
			}
			if p.Meta.Next == nil || *p.Meta.Next == "" || len(p.Objects) == 0 {
				return
			}
			next, err := url.Parse(*p.Meta.Next)
			if err != nil {
				yield(zero, &baas.HError{Code: resp.StatusCode, StatusCode: resp.StatusCode, Message: "unexpected response: meta.next is not a URL: " + *p.Meta.Next})
				return
			}
			// Follow the server's next page, on our host: the query holds
			// the position, the path stays ours. A next that does not move
			// would loop for ever.
			if next.Query().Encode() == q.Encode() {
				yield(zero, &baas.HError{Code: resp.StatusCode, StatusCode: resp.StatusCode, Message: "unexpected response: meta.next points at the same page: " + *p.Meta.Next})
				return
			}
			q = next.Query()
		}
	}
}

// Jobs returns the function's job history, newest first, following the
// pages as the sequence is read.
func (s *Service) Jobs(ctx context.Context, name string, filter JobFilter) iter.Seq2[Job, error] {
	if err := checkName(name); err != nil {
		return func(yield func(Job, error) bool) { yield(Job{}, err) }
	}
	return pages[Job](ctx, s, name, fnPath(name, "job/"), filter.query())
}

// Function is a cloud function's record.
type Function struct {
	Name      string `json:"name"`
	Code      string `json:"function_code,omitempty"`
	Remark    string `json:"remark,omitempty"`
	CreatedAt int64  `json:"created_at,omitempty"`
	UpdatedAt int64  `json:"updated_at,omitempty"`
}

// List returns every function of the app, reading all pages.
func (s *Service) List(ctx context.Context) ([]Function, error) {
	var out []Function
	for f, err := range pages[Function](ctx, s, "", basePath, url.Values{}) {
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// Get returns the function name; an unknown one is an *baas.HError 404.
func (s *Service) Get(ctx context.Context, name string) (*Function, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	resp, err := s.c.Do(ctx, baas.Request{Method: http.MethodGet, Path: fnPath(name, ""), Name: name})
	if err != nil {
		return nil, err
	}
	var f Function
	return &f, resp.Unmarshal(&f)
}

// Create creates a function from its name, code and remark (the server
// answers 201).
func (s *Service) Create(ctx context.Context, f Function) (*Function, error) {
	if err := checkName(f.Name); err != nil {
		return nil, err
	}
	resp, err := s.c.Do(ctx, baas.Request{
		Method: http.MethodPost, Path: basePath, Name: f.Name,
		Body: struct {
			Name   string `json:"name"`
			Code   string `json:"function_code"`
			Remark string `json:"remark"`
		}{f.Name, f.Code, f.Remark},
	})
	if err != nil {
		return nil, err
	}
	var out Function
	return &out, resp.Unmarshal(&out)
}

// Update is a change to a function; nil fields stay as they are.
type Update struct {
	Code   *string `json:"function_code,omitempty"`
	Remark *string `json:"remark,omitempty"`
}

// Update changes the function (the server answers 202).
func (s *Service) Update(ctx context.Context, name string, u Update) (*Function, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	resp, err := s.c.Do(ctx, baas.Request{Method: http.MethodPatch, Path: fnPath(name, ""), Name: name, Body: u})
	if err != nil {
		return nil, err
	}
	var out Function
	return &out, resp.Unmarshal(&out)
}

// Delete deletes the function (the server answers 204).
func (s *Service) Delete(ctx context.Context, name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	_, err := s.c.Do(ctx, baas.Request{Method: http.MethodDelete, Path: fnPath(name, ""), Name: name})
	return err
}
