package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/mincloud-go/baas"

	"github.com/mincloud-go/baas/function"
)

// Paths the emulator serves.
const (
	pathInvoke = "/hserve/v1/cloud-function/job/"
)

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(pathInvoke, s.handleInvoke)
	mux.HandleFunc(pathAuthorize, s.handleAuthorize)
	mux.HandleFunc(pathAuthorizeNext, s.handleAuthorizeNext)
	mux.HandleFunc(pathAuthorizeCode, s.handleAuthorizeCode)
	mux.HandleFunc(pathAccessToken, s.handleAccessToken)
	mux.HandleFunc(pathOpenInvoke, s.handleOpenInvoke)
	mux.HandleFunc(pathFunctions, s.handleFunctions)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "Not found: "+r.URL.Path)
	})
	return cors(mux)
}

// cors lets the official JS SDK call the emulator from a browser page.
func cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if origin := r.Header.Get("Origin"); origin != "" {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Vary", "Origin")
		} else {
			h.Set("Access-Control-Allow-Origin", "*")
		}
		if r.Method == http.MethodOptions {
			h.Set("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE, OPTIONS")
			if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
				h.Set("Access-Control-Allow-Headers", req)
			} else {
				h.Set("Access-Control-Allow-Headers", "Content-Type, Authorization, X-Hydrogen-Client-ID, X-Hydrogen-Env-ID, "+
					"X-Hydrogen-Client-Version, X-Hydrogen-Client-Platform, X-Hydrogen-Client-SDK-Type")
			}
			h.Set("Access-Control-Max-Age", "86400")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// jsonContentType is shared by every answer; nothing changes it.
var jsonContentType = []string{"application/json"}

// writeError answers as the platform does: {"status":"error","error_msg":...}.
func writeError(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(struct {
		Status   string `json:"status"`
		ErrorMsg string `json:"error_msg"`
	}{"error", msg})
	writeJSON(w, status, b)
}

// writeJSON answers with body.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header()["Content-Type"] = jsonContentType
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// jobRequest is the invoke body.
type jobRequest struct {
	FunctionName *string         `json:"function_name"`
	Data         json.RawMessage `json:"data"`
	Sync         *bool           `json:"sync"`
}

// handleInvoke serves POST /hserve/v1/cloud-function/job/.
func (s *Server) handleInvoke(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST, OPTIONS")
		writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("Method %q not allowed.", r.Method))
		return
	}
	switch id := r.Header.Get("X-Hydrogen-Client-ID"); {
	case id == "":
		writeError(w, http.StatusUnauthorized, "Authentication credentials were not provided: X-Hydrogen-Client-ID is missing.")
		return
	case id != s.ClientID:
		writeError(w, http.StatusUnauthorized, "Invalid client id.")
		return
	}
	source := SourceSDK
	if key := r.Header.Get(callerHeader); key != "" && key == s.callerKey {
		source = SourceCloudFunction
	}
	var user *function.User
	if auth := r.Header.Get("Authorization"); auth != "" && source == SourceSDK {
		tok, ok := strings.CutPrefix(auth, "Hydrogen-r1 ")
		s.mu.Lock()
		u, known := s.users[tok]
		s.mu.Unlock()
		if !ok || !known {
			writeError(w, http.StatusUnauthorized, "Invalid token.")
			return
		}
		user = &u
	}
	req, ok := s.readJobRequest(w, r)
	if !ok {
		return
	}
	s.startJob(w, r, source, *req.FunctionName, req.Data, req.Sync == nil || *req.Sync, user, renderResult)
}

// readJobRequest reads and checks the body, answering the error itself.
func (s *Server) readJobRequest(w http.ResponseWriter, r *http.Request) (*jobRequest, bool) {
	body, ok := s.readLimited(w, r)
	if !ok {
		return nil, false
	}
	var req jobRequest
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' || json.Unmarshal(trimmed, &req) != nil {
		writeError(w, http.StatusBadRequest, "The request body must be a JSON object.")
		return nil, false
	}
	if req.FunctionName == nil || *req.FunctionName == "" {
		writeError(w, http.StatusBadRequest, "function_name is required.")
		return nil, false
	}
	return &req, true
}

// render turns a sync job's outcome into the answer's body.
type render func(j *job, res *baas.Result) ([]byte, error)

// renderResult answers {"code","data","error"}, unescaped as
// JSON.stringify writes it (json.Marshal would escape HTML).
func renderResult(_ *job, res *baas.Result) ([]byte, error) { return res.MarshalJSON() }

// startJob runs the function: to its end for a sync call, into the queue
// for an async one.
func (s *Server) startJob(w http.ResponseWriter, r *http.Request, source, name string, data json.RawMessage, sync bool, user *function.User, rd render) {
	s.mu.Lock()
	f, ok := s.functions[name]
	var h function.Handler
	if ok {
		h = f.h
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("Cloud function %q not found.", name))
		return
	}
	if h == nil {
		h = cannotRun(name)
	}
	limit := s.cfg.syncTimeout
	if !sync {
		limit = s.cfg.asyncTimeout
	}
	ev := &function.Event{
		Data:            data,
		EventType:       source,
		MemoryLimitInMB: s.cfg.memoryLimitInMB,
		MiniappID:       s.cfg.miniappID,
		TimeLimitInMS:   limit.Milliseconds(),
		Request: &function.Request{
			Meta: function.Meta{IPAddress: remoteIP(r), UserAgent: r.UserAgent()},
			User: user,
		},
	}
	if envID := r.Header.Get("X-Hydrogen-Env-ID"); envID != "" {
		ev.Env = &function.Env{ID: envID, Name: s.cfg.envNames[envID]}
	}
	j := s.newJob(name, source, sync, h, ev)
	if !sync {
		s.enqueue(j)
		writeJSON(w, http.StatusOK, []byte(`{"status":"ok"}`))
		return
	}
	answer := func(res *baas.Result, early bool) {
		body, err := rd(j, res)
		if err != nil { // cannot happen: the handler's data was encoded once already
			writeError(w, http.StatusInternalServerError, "cannot encode the result")
			return
		}
		if early {
			// The handler runs on and holds this connection: send the whole
			// answer now, and tell the client not to reuse the connection.
			w.Header().Set("Connection", "close")
		}
		writeJSON(w, http.StatusOK, body)
		if early {
			http.NewResponseController(w).Flush()
		}
	}
	if !s.runSync(r.Context(), j, answer) {
		writeError(w, http.StatusBadRequest, "Cloud function schedule failed")
	}
}

// cannotRun stands in for a function created over the Open API: the
// emulator runs Go handlers, not the JavaScript it was given.
func cannotRun(name string) function.Handler {
	return func(context.Context, *function.Event) (any, error) {
		return nil, &function.Error{Type: "Error", Message: fmt.Sprintf(
			"the emulator cannot run %s: it was created with code over the Open API, and the emulator runs only functions registered in Go", name)}
	}
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

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
