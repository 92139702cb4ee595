package emulator

import (
	"iter"
	"math"
	"sort"
	"sync"
)

// DefaultMaxJobRecords is how many job records the emulator keeps by
// default: enough for a day of a team's work.
const DefaultMaxJobRecords = 10_000

// DefaultMaxJobRecordBytes is how many bytes of logs and results the kept
// job records may hold together by default. A record keeps up to 1 MiB of
// log, so the count alone would let 10,000 records hold 10 GiB.
const DefaultMaxJobRecordBytes = 64 << 20

// jobRecords keeps the most recent jobs, oldest first, overall and per
// function, so that a history page is found without scanning the rest. It
// forgets the oldest past either cap: the count, or the bytes of the kept
// jobs' logs and results. A forgotten job still runs to its end; only its
// record goes.
//
// It has its own lock, taken for a few pointer moves at a time: never
// while a job's lock is held by the same goroutine, and it never takes a
// job's lock itself, so the two cannot deadlock.
type jobRecords struct {
	clock    clock // gives the creation times, which the async schedule wait counts from
	maxCount int
	maxBytes int64

	mu     sync.Mutex
	nextID int64
	bytes  int64 // logs and results of the kept jobs
	all    jobQueue
	byID   map[int64]*job
	byFunc map[string]*jobQueue
}

func newJobRecords(clk clock, maxCount int, maxBytes int64) *jobRecords {
	return &jobRecords{
		clock:    clk,
		maxCount: maxCount, maxBytes: maxBytes,
		nextID: 1_000_000,
		byID:   map[int64]*job{}, byFunc: map[string]*jobQueue{},
	}
}

// add records j, the newest job, giving it its id and creation time, and
// forgets the oldest past the caps. Ids and times are given under the
// lock so that the records are in both orders at once, which the
// history's binary search needs.
func (r *jobRecords) add(j *job) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.nextID++
	j.rec.ID = r.nextID
	j.rec.CreatedAt = r.clock.now()
	j.kept = true
	r.all.push(j)
	r.byID[j.rec.ID] = j
	q := r.byFunc[j.rec.Function]
	if q == nil {
		q = &jobQueue{}
		r.byFunc[j.rec.Function] = q
	}
	q.push(j)
	r.evict()
}

// grew counts n more bytes (log or result) held by j's record, and
// forgets the oldest records past the byte cap. A job forgotten already
// counts nothing.
func (r *jobRecords) grew(j *job, n int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !j.kept {
		return
	}
	j.size += n
	r.bytes += n
	r.evict()
}

// evict forgets the oldest records while past a cap; the newest stays
// even when it alone is past the byte cap, so that its caller can read it.
// The caller holds r.mu.
func (r *jobRecords) evict() {
	for r.all.len() > r.maxCount || (r.bytes > r.maxBytes && r.all.len() > 1) {
		old := r.all.pop()
		old.kept = false
		r.bytes -= old.size
		delete(r.byID, old.rec.ID)
		fq := r.byFunc[old.rec.Function]
		fq.pop() // the oldest overall is the oldest of its function
		if fq.len() == 0 {
			delete(r.byFunc, old.rec.Function)
		}
	}
}

// usage returns how many records are kept and the bytes they hold.
func (r *jobRecords) usage() (count int, bytes int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.all.len(), r.bytes
}

// get returns the kept record of the job id.
func (r *jobRecords) get(id int64) (*job, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	j, ok := r.byID[id]
	return j, ok
}

// list returns the kept jobs, oldest first.
func (r *jobRecords) list() []*job {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*job(nil), r.all.slice()...)
}

// pageBetween returns the function's jobs created in the seconds [after,
// before], newest first, skipping offset and at most limit of them, and
// how many there are in all: a binary search and a copy of the page.
func (r *jobRecords) pageBetween(name string, after, before int64, offset, limit int) (page []*job, total int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	span := r.between(name, after, before)
	from, to := min(offset, span.len()), min(offset+limit, span.len())
	page = make([]*job, 0, to-from)
	for i := from; i < to; i++ {
		page = append(page, span.newest(i))
	}
	return page, span.len()
}

// scanChunk is how many jobs newestBetween reads per hold of the lock.
const scanChunk = 256

// newestBetween yields the function's jobs created in the seconds [after,
// before], newest first. It holds the lock for at most scanChunk jobs at a
// time and never while yield runs, so that a filter checking 10,000 jobs
// neither holds up the jobs being recorded nor copies the history. Jobs
// recorded during the scan are not yielded; jobs forgotten during it may
// end it early.
func (r *jobRecords) newestBetween(name string, after, before int64) iter.Seq[*job] {
	return func(yield func(*job) bool) {
		var buf [scanChunk]*job
		below := int64(math.MaxInt64) // ids increase along a queue
		for {
			n := 0
			r.mu.Lock()
			if span := r.between(name, after, before); span.len() > 0 {
				q := span.q
				hi := min(span.hi, sort.Search(q.len(), func(i int) bool { return q.at(i).rec.ID >= below }))
				for i := hi - 1; i >= span.lo && n < len(buf); i-- {
					buf[n] = q.at(i)
					n++
				}
			}
			r.mu.Unlock()
			for _, j := range buf[:n] {
				if !yield(j) {
					return
				}
			}
			if n < len(buf) {
				return
			}
			below = buf[n-1].rec.ID
		}
	}
}

// between finds the run of the function's records created in the seconds
// [after, before] by binary search: jobs are recorded in creation order.
// The caller holds r.mu.
func (r *jobRecords) between(name string, after, before int64) jobRange {
	q := r.byFunc[name]
	if q == nil {
		return jobRange{}
	}
	n := q.len()
	lo := sort.Search(n, func(i int) bool { return q.at(i).rec.CreatedAt.Unix() >= after })
	hi := sort.Search(n, func(i int) bool { return q.at(i).rec.CreatedAt.Unix() > before })
	return jobRange{q: q, lo: lo, hi: max(lo, hi)}
}

// jobRange is a run of one function's records, oldest first.
type jobRange struct {
	q      *jobQueue
	lo, hi int
}

func (g jobRange) len() int { return g.hi - g.lo }

// newest returns the i-th job counting from the newest (0).
func (g jobRange) newest(i int) *job { return g.q.at(g.hi - 1 - i) }

// jobQueue is a FIFO of jobs that reuses its array as jobs leave the front,
// so that a full emulator does not allocate to forget a job.
type jobQueue struct {
	items []*job
	head  int
}

func (q *jobQueue) len() int      { return len(q.items) - q.head }
func (q *jobQueue) at(i int) *job { return q.items[q.head+i] }
func (q *jobQueue) push(j *job)   { q.items = append(q.items, j) }
func (q *jobQueue) slice() []*job { return q.items[q.head:] }

func (q *jobQueue) pop() *job {
	j := q.items[q.head]
	q.items[q.head] = nil
	q.head++
	// Move the live half down once the dead half is bigger: amortised O(1),
	// and the array never grows past twice the live jobs.
	if q.head*2 >= len(q.items) {
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items = q.items[:n]
		q.head = 0
	}
	return j
}

// newest returns the most recent jobs, newest first, at most limit: of
// the function fn, or of all when fn is "".
func (r *jobRecords) newest(fn string, limit int) []*job {
	r.mu.Lock()
	defer r.mu.Unlock()
	var recent []*job
	if fn == "" {
		recent = r.all.slice()
	} else if q := r.byFunc[fn]; q != nil {
		recent = q.slice()
	}
	picked := make([]*job, 0, min(limit, len(recent)))
	for i := len(recent) - 1; i >= 0 && len(picked) < limit; i-- {
		picked = append(picked, recent[i])
	}
	return picked
}
