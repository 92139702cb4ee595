package emulator

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/mincloud-go/baas/function"
)

// Keys are capped, expired ones dropped as new ones come, and removed
// ones do not keep the issue order growing.
func TestExpiringKeysAreBounded(t *testing.T) {
	var e expiring[int]
	far := time.Now().Add(time.Hour)
	for i := 0; i < maxLiveKeys+500; i++ {
		e.put(strconv.Itoa(i), i, far)
	}
	assert.Equal(t, maxLiveKeys, e.len(), "past the cap the oldest go")
	_, ok := e.get("0")
	assert.False(t, ok)
	v, ok := e.get(strconv.Itoa(maxLiveKeys + 499))
	assert.True(t, ok)
	assert.Equal(t, maxLiveKeys+499, v)

	var x expiring[int]
	x.put("old", 1, time.Now().Add(-time.Second))
	_, ok = x.get("old")
	assert.False(t, ok, "an expired key is not served")
	x.put("new", 2, far)
	assert.Equal(t, 1, x.len(), "an expired key is dropped when the next comes")

	// Issue and spend a key many times: the order stays small.
	var y expiring[int]
	for i := 0; i < 100_000; i++ {
		k := strconv.Itoa(i)
		y.put(k, i, far)
		_, ok := y.take(k)
		assert.True(t, ok)
	}
	assert.Zero(t, y.len())
	assert.Less(t, len(y.order)-y.head, 64)
}

// The environment id comes from a request header: the inner clients kept
// for them are capped, and every caller still gets one.
func TestInnerClientsAreBounded(t *testing.T) {
	s := New()
	defer s.Close()
	for i := 0; i < 3*maxInnerClients; i++ {
		assert.NotNil(t, s.innerClient(&function.Env{ID: "env" + strconv.Itoa(i)}))
	}
	s.mu.Lock()
	n := len(s.inner)
	s.mu.Unlock()
	assert.Equal(t, maxInnerClients, n)
}
