package emulator

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// The function endpoints' paths.
const (
	pathInvoke     = "/hserve/v1/cloud-function/job/"
	pathOpenInvoke = "/oserve/v1/cloud-function/job/"
	pathFunctions  = "/oserve/v1.3/cloud-function/"
)

// route is one endpoint: a method on a path pattern. bearer routes need
// an Open API access token.
type route struct {
	method, path string
	bearer       bool
	h            http.HandlerFunc
}

func (s *Server) routes() http.Handler {
	fn := pathFunctions + "{name}/"
	table := []route{
		{"POST", pathInvoke, false, s.handleInvoke},
		{"POST", pathAuthorize, false, s.handleAuthorize},
		// The redirects are followed with whatever method the client picks.
		{"", pathAuthorizeNext, false, s.handleAuthorizeNext},
		{"", pathAuthorizeCode, false, s.handleAuthorizeCode},
		{"POST", pathAccessToken, false, s.handleAccessToken},
		{"POST", pathOpenInvoke, true, s.handleOpenInvoke},
		{"GET", pathFunctions, true, s.listFunctions},
		{"POST", pathFunctions, true, s.createFunction},
		{"GET", fn, true, s.getFunction},
		{"PATCH", fn, true, s.updateFunction},
		{"DELETE", fn, true, s.deleteFunction},
		{"GET", fn + "job/", true, s.jobHistory},
		{"POST", fn + "job/", true, s.invokeByPath},
		{"POST", fn + "debug/", true, s.debug},
		{"GET", fn + "job/{id}/log/", true, s.jobLog},
	}
	table = append(table, s.dataRoutes()...) // data_routes.go
	mux := http.NewServeMux()
	allowed := map[string][]string{} // path → methods
	guarded := map[string]bool{}
	for _, rt := range table {
		h := rt.h
		if rt.bearer {
			h = s.withBearer(h)
			guarded[rt.path] = true
		}
		for _, p := range variants(rt.path) {
			mux.HandleFunc(strings.TrimSpace(rt.method+" "+p), h)
		}
		if rt.method != "" {
			allowed[rt.path] = append(allowed[rt.path], rt.method)
		}
	}
	// Any other method on a known path is answered 405 here, in the
	// platform's JSON (ServeMux's own 405 is text/plain), after the token
	// check as the platform's REST framework does.
	for path, methods := range allowed {
		h := methodNotAllowed(methods)
		if guarded[path] {
			h = s.withBearer(h)
		}
		for _, p := range variants(path) {
			mux.HandleFunc(p, h)
		}
	}
	notFound := func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "Not found: "+r.URL.Path)
	}
	mux.HandleFunc("/", notFound)
	mux.HandleFunc("/oserve/", s.withBearer(notFound))
	s.dashboardRoutes(mux) // dashboard.go
	return cors(mux)
}

// variants gives the patterns for a path: exactly it, and it without its
// trailing slash, which clients sometimes drop.
func variants(path string) []string {
	return []string{path + "{$}", strings.TrimSuffix(path, "/")}
}

// methodNotAllowed answers 405 with the methods the path takes.
func methodNotAllowed(methods []string) http.HandlerFunc {
	methods = append(methods, http.MethodOptions)
	sort.Strings(methods)
	allow := strings.Join(methods, ", ")
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("Method %q not allowed.", r.Method))
	}
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
			h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS")
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
