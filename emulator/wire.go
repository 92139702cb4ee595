package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/mincloud-go/baas/emulator/internal/jsjson"
)

// The emulator's own wire types: what it writes is defined here, with its
// own JSON tags, and never by the client's types, so that a client bug is
// not mirrored by the fake that tests it.

// errorAnswer is the platform's error body.
type errorAnswer struct {
	Status   string `json:"status"`
	ErrorMsg string `json:"error_msg"`
}

// resultAnswer is a sync call's answer, {"code","data","error"}.
type resultAnswer struct {
	Code  int             `json:"code"`
	Data  json.RawMessage `json:"data"` // null when the function returned nothing
	Error errorObject     `json:"error"`
}

// errorObject is a function's failure; {} on success.
type errorObject struct {
	Message string `json:"message,omitempty"`
	Type    string `json:"type,omitempty"`
	Stack   string `json:"stack,omitempty"`
}

// debugAnswer is the debug call's answer: the result and the run's figures.
type debugAnswer struct {
	resultAnswer
	JobID         int64   `json:"job_id"`
	ExecutionTime float64 `json:"execution_time"` // ms
	BillingTime   float64 `json:"billing_time"`   // whole ms, at least 1
	MemUsage      int64   `json:"mem_usage"`
	Log           string  `json:"log"`
}

// pageMeta is a listing's meta, with absolute next and previous links.
type pageMeta struct {
	Limit      int     `json:"limit"`
	Offset     int     `json:"offset"`
	Next       *string `json:"next"`
	Previous   *string `json:"previous"`
	TotalCount int     `json:"total_count"`
}

// page is a listing: {"meta":..., "objects":[...]}.
type page[T any] struct {
	Meta    pageMeta `json:"meta"`
	Objects []T      `json:"objects"`
}

// jobObject is a job as the history shows it.
type jobObject struct {
	ID          int64  `json:"id"`
	CreatedAt   int64  `json:"created_at"`
	StartedAt   *int64 `json:"started_at"`
	FinishedAt  *int64 `json:"finished_at"`
	MemUsage    int64  `json:"mem_usage"`
	ServiceType string `json:"service_type"`
	Source      string `json:"source"`
	Status      string `json:"status"`
	UserLogURL  string `json:"user_log_url"`
}

// fnObject is a function as the API shows it.
type fnObject struct {
	Name      string `json:"name"`
	Code      string `json:"function_code"`
	Remark    string `json:"remark"`
	CreatedAt int64  `json:"created_at"`
	UpdatedAt int64  `json:"updated_at"`
}

// codeAnswer is the authorize step's answer.
type codeAnswer struct {
	Code      string `json:"code"`
	ExpiresIn int64  `json:"expires_in"`
}

// tokenAnswer is the access token exchange's answer.
type tokenAnswer struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
}

// jobRequest is the invoke body.
type jobRequest struct {
	FunctionName *string         `json:"function_name"`
	Data         json.RawMessage `json:"data"`
	Sync         *bool           `json:"sync"`
}

// v13Request is the body of the v1.3 invoke and debug calls.
type v13Request struct {
	Data json.RawMessage `json:"data"`
	Sync *bool           `json:"sync"`
}

// fnChange is the body of a create or an update.
type fnChange struct {
	Name   *string `json:"name"`
	Code   *string `json:"function_code"`
	Remark *string `json:"remark"`
}

// asyncAck is an async call's answer.
var asyncAck = []byte(`{"status":"ok"}`)

// jsonContentType is shared by every answer; nothing changes it.
var jsonContentType = []string{"application/json"}

// writeError answers as the platform does: {"status":"error","error_msg":...}.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeObject(w, status, errorAnswer{"error", msg})
}

// writeObject answers v as JSON.stringify would write it: no HTML
// escaping, no newline.
func writeObject(w http.ResponseWriter, status int, v any) {
	b, err := jsjson.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "cannot encode the answer")
		return
	}
	writeJSON(w, status, b)
}

// writeJSON answers with body.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header()["Content-Type"] = jsonContentType
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// resultOf is the wire form of a job's outcome.
func resultOf(res *Result) resultAnswer {
	out := resultAnswer{Code: res.Code, Data: res.Data}
	if e := res.Error; e != nil {
		out.Error = errorObject{Message: e.Message, Type: e.Type, Stack: e.Stack}
	}
	return out
}

// render turns a sync job's outcome into the answer's body.
type render func(j *job, res *Result) ([]byte, error)

// renderResult answers {"code","data","error"}.
func renderResult(_ *job, res *Result) ([]byte, error) { return jsjson.Marshal(resultOf(res)) }

// renderDebug answers the debug call: the result, the job id, the run's
// time, billed time and memory, and its log.
func renderDebug(j *job, res *Result) ([]byte, error) {
	rec := j.snapshot()
	ms := float64(rec.FinishedAt.Sub(rec.StartedAt).Microseconds()) / 1000
	return jsjson.Marshal(debugAnswer{
		resultAnswer:  resultOf(res),
		JobID:         rec.ID,
		ExecutionTime: ms,
		BillingTime:   math.Max(1, math.Ceil(ms)),
		MemUsage:      rec.MemUsage,
		Log:           strings.Join(rec.Log, "\n"),
	})
}

// readLimited reads the request body up to the cap, answering 413 past it
// (and 400 when it cannot be read) itself.
func (s *Server) readLimited(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := readBody(http.MaxBytesReader(w, r.Body, s.cfg.maxBodyBytes), r.ContentLength, s.cfg.maxBodyBytes)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("Request body too large: the limit is %d bytes.", s.cfg.maxBodyBytes))
		return nil, false
	case err != nil:
		writeError(w, http.StatusBadRequest, "Cannot read the request body.")
		return nil, false
	}
	return body, true
}

// readObject reads a body that must be a JSON object into v, answering
// the error (413, 400) itself. An empty body is allowed when emptyOK.
func (s *Server) readObject(w http.ResponseWriter, r *http.Request, v any, emptyOK bool) bool {
	body, ok := s.readLimited(w, r)
	if !ok {
		return false
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 && emptyOK {
		return true
	}
	if len(trimmed) == 0 || trimmed[0] != '{' || json.Unmarshal(trimmed, v) != nil {
		writeError(w, http.StatusBadRequest, "The request body must be a JSON object.")
		return false
	}
	return true
}

// readBody reads a body whose length is known into one buffer of that size.
func readBody(r io.Reader, length, limit int64) ([]byte, error) {
	if length < 0 || length > limit {
		return io.ReadAll(r)
	}
	buf := make([]byte, length)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	return buf, nil
}
