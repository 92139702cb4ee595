package emulator

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mincloud-go/baas"
	"github.com/mincloud-go/baas/function"
	"github.com/mincloud-go/baas/manage"
)

// The Open API's paths, as protocol.md §4 names them.
const (
	pathAuthorize     = "/api/oauth2/hydrogen/openapi/authorize/"
	pathAuthorizeNext = "/api/oauth2/hydrogen/openapi/authorize/confirm/"
	pathAuthorizeCode = "/api/oauth2/hydrogen/openapi/authorize/code/"
	pathAccessToken   = "/api/oauth2/access_token/"
	pathOpenInvoke    = "/oserve/v1/cloud-function/job/"
	pathFunctions     = "/oserve/v1.3/cloud-function/"

	oauthCookie    = "mincloud_oauth"
	codeLifetime   = 10 * time.Minute
	defaultPage    = 20
	maxPage        = 1000
	authorizeWait  = 2 * time.Minute // how long the redirect dance may take
	bearerPrefix   = "Bearer "
	tokenTypeValue = "Bearer"
)

// oauthState holds the authorize dance's sessions, the codes and the
// access tokens.
type oauthState struct {
	mu       sync.Mutex
	sessions map[string]time.Time // cookie value → expiry
	codes    map[string]time.Time // code → expiry; used once
	tokens   map[string]time.Time // access token → expiry
	issued   int
}

func newOAuthState() *oauthState {
	return &oauthState{sessions: map[string]time.Time{}, codes: map[string]time.Time{}, tokens: map[string]time.Time{}}
}

// TokensIssued returns how many access tokens the emulator has issued.
func (s *Server) TokensIssued() int {
	s.oauth.mu.Lock()
	defer s.oauth.mu.Unlock()
	return s.oauth.issued
}

// RevokeTokens makes every access token issued so far invalid, as if they
// had expired on the server: the next Open API call is answered 401.
func (s *Server) RevokeTokens() {
	s.oauth.mu.Lock()
	clear(s.oauth.tokens)
	s.oauth.mu.Unlock()
}

// take removes key from m and reports whether it was there and unexpired.
func take(m map[string]time.Time, key string) bool {
	exp, ok := m[key]
	delete(m, key)
	return ok && time.Now().Before(exp)
}

// credentials reads client_id and client_secret (and the rest) from a JSON
// body or a form, as both clients in the wild send one or the other.
func credentials(r *http.Request) (map[string]string, bool) {
	out := map[string]string{}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var raw map[string]any
		if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20)).Decode(&raw); err != nil {
			return nil, false
		}
		for k, v := range raw {
			if s, ok := v.(string); ok {
				out[k] = s
			}
		}
		return out, true
	}
	if err := r.ParseMultipartForm(1 << 20); err != nil && err != http.ErrNotMultipart {
		return nil, false
	}
	for k := range r.Form {
		out[k] = r.Form.Get(k)
	}
	return out, true
}

func (s *Server) validClient(creds map[string]string) bool {
	return creds["client_id"] == s.ClientID && creds["client_secret"] == s.ClientSecret
}

// handleAuthorize is the first step: the credentials are checked, a
// session cookie is set, and the answer is a redirect.
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("Method %q not allowed.", r.Method))
		return
	}
	creds, ok := credentials(r)
	if !ok {
		writeError(w, http.StatusBadRequest, "The request body must be JSON or a form.")
		return
	}
	if !s.validClient(creds) {
		writeError(w, http.StatusUnauthorized, "Invalid client_id or client_secret.")
		return
	}
	session := randomHex(16)
	s.oauth.mu.Lock()
	s.oauth.sessions[session] = time.Now().Add(authorizeWait)
	s.oauth.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: oauthCookie, Value: session, Path: "/api/oauth2/", HttpOnly: true})
	http.Redirect(w, r, pathAuthorizeNext, http.StatusFound)
}

// session returns the dance's session cookie, if it is a live one.
func (s *Server) session(r *http.Request) (string, bool) {
	c, err := r.Cookie(oauthCookie)
	if err != nil {
		return "", false
	}
	s.oauth.mu.Lock()
	defer s.oauth.mu.Unlock()
	exp, ok := s.oauth.sessions[c.Value]
	return c.Value, ok && time.Now().Before(exp)
}

// handleAuthorizeNext is the second hop: it needs the cookie.
func (s *Server) handleAuthorizeNext(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.session(r); !ok {
		writeError(w, http.StatusUnauthorized, "Authorization session missing: the client must keep cookies across the redirects.")
		return
	}
	http.Redirect(w, r, pathAuthorizeCode, http.StatusFound)
}

// handleAuthorizeCode is the last hop: it spends the session and answers
// the code.
func (s *Server) handleAuthorizeCode(w http.ResponseWriter, r *http.Request) {
	session, ok := s.session(r)
	if !ok {
		writeError(w, http.StatusUnauthorized, "Authorization session missing: the client must keep cookies across the redirects.")
		return
	}
	code := randomHex(16)
	s.oauth.mu.Lock()
	delete(s.oauth.sessions, session)
	s.oauth.codes[code] = time.Now().Add(codeLifetime)
	s.oauth.mu.Unlock()
	b, _ := json.Marshal(map[string]any{"code": code, "expires_in": int(codeLifetime.Seconds())})
	writeJSON(w, http.StatusOK, b)
}

// handleAccessToken is the second step: the code for an access token.
func (s *Server) handleAccessToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("Method %q not allowed.", r.Method))
		return
	}
	creds, ok := credentials(r)
	switch {
	case !ok:
		writeError(w, http.StatusBadRequest, "The request body must be JSON or a form.")
		return
	case !s.validClient(creds):
		writeError(w, http.StatusUnauthorized, "Invalid client_id or client_secret.")
		return
	case creds["grant_type"] != "authorization_code":
		writeError(w, http.StatusBadRequest, "grant_type must be authorization_code.")
		return
	}
	lifetime := max(s.cfg.tokenLifetime.Round(time.Second), time.Second)
	token, refresh := randomHex(20), randomHex(20)
	s.oauth.mu.Lock()
	valid := take(s.oauth.codes, creds["code"])
	if valid {
		s.oauth.tokens[token] = time.Now().Add(lifetime)
		s.oauth.issued++
	}
	s.oauth.mu.Unlock()
	if !valid {
		writeError(w, http.StatusBadRequest, "Invalid or expired code.")
		return
	}
	b, _ := json.Marshal(map[string]any{
		"access_token": token, "token_type": tokenTypeValue, "expires_in": int64(lifetime.Seconds()),
		"refresh_token": refresh, "scope": "openapi",
	})
	writeJSON(w, http.StatusOK, b)
}

// bearer checks the Open API's access token, answering 401 itself.
func (s *Server) bearer(w http.ResponseWriter, r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), bearerPrefix)
	if ok {
		s.oauth.mu.Lock()
		exp, known := s.oauth.tokens[tok]
		s.oauth.mu.Unlock()
		if known && time.Now().Before(exp) {
			return true
		}
	}
	writeError(w, http.StatusUnauthorized, "Invalid or expired access token.")
	return false
}

// handleOpenInvoke serves POST /oserve/v1/cloud-function/job/: the Web
// API's invoke, authorised by the access token.
func (s *Server) handleOpenInvoke(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST, OPTIONS")
		writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("Method %q not allowed.", r.Method))
		return
	}
	if !s.bearer(w, r) {
		return
	}
	req, ok := s.readJobRequest(w, r)
	if !ok {
		return
	}
	s.startJob(w, r, SourceOpenAPI, *req.FunctionName, req.Data, req.Sync == nil || *req.Sync, nil, renderResult)
}

// handleFunctions serves everything under /oserve/v1.3/cloud-function/.
func (s *Server) handleFunctions(w http.ResponseWriter, r *http.Request) {
	if !s.bearer(w, r) {
		return
	}
	rest := strings.TrimPrefix(r.URL.Path, pathFunctions)
	parts := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	name := ""
	if rest != "" {
		var err error
		if name, err = url.PathUnescape(parts[0]); err != nil {
			writeError(w, http.StatusNotFound, "Not found.")
			return
		}
	}
	method := func(allowed ...string) bool {
		for _, m := range allowed {
			if r.Method == m {
				return true
			}
		}
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("Method %q not allowed.", r.Method))
		return false
	}
	switch {
	case rest == "":
		if method(http.MethodGet, http.MethodPost) {
			if r.Method == http.MethodGet {
				s.listFunctions(w, r)
			} else {
				s.createFunction(w, r)
			}
		}
	case len(parts) == 1:
		if method(http.MethodGet, http.MethodPatch, http.MethodDelete) {
			s.oneFunction(w, r, name)
		}
	case len(parts) == 2 && parts[1] == "job":
		if method(http.MethodGet, http.MethodPost) {
			if r.Method == http.MethodGet {
				s.jobHistory(w, r, name)
			} else {
				s.invokeByPath(w, r, name)
			}
		}
	case len(parts) == 2 && parts[1] == "debug":
		if method(http.MethodPost) {
			s.debug(w, r, name)
		}
	case len(parts) == 4 && parts[1] == "job" && parts[3] == "log":
		if method(http.MethodGet) {
			s.jobLog(w, name, parts[2])
		}
	default:
		writeError(w, http.StatusNotFound, "Not found.")
	}
}

// v13Request is the body of the v1.3 invoke and debug calls.
type v13Request struct {
	Data json.RawMessage `json:"data"`
	Sync *bool           `json:"sync"`
}

func (s *Server) readV13(w http.ResponseWriter, r *http.Request) (*v13Request, bool) {
	body, ok := s.readLimited(w, r)
	if !ok {
		return nil, false
	}
	var req v13Request
	if len(strings.TrimSpace(string(body))) > 0 {
		if json.Unmarshal(body, &req) != nil {
			writeError(w, http.StatusBadRequest, "The request body must be a JSON object.")
			return nil, false
		}
	}
	if req.Data == nil {
		req.Data = json.RawMessage(`{}`) // the endpoint's default
	}
	return &req, true
}

func (s *Server) invokeByPath(w http.ResponseWriter, r *http.Request, name string) {
	req, ok := s.readV13(w, r)
	if !ok {
		return
	}
	s.startJob(w, r, SourceOpenAPI, name, req.Data, req.Sync == nil || *req.Sync, nil, renderResult)
}

func (s *Server) debug(w http.ResponseWriter, r *http.Request, name string) {
	req, ok := s.readV13(w, r)
	if !ok {
		return
	}
	s.startJob(w, r, SourceOpenAPI, name, req.Data, true, nil, renderDebug)
}

// renderDebug answers the debug call: the result, the job id, the run's
// time, billed time and memory, and its log.
func renderDebug(j *job, res *baas.Result) ([]byte, error) {
	rec := j.snapshot()
	ms := float64(rec.FinishedAt.Sub(rec.StartedAt).Microseconds()) / 1000
	out := *res
	out.Extra = map[string]json.RawMessage{}
	for k, v := range map[string]any{
		"job_id":         rec.ID,
		"execution_time": ms,
		"billing_time":   math.Max(1, math.Ceil(ms)), // whole milliseconds, at least one
		"mem_usage":      rec.MemUsage,
		"log":            strings.Join(rec.Log, "\n"),
	} {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		out.Extra[k] = b
	}
	return out.MarshalJSON()
}

// paginate cuts total items by the request's limit and offset and builds
// the meta with absolute next and previous links.
func (s *Server) paginate(r *http.Request, total int) (manage.Meta, int, int, bool) {
	q := r.URL.Query()
	limit, offset := defaultPage, 0
	var err error
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 {
			return manage.Meta{}, 0, 0, false
		}
		limit = min(limit, maxPage)
	}
	if v := q.Get("offset"); v != "" {
		if offset, err = strconv.Atoi(v); err != nil || offset < 0 {
			return manage.Meta{}, 0, 0, false
		}
	}
	p := manage.Meta{Limit: limit, Offset: offset, TotalCount: total}
	link := func(off int) *string {
		q.Set("limit", strconv.Itoa(limit))
		q.Set("offset", strconv.Itoa(off))
		u := s.URL + r.URL.Path + "?" + q.Encode()
		return &u
	}
	if offset+limit < total {
		p.Next = link(offset + limit)
	}
	if offset > 0 {
		p.Previous = link(max(offset-limit, 0))
	}
	start := min(offset, total)
	return p, start, min(start+limit, total), true
}

func unixOrNil(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	u := t.Unix()
	return &u
}

// jobHistory serves GET /oserve/v1.3/cloud-function/<name>/job/: newest
// first, filtered by source, status, service_type and creation time.
func (s *Server) jobHistory(w http.ResponseWriter, r *http.Request, name string) {
	s.mu.Lock()
	_, known := s.functions[name]
	s.mu.Unlock()
	if !known {
		writeError(w, http.StatusNotFound, fmt.Sprintf("Cloud function %q not found.", name))
		return
	}
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
	s.mu.Lock()
	all := append([]*job(nil), s.jobs...)
	s.mu.Unlock()
	var matched []Job
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].rec.Function != name { // set at creation, never changed
			continue
		}
		j := all[i].summary()
		switch {
		case j.Function != name,
			q.Get("source") != "" && j.Source != q.Get("source"),
			q.Get("status") != "" && j.Status != q.Get("status"),
			q.Get("service_type") != "" && j.ServiceType() != q.Get("service_type"),
			j.CreatedAt.Unix() < after, j.CreatedAt.Unix() > before:
			continue
		}
		matched = append(matched, j)
	}
	meta, from, to, ok := s.paginate(r, len(matched))
	if !ok {
		writeError(w, http.StatusBadRequest, "limit and offset must be non-negative integers.")
		return
	}
	objects := make([]manage.Job, 0, to-from)
	for _, j := range matched[from:to] {
		objects = append(objects, manage.Job{
			ID: j.ID, CreatedAt: j.CreatedAt.Unix(), StartedAt: unixOrNil(j.StartedAt), FinishedAt: unixOrNil(j.FinishedAt),
			MemUsage: j.MemUsage, ServiceType: j.ServiceType(), Source: j.Source, Status: j.Status,
			UserLogURL: fmt.Sprintf("%s%s%s/job/%d/log/", s.URL, pathFunctions, url.PathEscape(name), j.ID),
		})
	}
	writeObject(w, http.StatusOK, map[string]any{"meta": meta, "objects": objects})
}

// jobLog serves a job's log as text, the history's user_log_url.
func (s *Server) jobLog(w http.ResponseWriter, name, id string) {
	n, err := strconv.ParseInt(id, 10, 64)
	j, ok := s.Job(n)
	if err != nil || !ok || j.Function != name {
		writeError(w, http.StatusNotFound, "Not found.")
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	for _, line := range j.Log {
		fmt.Fprintln(w, line)
	}
}

// fnObject is a function as the API shows it.
type fnObject struct {
	Name      string `json:"name"`
	Code      string `json:"function_code"`
	Remark    string `json:"remark"`
	CreatedAt int64  `json:"created_at"`
	UpdatedAt int64  `json:"updated_at"`
}

func (f *fnRecord) object() fnObject {
	return fnObject{Name: f.name, Code: f.code, Remark: f.remark, CreatedAt: f.created.Unix(), UpdatedAt: f.updated.Unix()}
}

func writeObject(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "cannot encode the answer")
		return
	}
	writeJSON(w, status, b)
}

func (s *Server) listFunctions(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	all := make([]fnObject, 0, len(s.functions))
	for _, f := range s.functions {
		all = append(all, f.object())
	}
	s.mu.Unlock()
	sort.Slice(all, func(i, k int) bool { return all[i].Name < all[k].Name })
	meta, from, to, ok := s.paginate(r, len(all))
	if !ok {
		writeError(w, http.StatusBadRequest, "limit and offset must be non-negative integers.")
		return
	}
	writeObject(w, http.StatusOK, map[string]any{"meta": meta, "objects": all[from:to]})
}

// fnChange is the body of a create or an update.
type fnChange struct {
	Name   *string `json:"name"`
	Code   *string `json:"function_code"`
	Remark *string `json:"remark"`
}

func (s *Server) readChange(w http.ResponseWriter, r *http.Request) (*fnChange, bool) {
	var c fnChange
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, s.cfg.maxBodyBytes)).Decode(&c); err != nil {
		writeError(w, http.StatusBadRequest, "The request body must be a JSON object.")
		return nil, false
	}
	return &c, true
}

func (s *Server) createFunction(w http.ResponseWriter, r *http.Request) {
	c, ok := s.readChange(w, r)
	if !ok {
		return
	}
	if c.Name == nil || *c.Name == "" || strings.Contains(*c.Name, "/") {
		writeError(w, http.StatusBadRequest, "name is required and may not contain /.")
		return
	}
	now := time.Now()
	f := &fnRecord{name: *c.Name, created: now, updated: now}
	if c.Code != nil {
		f.code, f.h = *c.Code, s.codeHandler(f.name, *c.Code)
	}
	if c.Remark != nil {
		f.remark = *c.Remark
	}
	s.mu.Lock()
	_, exists := s.functions[f.name]
	if !exists {
		s.functions[f.name] = f
	}
	obj := f.object()
	s.mu.Unlock()
	if exists {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("Cloud function %q already exists.", f.name))
		return
	}
	writeObject(w, http.StatusCreated, obj)
}

func (s *Server) oneFunction(w http.ResponseWriter, r *http.Request, name string) {
	var change *fnChange
	if r.Method == http.MethodPatch {
		var ok bool
		if change, ok = s.readChange(w, r); !ok {
			return
		}
	}
	var h function.Handler
	if change != nil && change.Code != nil {
		h = s.codeHandler(name, *change.Code)
	}
	s.mu.Lock()
	f, ok := s.functions[name]
	var obj fnObject
	if ok {
		switch r.Method {
		case http.MethodDelete:
			delete(s.functions, name)
		case http.MethodPatch:
			if change.Code != nil {
				f.code, f.h = *change.Code, h // new code: no longer the Go handler
			}
			if change.Remark != nil {
				f.remark = *change.Remark
			}
			f.updated = time.Now()
		}
		obj = f.object()
	}
	s.mu.Unlock()
	switch {
	case !ok:
		writeError(w, http.StatusNotFound, fmt.Sprintf("Cloud function %q not found.", name))
	case r.Method == http.MethodDelete:
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodPatch:
		writeObject(w, http.StatusAccepted, obj)
	default:
		writeObject(w, http.StatusOK, obj)
	}
}
