package emulator

import (
	"context"
	"time"
)

// clock is the time the emulator's waits are measured by: the scheduler's
// schedule waits, a Go handler's deadline, and the job records' times. In
// production it is the real clock; a test gives the emulator a fake one it
// advances, so that no test sleeps real seconds to see a wait run out.
type clock interface {
	now() time.Time
	// newTimer fires its channel once d has passed; stop, as
	// time.Timer.Stop, stops it.
	newTimer(d time.Duration) (c <-chan time.Time, stop func() bool)
	// withTimeout is context.WithTimeout on this clock: the context ends
	// with context.DeadlineExceeded once d has passed.
	withTimeout(parent context.Context, d time.Duration) (context.Context, context.CancelFunc)
	// afterFunc calls f once d has passed, as time.AfterFunc; stop
	// reports whether it stopped f. It times the JavaScript jobs' deadlines.
	afterFunc(d time.Duration, f func()) (stop func() bool)
}

// realClock is the wall clock, the one the emulator runs by.
type realClock struct{}

func (realClock) now() time.Time { return time.Now() }

func (realClock) newTimer(d time.Duration) (<-chan time.Time, func() bool) {
	t := time.NewTimer(d)
	return t.C, t.Stop
}

func (realClock) withTimeout(parent context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(parent, d)
}

func (realClock) afterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}

// clockOrReal is c, or the real clock when c is nil (the default).
func clockOrReal(c clock) clock {
	if c == nil {
		return realClock{}
	}
	return c
}
