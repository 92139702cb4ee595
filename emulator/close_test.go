package emulator_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mincloud-go/baas"
	"github.com/mincloud-go/baas/emulator"
	"github.com/mincloud-go/baas/function"
)

// A connection opened and never used must not hold Close up: it is closed
// at once, as httptest.Server.Close does. http.Server.Shutdown counts such
// a connection busy until it is five seconds old, so Close took 5-6 s.
// The bound below is a hang check well under that, not a speed target.
func TestCloseEndsUnusedConnectionAtOnce(t *testing.T) {
	t.Parallel()
	srv := emulator.New()
	unused, err := net.Dial("tcp", srv.URL[len("http://"):])
	require.NoError(t, err)
	defer unused.Close()
	// A served request proves the server has accepted the connection above.
	probe, err := http.Get(srv.URL + "/")
	require.NoError(t, err)
	probe.Body.Close()

	closed := make(chan struct{})
	go func() { srv.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(time.Minute):
		t.Fatal("Close waited for a connection that never sent a request")
	}
	// The connection was closed, not left open.
	unused.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = unused.Read(make([]byte, 1))
	assert.ErrorIs(t, err, io.EOF)
}

// During Close, a sync call waiting for a slot ends schedule_failed at
// once: it is not started when Close frees the slot (it would run with a
// canceled context and end execution_failed), and Close does not wait
// out the schedule wait.
func TestCloseFailsSyncCallWaitingForSlot(t *testing.T) {
	t.Parallel()
	srv := emulator.New(emulator.WithMaxJobs(1), emulator.WithScheduleWait(time.Hour))
	started := make(chan struct{}, 2)
	srv.Register("hold", func(ctx context.Context, ev *function.Event) (any, error) {
		started <- struct{}{}
		<-ctx.Done()
		return nil, ctx.Err()
	})
	c, err := srv.Client(baas.WithRetry(0))
	require.NoError(t, err)
	_, err = c.Invoke(context.Background(), "hold", nil, false) // takes the only slot
	require.NoError(t, err)
	<-started
	waiting := make(chan error, 1)
	go func() {
		_, err := c.Invoke(context.Background(), "hold", nil, true)
		waiting <- err
	}()
	require.Eventually(t, func() bool { return len(srv.Jobs()) == 2 }, time.Minute, time.Millisecond)

	srv.Close()
	err = <-waiting
	var he *baas.HError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, 400, he.Code)
	assert.Contains(t, he.Error(), "schedule failed")
	jobs := srv.Jobs()
	assert.Equal(t, emulator.StatusExecutionFailed, jobs[0].Status, "the running job is canceled")
	assert.Equal(t, emulator.StatusScheduleFailed, jobs[1].Status, "the waiting one never starts")
	assert.True(t, jobs[1].StartedAt.IsZero())
	assert.Len(t, started, 0, "the waiting job's handler never ran")
}
