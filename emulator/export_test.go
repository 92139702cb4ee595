package emulator

import (
	"context"
	"slices"
	"sync"
	"time"
)

// FakeClock is a clock the test moves by hand: the emulator's schedule
// waits and Go handlers' deadlines pass only when Advance says so.
// Exported to this package's external tests only (this is a _test file).
type FakeClock struct {
	mu     sync.Mutex
	t      time.Time
	timers map[*fakeTimer]struct{}
}

type fakeTimer struct {
	at   time.Time
	fire func()
}

// NewFakeClock starts a fake clock at the real time now, so that the
// times it gives look like any other.
func NewFakeClock() *FakeClock {
	return &FakeClock{t: time.Now(), timers: map[*fakeTimer]struct{}{}}
}

// WithClock makes the emulator measure its waits by c.
func WithClock(c *FakeClock) Option { return func(cfg *config) { cfg.clock = c } }

// Advance moves the clock on by d and fires every timer due by then,
// earliest first.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	var due []*fakeTimer
	for ft := range c.timers {
		if !ft.at.After(c.t) {
			due = append(due, ft)
			delete(c.timers, ft)
		}
	}
	c.mu.Unlock()
	slices.SortFunc(due, func(a, b *fakeTimer) int { return a.at.Compare(b.at) }) // in the order they came due
	for _, ft := range due {
		ft.fire()
	}
}

// Waiting counts the timers set and not yet fired or stopped: a test
// waits for it before advancing, so that the wait it means to end has
// begun.
func (c *FakeClock) Waiting() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// Now is the clock's time.
func (c *FakeClock) Now() time.Time { return c.now() }

func (c *FakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// afterFunc calls f once the clock reaches d from now; stop reports
// whether it stopped f from being called.
func (c *FakeClock) afterFunc(d time.Duration, f func()) (stop func() bool) {
	c.mu.Lock()
	ft := &fakeTimer{at: c.t.Add(d), fire: f}
	if d <= 0 {
		c.mu.Unlock()
		go f()
		return func() bool { return false }
	}
	c.timers[ft] = struct{}{}
	c.mu.Unlock()
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		_, ok := c.timers[ft]
		delete(c.timers, ft)
		return ok
	}
}

func (c *FakeClock) newTimer(d time.Duration) (<-chan time.Time, func() bool) {
	ch := make(chan time.Time, 1)
	stop := c.afterFunc(d, func() { ch <- c.now() })
	return ch, stop
}

func (c *FakeClock) withTimeout(parent context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	inner, cancel := context.WithCancelCause(parent)
	ctx := &fakeDeadlineCtx{Context: inner, deadline: c.now().Add(d)}
	stop := c.afterFunc(d, func() { cancel(context.DeadlineExceeded) })
	return ctx, func() { stop(); cancel(context.Canceled) }
}

// fakeDeadlineCtx is a context whose deadline is on the fake clock: it
// reports that deadline, and context.DeadlineExceeded once it passed.
type fakeDeadlineCtx struct {
	context.Context
	deadline time.Time
}

func (c *fakeDeadlineCtx) Deadline() (time.Time, bool) { return c.deadline, true }

func (c *fakeDeadlineCtx) Err() error {
	err := c.Context.Err()
	if err != nil && context.Cause(c.Context) == context.DeadlineExceeded {
		return context.DeadlineExceeded
	}
	return err
}
