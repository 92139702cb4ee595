package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// jobs shows a run under a second in milliseconds, one above in seconds
// with a decimal; from the platform's whole seconds, 0 is "<1s".
func TestJobsRunTimes(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		12 * time.Millisecond: "12ms", 850 * time.Millisecond: "850ms", 999 * time.Millisecond: "999ms",
		time.Second: "1.0s", 1500 * time.Millisecond: "1.5s", 62*time.Second + 340*time.Millisecond: "62.3s",
		300 * time.Microsecond: "<1ms",
	} {
		assert.Equal(t, want, runTime(d), d)
	}
	assert.Equal(t, "<1s", wholeSeconds(0))
	assert.Equal(t, "3s", wholeSeconds(3))
}
