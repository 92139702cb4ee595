package emulator

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

const (
	defaultPage = 20
	maxPage     = 1000
)

// paginate reads the request's limit and offset for total items and builds
// the meta with absolute next and previous links.
func (s *Server) paginate(r *http.Request, total int) (meta pageMeta, from, to int, ok bool) {
	q := r.URL.Query()
	limit, offset := defaultPage, 0
	var err error
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 {
			return pageMeta{}, 0, 0, false
		}
		limit = min(limit, maxPage)
	}
	if v := q.Get("offset"); v != "" {
		if offset, err = strconv.Atoi(v); err != nil || offset < 0 {
			return pageMeta{}, 0, 0, false
		}
	}
	meta = pageMeta{Limit: limit, Offset: offset, TotalCount: total}
	link := func(off int) *string {
		q.Set("limit", strconv.Itoa(limit))
		q.Set("offset", strconv.Itoa(off))
		u := s.URL + r.URL.Path + "?" + q.Encode()
		return &u
	}
	if offset+limit < total {
		meta.Next = link(offset + limit)
	}
	if offset > 0 {
		meta.Previous = link(max(offset-limit, 0))
	}
	from = min(offset, total)
	return meta, from, min(from+limit, total), true
}

// jobFilter is the history's query: the filters beyond creation time.
type jobFilter struct {
	source, status, serviceType string
}

func (f jobFilter) none() bool { return f == jobFilter{} }

// match reads the job's fields under its lock (the status changes).
func (f jobFilter) match(j *job) bool {
	if f.source != "" && j.rec.Source != f.source { // set at creation
		return false
	}
	if f.serviceType != "" && j.rec.ServiceType() != f.serviceType {
		return false
	}
	if f.status != "" {
		j.mu.Lock()
		st := j.rec.Status
		j.mu.Unlock()
		return st == f.status
	}
	return true
}

// jobHistory serves GET /oserve/v1.3/cloud-function/{name}/job/: newest
// first, filtered by source, status, service_type and creation time. A
// page filtered by time only costs a binary search and its own length;
// the other filters are checked job by job over the time range, a chunk
// at a time, so that no lock is held while they are.
func (s *Server) jobHistory(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	q := r.URL.Query()
	var after, before int64 = math.MinInt64, math.MaxInt64
	for key, dst := range map[string]*int64{"created_at__gte": &after, "created_at__lte": &before} {
		if v := q.Get(key); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				writeError(w, http.StatusBadRequest, key+" must be a unix time in seconds.")
				return
			}
			*dst = n
		}
	}
	filter := jobFilter{source: q.Get("source"), status: q.Get("status"), serviceType: q.Get("service_type")}
	if !s.withFunction(name, nil) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("Cloud function %q not found.", name))
		return
	}
	meta, _, _, ok := s.paginate(r, 0) // reads and checks limit and offset
	if !ok {
		writeError(w, http.StatusBadRequest, "limit and offset must be non-negative integers.")
		return
	}
	var picked []*job
	total := 0
	if filter.none() {
		picked, total = s.records.pageBetween(name, after, before, meta.Offset, meta.Limit)
	} else {
		// Count every match for total_count; keep the page's.
		for j := range s.records.newestBetween(name, after, before) {
			if !filter.match(j) {
				continue
			}
			if total >= meta.Offset && total < meta.Offset+meta.Limit {
				picked = append(picked, j)
			}
			total++
		}
	}
	meta, _, _, _ = s.paginate(r, total)
	logBase := s.URL + pathFunctions + url.PathEscape(name) + "/job/"
	objects := make([]jobObject, 0, len(picked))
	for _, jj := range picked {
		j := jj.summary()
		objects = append(objects, jobObject{
			ID: j.ID, CreatedAt: j.CreatedAt.Unix(), StartedAt: unixOrNil(j.StartedAt), FinishedAt: unixOrNil(j.FinishedAt),
			MemUsage: j.MemUsage, ServiceType: j.ServiceType(), Source: j.Source, Status: j.Status,
			UserLogURL: logBase + strconv.FormatInt(j.ID, 10) + "/log/",
		})
	}
	writeObject(w, http.StatusOK, page[jobObject]{Meta: meta, Objects: objects})
}

func unixOrNil(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	u := t.Unix()
	return &u
}

// jobLog serves a job's log as text, the history's user_log_url.
func (s *Server) jobLog(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	j, ok := s.Job(n)
	if err != nil || !ok || j.Function != r.PathValue("name") {
		writeError(w, http.StatusNotFound, "Not found.")
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	for _, line := range j.Log {
		fmt.Fprintln(w, line)
	}
}
