package emulator

import (
	"time"

	"github.com/mincloud-go/baas/function"
)

// userTokenLifetime is how long a user token lives, as a login on the
// platform does; expired ones are forgotten.
const userTokenLifetime = 30 * 24 * time.Hour

// IssueUserToken returns a token for calls made as user: pass it to
// baas.WithAuthToken, and the functions see the user in
// event.request.user. A token lives 30 days or until
// [Server.RevokeUserToken]; past 10,000 live tokens the oldest goes.
func (s *Server) IssueUserToken(user function.User) string {
	tok := randomHex(20)
	s.mu.Lock()
	s.users.add(tok, user, userTokenLifetime)
	s.mu.Unlock()
	return tok
}

// RevokeUserToken forgets a token [Server.IssueUserToken] gave, as a
// logout does: calls that carry it are then answered 401.
func (s *Server) RevokeUserToken(token string) {
	s.mu.Lock()
	s.users.remove(token)
	s.mu.Unlock()
}

// userOf returns the user a live token stands for.
func (s *Server) userOf(token string) (function.User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.users.get(token)
}
