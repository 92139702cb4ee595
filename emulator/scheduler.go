package emulator

import (
	"context"
	"sync"
	"time"
)

// scheduler decides when a job runs, and is everything that makes a call
// wait before its function starts:
//
//   - At most [WithMaxJobs] jobs run at once, each holding a slot.
//   - A sync call waits for a slot up to [WithScheduleWait] (2 s); if none
//     frees in time, or its caller goes away, its job is schedule_failed and
//     the call is answered 400 "Cloud function schedule failed".
//   - An async call is answered at once and its job queued; one dispatcher
//     starts queued jobs in order as slots free up. A job still queued
//     [WithAsyncScheduleWait] (5 min) after its call is schedule_failed.
//   - The queue is bounded: at most [WithMaxQueuedJobs] jobs, holding at
//     most [WithMaxQueuedBytes] of event data together, since each keeps
//     its event (up to the 10 MiB body) while it waits. A job past either
//     cap is not queued: enqueue refuses it and its caller fails it.
//   - Close ends every wait: waiting jobs are schedule_failed.
//
// It also counts the jobs not yet ended, for [Server.Wait].
type scheduler struct {
	slots     chan struct{}
	syncWait  time.Duration
	asyncWait time.Duration
	closing   context.Context // ends when the emulator closes
	clock     clock           // measures the schedule waits

	// running counts the dispatcher and the async jobs' goroutines; sync
	// jobs run on their request's goroutine, which Close also waits for.
	running sync.WaitGroup
	fail    func(*job) // ends a job that got no slot; set by start

	maxQueued      int   // cap on len(queue)
	maxQueuedBytes int64 // cap on queueBytes

	mu         sync.Mutex
	queue      []*job        // async jobs waiting for a slot, oldest first
	queueBytes int64         // the event data the queued jobs hold
	queued     chan struct{} // wakes the dispatcher
	pending    int           // jobs not yet ended
	idle       chan struct{} // closed while pending == 0
}

func newScheduler(closing context.Context, clk clock, maxJobs, maxQueued int, maxQueuedBytes int64, syncWait, asyncWait time.Duration) *scheduler {
	q := &scheduler{
		slots:          make(chan struct{}, maxJobs),
		maxQueued:      maxQueued,
		maxQueuedBytes: maxQueuedBytes,
		syncWait:       syncWait,
		asyncWait:      asyncWait,
		closing:        closing,
		clock:          clk,
		queued:         make(chan struct{}, 1),
		idle:           make(chan struct{}),
	}
	close(q.idle)
	return q
}

// admitted counts a new job as pending until [scheduler.ended].
func (q *scheduler) admitted() {
	q.mu.Lock()
	if q.pending == 0 {
		q.idle = make(chan struct{})
	}
	q.pending++
	q.mu.Unlock()
}

// ended counts a job as ended, however it ended.
func (q *scheduler) ended() {
	q.mu.Lock()
	q.pending--
	if q.pending == 0 {
		close(q.idle)
	}
	q.mu.Unlock()
}

// wait blocks until no job is waiting or executing, or ctx ends.
func (q *scheduler) wait(ctx context.Context) error {
	for {
		q.mu.Lock()
		idle := q.idle
		q.mu.Unlock()
		select {
		case <-idle:
			q.mu.Lock()
			done := q.pending == 0
			q.mu.Unlock()
			if done {
				return nil
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// runSync waits up to the schedule wait for a slot, then calls run on the
// calling goroutine. It returns false when no slot came, the caller went
// away (ctx) or the emulator is closing; run is then not called.
func (q *scheduler) runSync(ctx context.Context, run func()) bool {
	if !q.acquireSync(ctx) {
		return false
	}
	defer q.release()
	run()
	return true
}

func (q *scheduler) acquireSync(ctx context.Context) bool {
	select {
	case q.slots <- struct{}{}:
	default:
		expired, stop := q.clock.newTimer(q.syncWait)
		defer stop()
		select {
		case q.slots <- struct{}{}:
		case <-expired:
			return false
		case <-ctx.Done():
			return false
		case <-q.closing.Done():
			return false
		}
	}
	if q.closing.Err() != nil { // a slot freed by Close is no slot
		q.release()
		return false
	}
	return true
}

func (q *scheduler) release() { <-q.slots }

// enqueue queues an async job for the dispatcher. It returns false, and
// queues nothing, when the queue already holds its cap of jobs, or the
// job's event data would take it past its cap of bytes; the caller then
// fails the job.
func (q *scheduler) enqueue(j *job) bool {
	j.mu.Lock()
	size := int64(len(j.event.Data))
	j.mu.Unlock()
	q.mu.Lock()
	if len(q.queue) >= q.maxQueued || q.queueBytes+size > q.maxQueuedBytes {
		q.mu.Unlock()
		return false
	}
	j.queuedBytes = size
	q.queue = append(q.queue, j)
	q.queueBytes += size
	q.mu.Unlock()
	select {
	case q.queued <- struct{}{}:
	default:
	}
	return true
}

// start starts the dispatcher: it takes queued jobs in order, waits for a
// slot for each, and calls run for it on a goroutine of its own; a job
// that waited past the async schedule wait, or is queued when the emulator
// closes, is given to fail instead.
func (q *scheduler) start(run, fail func(*job)) {
	q.fail = fail
	q.running.Add(1)
	go func() {
		defer q.running.Done()
		q.dispatch(run, fail)
	}()
}

func (q *scheduler) dispatch(run, fail func(*job)) {
	for {
		q.mu.Lock()
		var j *job
		if len(q.queue) > 0 {
			j = q.queue[0]
			q.queue[0] = nil
			q.queue = q.queue[1:]
			q.queueBytes -= j.queuedBytes
		}
		q.mu.Unlock()
		if j == nil {
			select {
			case <-q.queued:
				continue
			case <-q.closing.Done():
				return
			}
		}
		if !q.acquireAsync(j.rec.CreatedAt) {
			fail(j)
			if q.closing.Err() != nil {
				q.failQueue(fail)
				return
			}
			continue
		}
		q.running.Add(1)
		go func() {
			defer q.running.Done()
			defer q.release()
			run(j)
		}()
	}
}

// acquireAsync takes a slot for a job queued at queuedAt, waiting no
// later than the async schedule wait after it.
func (q *scheduler) acquireAsync(queuedAt time.Time) bool {
	select {
	case q.slots <- struct{}{}:
		return true
	default:
	}
	wait := queuedAt.Add(q.asyncWait).Sub(q.clock.now())
	if wait <= 0 {
		return false
	}
	expired, stop := q.clock.newTimer(wait)
	defer stop()
	select {
	case q.slots <- struct{}{}:
		return true
	case <-expired:
	case <-q.closing.Done():
	}
	return false
}

// failQueue gives every queued job to fail, on Close.
func (q *scheduler) failQueue(fail func(*job)) {
	q.mu.Lock()
	jobs := q.queue
	q.queue = nil
	q.queueBytes = 0
	q.mu.Unlock()
	for _, j := range jobs {
		fail(j)
	}
}

// stop waits for the dispatcher and the async jobs, once closing has ended
// and no request can queue a job any more; a job queued after the
// dispatcher returned is failed here.
func (q *scheduler) stop() {
	q.running.Wait()
	q.failQueue(q.fail)
}
