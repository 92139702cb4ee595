package emulator

import (
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
	r := newJobRecords(realClock{}, 100, 1000)
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

// A filtered history scans the records a chunk at a time: every job of the
// function once, newest first, even as jobs are recorded and forgotten
// during the scan.
func TestNewestBetweenScansInChunks(t *testing.T) {
	r := newJobRecords(realClock{}, 2000, math.MaxInt64)
	for i := range 1200 {
		name := "f"
		if i%2 == 1 {
			name = "g"
		}
		r.add(&job{rec: Job{Function: name}})
	}
	var ids []int64
	for j := range r.newestBetween("f", math.MinInt64, math.MaxInt64) {
		ids = append(ids, j.rec.ID)
	}
	require.Len(t, ids, 600)
	for i := 1; i < len(ids); i++ {
		require.Less(t, ids[i], ids[i-1], "newest first, each once")
	}

	// Record 1,000 more while scanning: the oldest 200 go, the new ones
	// are not yielded.
	ids = ids[:0]
	seen := 0
	for j := range r.newestBetween("f", math.MinInt64, math.MaxInt64) {
		if seen == 10 {
			for range 1000 {
				r.add(&job{rec: Job{Function: "f"}})
			}
		}
		seen++
		ids = append(ids, j.rec.ID)
	}
	assert.Equal(t, 500, len(ids), "600 less the 100 of f forgotten")
	for i := 1; i < len(ids); i++ {
		require.Less(t, ids[i], ids[i-1])
	}

	n := 0
	for range r.newestBetween("f", math.MinInt64, math.MaxInt64) {
		n++
		if n == 3 {
			break
		}
	}
	assert.Equal(t, 3, n, "the scan stops when asked")
}
