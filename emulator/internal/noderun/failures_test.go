package noderun

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// logOf runs job and returns its result and its log messages.
func logOf(t *testing.T, p *Pool, job Job) (*Result, []string) {
	t.Helper()
	var mu sync.Mutex
	var got []string
	job.Log = func(l LogLine) { mu.Lock(); got = append(got, l.Level+" "+l.Message); mu.Unlock() }
	res, err := p.Run(context.Background(), job)
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	return res, append([]string(nil), got...)
}

// A line not ended by a newline, written through process.stdout or
// straight to fd 1 or 2, belongs to its own job's log, never the next's.
func TestPoolPartialLinesBelongToTheirJob(t *testing.T) {
	t.Parallel()
	p := newPool(t, Config{MaxWorkers: 1, Warm: 1})
	job := jsJob(t, p, "partial", `const fs = require('fs')
let n = 0
exports.main = (event, cb) => {
  n++
  if (n === 1) {
    process.stdout.write('hooked partial')
    fs.writeSync(1, 'raw out partial')
    fs.writeSync(2, 'raw err partial')
    setTimeout(() => cb(null, 1), 200)
    return
  }
  fs.writeSync(1, 'second\n')
  console.log('second logged')
  cb(null, 2)
}`)
	job.ID = 1
	_, first := logOf(t, p, job)
	job.ID = 2
	_, second := logOf(t, p, job)
	assert.ElementsMatch(t, []string{"INFO hooked partial", "INFO raw out partial", "ERROR raw err partial"}, first)
	assert.ElementsMatch(t, []string{"INFO second", "INFO second logged"}, second)
}

// A raw stderr line over 1 MiB does not stop the reader: it is cut, and
// an out-of-memory after it still says out of memory, with the memory
// the job used.
func TestPoolLongRawLineThenOutOfMemory(t *testing.T) {
	t.Parallel()
	p := newPool(t, Config{MaxWorkers: 1, Warm: 1, MemoryLimitMB: 32})
	job := jsJob(t, p, "hog", `const fs = require('fs')
exports.main = async () => {
  const b = Buffer.from('x'.repeat(3 << 20) + '\n')
  for (let off = 0; off < b.length;) { // fd 2 is a non-blocking pipe: writes may be partial
    try { off += fs.writeSync(2, b, off) } catch (e) { if (e.code !== 'EAGAIN') throw e }
  }
  const keep = []
  for (;;) keep.push(new Array(100000).fill({ x: keep.length }))
}`)
	res, logs := logOf(t, p, job)
	require.Equal(t, 1, res.Code)
	assert.Equal(t, "out of memory: the function used more than 32 MB", res.Error.Message)
	assert.Greater(t, res.Mem, int64(16<<20), "the memory the job used, not 0")
	require.NotEmpty(t, logs)
	first := logs[0]
	assert.True(t, strings.HasPrefix(first, "ERROR xxx"), "%.40s", first)
	assert.True(t, strings.HasSuffix(first, "x … (cut: the line was longer than 1048576 bytes)"), "the line ends %q", first[max(0, len(first)-80):])
	assert.Less(t, len(first), 1<<20+100)
	assert.Len(t, logs, 1, "V8's report stays out of the log")
}

// A result over the limit says so, with the limit; the worker goes on.
func TestPoolResultTooLarge(t *testing.T) {
	t.Parallel()
	p := newPool(t, Config{MaxWorkers: 1, Warm: 1, MaxResult: 1 << 20})
	job := jsJob(t, p, "big", "exports.main = async (event) => 'x'.repeat(event.data.n)")
	job.Event = []byte(`{"data":{"n":2000000}}`)
	res, _ := logOf(t, p, job)
	require.Equal(t, 1, res.Code)
	assert.Equal(t, "RangeError", res.Error.Type)
	assert.Equal(t, "the function's result is too large: 2000002 bytes of JSON, over the emulator's limit of 1048576 bytes", res.Error.Message)
	job.Event = []byte(`{"data":{"n":3}}`)
	res, _ = logOf(t, p, job)
	assert.Equal(t, `"xxx"`, string(res.Data))
}

// A failure's stack shows the function's frames and none of the
// emulator's or Node's own.
func TestPoolStacksShowOnlyTheFunction(t *testing.T) {
	t.Parallel()
	p := newPool(t, Config{MaxWorkers: 2, Warm: 1})
	for name, src := range map[string]string{
		"sync":  "function inner () { throw new Error('sync') }\nexports.main = () => inner()",
		"async": "async function inner () { await null; throw new Error('async') }\nexports.main = () => inner()",
		"cb":    "exports.main = (event, cb) => cb(new Error('cb'))",
	} {
		res, _ := logOf(t, p, jsJob(t, p, name, src))
		require.Equal(t, 1, res.Code, name)
		assert.Contains(t, res.Error.Stack, name+".js:", name)
		for _, frame := range []string{"bootstrap", "node:", "Socket.emit", "Pipe.onStreamRead", "addChunk"} {
			assert.NotContains(t, res.Error.Stack, frame, name)
		}
	}
}

// A line on the answers descriptor that is not the worker's own ends the
// worker and fails its job, saying the protocol was broken.
func TestPoolForgedLineBreaksTheProtocol(t *testing.T) {
	t.Parallel()
	p := newPool(t, Config{MaxWorkers: 1, Warm: 1})
	job := jsJob(t, p, "forger", `exports.main = (event, cb) => {
  require('fs').writeSync(4, 'D ' + event.jobId + ' 0 0 "forged"\n')
  setTimeout(() => cb(null, 'real'), 200)
}`)
	job.ID = 7
	job.Event = []byte(`{"jobId":7}`)
	res, _ := logOf(t, p, job)
	require.Equal(t, 1, res.Code)
	assert.Contains(t, res.Error.Message, "protocol broken")
	assert.Nil(t, res.Data)
}
