package emulator

import (
	"math"
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

// The records count the bytes of the kept jobs' logs and results, forget
// the oldest past the cap, keep the newest even alone past it, and stop
// counting a job once it is forgotten.
func TestJobRecordsCountBytes(t *testing.T) {
	r := newJobRecords(100, 1000)
	jobs := make([]*job, 4)
	for i := range jobs {
		jobs[i] = &job{rec: Job{Function: "f"}}
		r.add(jobs[i])
	}
	r.grew(jobs[0], 400)
	r.grew(jobs[1], 400)
	n, b := r.usage()
	assert.Equal(t, 4, n)
	assert.Equal(t, int64(800), b)
	r.grew(jobs[2], 400) // 1200: the oldest goes
	n, b = r.usage()
	assert.Equal(t, 3, n)
	assert.Equal(t, int64(800), b)
	_, ok := r.get(jobs[0].rec.ID)
	assert.False(t, ok)
	r.grew(jobs[0], 5000) // forgotten: counts nothing
	_, b = r.usage()
	assert.Equal(t, int64(800), b)
	r.grew(jobs[3], 5000) // alone past the cap: the others go, it stays
	n, b = r.usage()
	assert.Equal(t, 1, n)
	assert.Equal(t, int64(5000), b)
	page, total := r.pageBetween("f", math.MinInt64, math.MaxInt64, 0, 10)
	assert.Equal(t, 1, total)
	assert.Equal(t, []*job{jobs[3]}, page)
}
