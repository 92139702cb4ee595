package emulator

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/mincloud-go/baas/function"
)

// handleInvoke serves POST /hserve/v1/cloud-function/job/.
func (s *Server) handleInvoke(w http.ResponseWriter, r *http.Request) {
	switch id := r.Header.Get("X-Hydrogen-Client-ID"); {
	case id == "":
		writeError(w, http.StatusUnauthorized, "Authentication credentials were not provided: X-Hydrogen-Client-ID is missing.")
		return
	case id != s.ClientID:
		writeError(w, http.StatusUnauthorized, "Invalid client id.")
		return
	}
	source := SourceSDK
	if s.fromFunction(r) {
		source = SourceCloudFunction
	}
	var user *function.User
	if auth := r.Header.Get("Authorization"); auth != "" && source == SourceSDK {
		tok, ok := strings.CutPrefix(auth, "Hydrogen-r1 ")
		u, known := s.userOf(tok)
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

// handleOpenInvoke serves POST /oserve/v1/cloud-function/job/: the Web
// API's invoke, authorised by the access token.
func (s *Server) handleOpenInvoke(w http.ResponseWriter, r *http.Request) {
	req, ok := s.readJobRequest(w, r)
	if !ok {
		return
	}
	s.startJob(w, r, SourceOpenAPI, *req.FunctionName, req.Data, req.Sync == nil || *req.Sync, nil, renderResult)
}

// readJobRequest reads and checks the body, answering the error itself.
func (s *Server) readJobRequest(w http.ResponseWriter, r *http.Request) (*jobRequest, bool) {
	var req jobRequest
	if !s.readObject(w, r, &req, false) {
		return nil, false
	}
	if req.FunctionName == nil || *req.FunctionName == "" {
		writeError(w, http.StatusBadRequest, "function_name is required.")
		return nil, false
	}
	return &req, true
}

// readV13 reads the v1.3 invoke and debug body; it may be empty, and data
// defaults to {}.
func (s *Server) readV13(w http.ResponseWriter, r *http.Request) (*v13Request, bool) {
	body, ok := s.readLimited(w, r)
	if !ok {
		return nil, false
	}
	var req v13Request
	if len(bytes.TrimSpace(body)) > 0 && json.Unmarshal(body, &req) != nil {
		writeError(w, http.StatusBadRequest, "The request body must be a JSON object.")
		return nil, false
	}
	if req.Data == nil {
		req.Data = json.RawMessage(`{}`) // the endpoint's default
	}
	return &req, true
}

// invokeByPath serves POST /oserve/v1.3/cloud-function/{name}/job/.
func (s *Server) invokeByPath(w http.ResponseWriter, r *http.Request) {
	req, ok := s.readV13(w, r)
	if !ok {
		return
	}
	s.startJob(w, r, SourceOpenAPI, r.PathValue("name"), req.Data, req.Sync == nil || *req.Sync, nil, renderResult)
}

// debug serves POST /oserve/v1.3/cloud-function/{name}/debug/: always
// sync, answered with the run's figures and log.
func (s *Server) debug(w http.ResponseWriter, r *http.Request) {
	req, ok := s.readV13(w, r)
	if !ok {
		return
	}
	s.startJob(w, r, SourceOpenAPI, r.PathValue("name"), req.Data, true, nil, renderDebug)
}

// startJob runs the function: to its end for a sync call, into the queue
// for an async one.
func (s *Server) startJob(w http.ResponseWriter, r *http.Request, source, name string, data json.RawMessage, sync bool, user *function.User, rd render) {
	var h function.Handler
	var js *jsFunction
	if !s.withFunction(name, func(f *fnRecord) { h, js = f.h, f.js }) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("Cloud function %q not found.", name))
		return
	}
	if h == nil && js == nil {
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
	j := s.newJob(name, source, sync, h, js, ev, traceIDOf(r.Header.Get("Traceparent")))
	if !sync {
		if !s.sched.enqueue(j) { // the queue is full: as a sync call that got no slot
			j.finish(StatusScheduleFailed, nil)
			writeError(w, http.StatusBadRequest, "Cloud function schedule failed")
			return
		}
		writeJSON(w, http.StatusOK, asyncAck)
		return
	}
	answer := func(res *Result, early bool) {
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
	if !s.sched.runSync(r.Context(), func() { j.run(s.cfg.syncTimeout, answer) }) {
		j.finish(StatusScheduleFailed, nil)
		writeError(w, http.StatusBadRequest, "Cloud function schedule failed")
	}
}

// cannotRun stands in for a function created over the Open API without
// function_code: there is nothing to run until an update gives it code.
func cannotRun(name string) function.Handler {
	return func(context.Context, *function.Event) (any, error) {
		return nil, &function.Error{Type: "Error", Message: fmt.Sprintf(
			"function %s has no code: give it function_code (mincloud deploy %s, or PATCH the function over the Open API)", name, name)}
	}
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// fromFunction reports whether r comes from inside one of the emulator's
// functions: it carries the caller key, compared in constant time (the key
// makes a call super-admin on the data API).
func (s *Server) fromFunction(r *http.Request) bool {
	key := r.Header.Get(callerHeader)
	return key != "" && subtle.ConstantTimeCompare([]byte(key), []byte(s.callerKey)) == 1
}
