package emulator_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mincloud-go/baas/emulator"
	"github.com/mincloud-go/baas/function"
)

// A value the emulator cannot use is refused at start, naming the option,
// as baas.New refuses its own: Listen returns the error, New panics with
// it (as httptest.NewServer panics when it cannot listen).
func TestBadOptionsAreRefusedNamingTheOption(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		opt  emulator.Option
		want string
	}{
		{emulator.WithSyncTimeout(0), "the sync timeout must be positive, not 0s (WithSyncTimeout)"},
		{emulator.WithAsyncTimeout(-time.Second), "the async timeout must be positive, not -1s (WithAsyncTimeout)"},
		{emulator.WithMaxJobs(0), "not 0 (WithMaxJobs)"},
		{emulator.WithMaxJobRecords(0), "not 0 (WithMaxJobRecords)"},
		{emulator.WithMaxJobRecordBytes(0), "not 0 (WithMaxJobRecordBytes)"},
		{emulator.WithMaxJobRecordBytes(-1), "not -1 (WithMaxJobRecordBytes)"},
		{emulator.WithMaxQueuedJobs(-1), "the async queue's cap must not be negative (0 for 10 × the max jobs), not -1 (WithMaxQueuedJobs)"},
		{emulator.WithMaxQueuedBytes(0), "not 0 (WithMaxQueuedBytes)"},
		{emulator.WithScheduleWait(-time.Millisecond), "(WithScheduleWait)"},
		{emulator.WithAsyncScheduleWait(-time.Millisecond), "(WithAsyncScheduleWait)"},
		{emulator.WithMaxBodyBytes(-1), "the request body cap must be positive, not -1 (WithMaxBodyBytes)"},
		{emulator.WithMaxBodyBytes(0), "not 0 (WithMaxBodyBytes)"},
		{emulator.WithMemoryLimit(emulator.MinMemoryLimitInMB - 1), fmt.Sprintf("at least %d MB, Node's least workable heap, not %d (WithMemoryLimit)", emulator.MinMemoryLimitInMB, emulator.MinMemoryLimitInMB-1)},
		{emulator.WithTokenLifetime(500 * time.Millisecond), "(WithTokenLifetime)"},
		{emulator.WithTableTrigger("note", "onNote", "created"), `WithTableTrigger("note", "onNote", "created"): unknown event "created" (create, update or delete)`},
		{emulator.WithTableTrigger("note", "onNote", "create", ""), `unknown event ""`},
		{emulator.WithTableTrigger("", "onNote"), `WithTableTrigger("", "onNote"): the table name is empty`},
		{emulator.WithTableTrigger("note", ""), `WithTableTrigger("note", ""): the function name is empty`},
	} {
		srv, err := emulator.Listen("127.0.0.1:0", tc.opt)
		if !assert.Error(t, err, tc.want) {
			srv.Close()
			continue
		}
		assert.Contains(t, err.Error(), tc.want)
		assert.PanicsWithValue(t, "emulator: "+err.Error(), func() { emulator.New(tc.opt) })
	}
}

// The refusal is an *OptionError naming the option apart from the
// reason, for a program (mincloud serve) to name its own setting.
func TestBadOptionIsAnOptionError(t *testing.T) {
	t.Parallel()
	_, err := emulator.Listen("127.0.0.1:0", emulator.WithMaxJobs(4), emulator.WithMaxQueuedBytes(0))
	var oe *emulator.OptionError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "WithMaxQueuedBytes", oe.Option)
	assert.Equal(t, "the async queue's byte cap must be positive, not 0", oe.Reason)
	assert.Equal(t, "the async queue's byte cap must be positive, not 0 (WithMaxQueuedBytes)", err.Error())
}

// The edges that are usable are accepted: no wait for a slot, the least
// memory, one slot and one record.
func TestOptionEdgesAreAccepted(t *testing.T) {
	t.Parallel()
	srv, c := setup(t,
		emulator.WithScheduleWait(0), emulator.WithAsyncScheduleWait(0),
		emulator.WithMemoryLimit(emulator.MinMemoryLimitInMB), emulator.WithMaxJobs(1),
		emulator.WithMaxJobRecords(1), emulator.WithMaxJobRecordBytes(1), emulator.WithMaxBodyBytes(1<<10),
		emulator.WithTokenLifetime(time.Second))
	srv.Register("hello", hello)
	res, err := c.Invoke(t.Context(), "hello", map[string]string{"name": "edge"}, true)
	require.NoError(t, err)
	assert.Equal(t, `"hello edge"`, string(res.Data))
	assert.Len(t, srv.Jobs(), 1, "the newest record stays even past the byte cap")
}

// WithLogOutput's writer is written by one goroutine at a time, a whole
// line per write: a plain bytes.Buffer shared by concurrent jobs keeps
// every line whole (and -race sees no race).
func TestLogOutputIsWrittenOneLineAtATime(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	srv, c := setup(t, emulator.WithLogOutput(&out))
	srv.Register("chatty", func(ctx context.Context, ev *function.Event) (any, error) {
		for i := range 20 {
			function.Logger(ctx).Info("line", "n", i)
		}
		return nil, nil
	})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Invoke(context.Background(), "chatty", nil, true)
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	srv.Close() // no job writes after this
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	require.Len(t, lines, 8*20)
	for _, l := range lines {
		assert.Regexp(t, `^\[chatty #\d+\] \S+ INFO line n=\d+$`, l)
	}
}
