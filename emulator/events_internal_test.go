package emulator

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A subscriber that does not keep up is dropped once its buffer is full:
// publishing never waits and memory stays at the buffer's size. Others,
// and subscribers of other functions, keep their events.
func TestEventHubDropsASlowSubscriber(t *testing.T) {
	var h eventHub
	slow, ok := h.subscribe("")
	require.True(t, ok)
	other, ok := h.subscribe("other")
	require.True(t, ok)
	for i := range subscriberBuffer + 10 {
		h.publish("f", "log", &logEvent{ID: 1, Function: "f", N: i, Line: "x"})
	}
	select {
	case <-slow.lost:
	default:
		t.Fatal("the slow subscriber was not dropped")
	}
	assert.Len(t, slow.ch, subscriberBuffer, "nothing past the buffer is kept")
	assert.Equal(t, int32(1), h.n.Load())
	h.publish("other", "log", &logEvent{ID: 2, Function: "other", Line: "y"})
	require.Len(t, other.ch, 1)
	assert.Equal(t, "event: log\ndata: {\"id\":2,\"function\":\"other\",\"n\":0,\"line\":\"y\"}\n\n", string(<-other.ch))
	h.unsubscribe(slow) // dropped already: no harm
	h.unsubscribe(other)
	assert.Equal(t, int32(0), h.n.Load())
}

// A subscriber is also dropped once the bytes it has not read pass
// subscriberBytes, however few the events: big log lines count by size.
func TestEventHubBoundsASubscribersBytes(t *testing.T) {
	var h eventHub
	sub, ok := h.subscribe("")
	require.True(t, ok)
	line := strings.Repeat("<", 1<<20) // 6 MB once JSON escapes it
	h.publish("f", "log", &logEvent{ID: 1, Function: "f", Line: line})
	require.Len(t, sub.ch, 1)
	frame := <-sub.ch
	sub.sent(frame)
	assert.Greater(t, len(frame), 6<<20)
	h.publish("f", "log", &logEvent{ID: 1, Function: "f", Line: line}) // read: there is room
	h.publish("f", "log", &logEvent{ID: 1, Function: "f", Line: line}) // 12 MB unread
	select {
	case <-sub.lost:
	default:
		t.Fatal("the subscriber was not dropped")
	}
	assert.Len(t, sub.ch, 1)
}

// At most maxSubscribers streams are open at once; one leaving makes room.
func TestEventHubCapsSubscribers(t *testing.T) {
	var h eventHub
	var subs []*subscriber
	for range maxSubscribers {
		s, ok := h.subscribe("")
		require.True(t, ok)
		subs = append(subs, s)
	}
	_, ok := h.subscribe("")
	assert.False(t, ok)
	h.unsubscribe(subs[0])
	_, ok = h.subscribe("")
	assert.True(t, ok)
}

func TestDashboardHostChecks(t *testing.T) {
	for remote, want := range map[string]bool{
		"127.0.0.1:5000": true, "[::1]:5000": true, "127.3.4.5:1": true,
		"192.168.1.4:5000": false, "[2001:db8::1]:80": false, "garbage": false,
	} {
		assert.Equal(t, want, fromLoopback(remote), remote)
	}
	for host, want := range map[string]bool{
		"127.0.0.1:8080": true, "localhost:8080": true, "LocalHost": true, "app.localhost:1": true,
		"[::1]:8080": true, "0.0.0.0:8080": true, "10.0.0.2": true,
		"evil.example:8080": false, "localhost.evil.example": false, "": false,
	} {
		assert.Equal(t, want, literalHost(host), host)
	}
}
