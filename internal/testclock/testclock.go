// Package testclock is a clock that tests move by hand, for code that
// judges time through a now function (token renewal, expiring keys, the
// Node pool's idle reaper): no test sleeps real time to see time pass.
package testclock

import (
	"sync"
	"time"
)

// Clock is a time that moves only when Advance says so. It is safe for
// concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// New returns a clock standing at start.
func New(start time.Time) *Clock { return &Clock{t: start} }

// Now returns the clock's time; pass it where code takes a now func.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock d forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
