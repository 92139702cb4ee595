package emulator

import "sort"

// DefaultMaxJobRecords is how many job records the emulator keeps by
// default: enough for a day of a team's work, small enough (a few MB) to
// stay up for weeks.
const DefaultMaxJobRecords = 10_000

// jobRecords keeps the most recent jobs, oldest first, overall and per
// function, so that a history page is found without scanning the rest.
// The caller holds Server.mu.
type jobRecords struct {
	max    int
	all    jobQueue
	byID   map[int64]*job
	byFunc map[string]*jobQueue
}

func newJobRecords(max int) *jobRecords {
	return &jobRecords{max: max, byID: map[int64]*job{}, byFunc: map[string]*jobQueue{}}
}

// add records j, the newest job, and forgets the oldest past the cap. A
// forgotten job still runs to its end; only its record goes.
func (r *jobRecords) add(j *job) {
	r.all.push(j)
	r.byID[j.rec.ID] = j
	q := r.byFunc[j.rec.Function]
	if q == nil {
		q = &jobQueue{}
		r.byFunc[j.rec.Function] = q
	}
	q.push(j)
	for r.all.len() > r.max {
		old := r.all.pop()
		delete(r.byID, old.rec.ID)
		fq := r.byFunc[old.rec.Function]
		fq.pop() // the oldest overall is the oldest of its function
		if fq.len() == 0 {
			delete(r.byFunc, old.rec.Function)
		}
	}
}

// createdBetween returns the function's jobs, oldest first, whose creation
// second lies in [after, before], by binary search: jobs are recorded in
// creation order.
func (r *jobRecords) createdBetween(name string, after, before int64) jobRange {
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
