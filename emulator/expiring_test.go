package emulator

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mincloud-go/baas"
	"github.com/mincloud-go/baas/function"
	"github.com/mincloud-go/baas/internal/testclock"
)

// An access token is refused once its lifetime has passed on the
// emulator's clock; the SDK, whose own clock says the token is fresh,
// gets the 401, renews once and sends the call again.
func TestAccessTokensExpireOnTheServersClock(t *testing.T) {
	t.Parallel()
	s := New(WithTokenLifetime(time.Hour))
	defer s.Close()
	clock := testclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s.oauth.mu.Lock()
	s.oauth.tokens.now = clock.Now
	s.oauth.mu.Unlock()
	s.Register("f", func(ctx context.Context, ev *function.Event) (any, error) { return "ok", nil })
	c, err := s.Client(baas.WithClientSecret(s.ClientSecret))
	require.NoError(t, err)
	invoke := func() {
		t.Helper()
		_, err := c.Invoke(context.Background(), "f", nil, true)
		require.NoError(t, err)
	}
	invoke()
	clock.Advance(time.Hour - time.Second)
	invoke()
	assert.Equal(t, 1, s.TokensIssued(), "a token is good until its lifetime has passed")
	clock.Advance(time.Second)
	invoke()
	assert.Equal(t, 2, s.TokensIssued(), "refused at its lifetime, so the client renewed it")
	assert.Len(t, s.Jobs(), 3, "the refused call did not run; the resent one did")
}

// A user token lives 30 days on the emulator's clock.
func TestUserTokensExpireAfterThirtyDays(t *testing.T) {
	t.Parallel()
	s := New()
	defer s.Close()
	clock := testclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s.mu.Lock()
	s.users.now = clock.Now
	s.mu.Unlock()
	tok := s.IssueUserToken(function.User{ID: 7})
	clock.Advance(userTokenLifetime - time.Second)
	u, ok := s.userOf(tok)
	assert.True(t, ok)
	assert.EqualValues(t, 7, u.ID)
	clock.Advance(time.Second)
	_, ok = s.userOf(tok)
	assert.False(t, ok, "expired after 30 days")
}
