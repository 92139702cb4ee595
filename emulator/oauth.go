package emulator

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"
)

// The OAuth dance's paths, as protocol.md §4 names them.
const (
	pathAuthorize     = "/api/oauth2/hydrogen/openapi/authorize/"
	pathAuthorizeNext = "/api/oauth2/hydrogen/openapi/authorize/confirm/"
	pathAuthorizeCode = "/api/oauth2/hydrogen/openapi/authorize/code/"
	pathAccessToken   = "/api/oauth2/access_token/"

	oauthCookie    = "mincloud_oauth"
	codeLifetime   = 10 * time.Minute
	authorizeWait  = 2 * time.Minute // how long the redirect dance may take
	bearerPrefix   = "Bearer "
	tokenTypeValue = "Bearer"
)

// oauthState holds the authorize dance's sessions, the codes and the
// access tokens; each expires and is then forgotten.
type oauthState struct {
	mu       sync.Mutex
	sessions expiring[struct{}] // cookie value, until the dance ends
	codes    expiring[struct{}] // used once
	tokens   expiring[struct{}] // access tokens
	issued   int
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
	s.oauth.tokens.reset()
	s.oauth.mu.Unlock()
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
	s.oauth.sessions.add(session, struct{}{}, authorizeWait)
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
	_, ok := s.oauth.sessions.get(c.Value)
	return c.Value, ok
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
	s.oauth.sessions.remove(session)
	s.oauth.codes.add(code, struct{}{}, codeLifetime)
	s.oauth.mu.Unlock()
	writeObject(w, http.StatusOK, codeAnswer{Code: code, ExpiresIn: int64(codeLifetime.Seconds())})
}

// handleAccessToken is the second step: the code for an access token.
func (s *Server) handleAccessToken(w http.ResponseWriter, r *http.Request) {
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
	_, valid := s.oauth.codes.take(creds["code"])
	if valid {
		s.oauth.tokens.add(token, struct{}{}, lifetime)
		s.oauth.issued++
	}
	s.oauth.mu.Unlock()
	if !valid {
		writeError(w, http.StatusBadRequest, "Invalid or expired code.")
		return
	}
	writeObject(w, http.StatusOK, tokenAnswer{
		AccessToken: token, TokenType: tokenTypeValue, ExpiresIn: int64(lifetime.Seconds()),
		RefreshToken: refresh, Scope: "openapi",
	})
}

// withBearer lets a request through only with a live access token,
// answering 401 itself: every /oserve/ route passes here first.
func (s *Server) withBearer(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), bearerPrefix)
		if ok {
			s.oauth.mu.Lock()
			_, ok = s.oauth.tokens.get(tok)
			s.oauth.mu.Unlock()
		}
		if !ok {
			writeError(w, http.StatusUnauthorized, "Invalid or expired access token.")
			return
		}
		next(w, r)
	}
}
