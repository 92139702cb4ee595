package emulator_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mincloud-go/baas"
	"github.com/mincloud-go/baas/emulator"
	"github.com/mincloud-go/baas/function"
)

// holdUntil registers a function that runs until release closes.
func holdUntil(srv *emulator.Server, release chan struct{}) {
	srv.Register("hold", func(ctx context.Context, ev *function.Event) (any, error) {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return "done", nil
	})
}

// With every slot held by a slow function, async calls queue only up to
// the cap; the rest are answered as the platform answers a job it cannot
// schedule, and recorded schedule_failed, so that a burst of 10 MiB calls
// cannot pile up in memory for the 5-minute async wait.
func TestAsyncQueueIsBoundedByCount(t *testing.T) {
	t.Parallel()
	const queueCap, calls = 3, 20
	srv, c := setup(t, emulator.WithMaxJobs(1), emulator.WithMaxQueuedJobs(queueCap))
	release := make(chan struct{})
	holdUntil(srv, release)
	ctx := context.Background()
	_, err := c.Invoke(ctx, "hold", nil, false) // takes the only slot
	require.NoError(t, err)
	require.Eventually(t, func() bool { return srv.Jobs()[0].Status == emulator.StatusExecuting }, time.Minute, 5*time.Millisecond)

	accepted, refused := 0, 0
	for i := 0; i < calls; i++ {
		res, err := c.Invoke(ctx, "hold", map[string]int{"i": i}, false)
		var he *baas.HError
		if err != nil {
			require.ErrorAs(t, err, &he)
			assert.Equal(t, "400: Cloud function schedule failed", he.Error())
			refused++
			continue
		}
		assert.Equal(t, "ok", res.Status)
		accepted++
	}
	// The dispatcher holds at most one job out of the queue, waiting for
	// the slot; the queue holds the cap.
	assert.LessOrEqual(t, accepted, queueCap+1)
	assert.Equal(t, calls, accepted+refused)
	waiting, failed := 0, 0
	for _, j := range srv.Jobs() {
		switch j.Status {
		case emulator.StatusWaiting:
			waiting++
		case emulator.StatusScheduleFailed:
			failed++
		}
	}
	assert.Equal(t, accepted, waiting, "every accepted call waits")
	assert.Equal(t, refused, failed, "every refused call is recorded schedule_failed")

	close(release)
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	require.NoError(t, srv.Wait(wctx))
}

// The queue is bounded by the bytes of event data its jobs hold too.
func TestAsyncQueueIsBoundedByBytes(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, emulator.WithMaxJobs(1), emulator.WithMaxQueuedBytes(1<<10))
	release := make(chan struct{})
	holdUntil(srv, release)
	defer close(release)
	ctx := context.Background()
	_, err := c.Invoke(ctx, "hold", nil, false)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return srv.Jobs()[0].Status == emulator.StatusExecuting }, time.Minute, 5*time.Millisecond)

	_, err = c.Invoke(ctx, "hold", map[string]string{"pad": strings.Repeat("x", 2<<10)}, false)
	var he *baas.HError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, "400: Cloud function schedule failed", he.Error())
	_, err = c.Invoke(ctx, "hold", map[string]string{"pad": "small"}, false)
	assert.NoError(t, err, "a small event still fits")
}
