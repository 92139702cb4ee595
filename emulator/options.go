package emulator

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// The platform's limits, the emulator's defaults.
const (
	DefaultSyncTimeout       = 5 * time.Second
	DefaultAsyncTimeout      = 300 * time.Second
	DefaultMaxJobs           = 100
	DefaultScheduleWait      = 2 * time.Second
	DefaultAsyncScheduleWait = 5 * time.Minute
	DefaultMaxBodyBytes      = 10 << 20
	// DefaultMaxQueuedBytes caps the event data of the queued async jobs.
	DefaultMaxQueuedBytes  = 64 << 20
	DefaultMemoryLimitInMB = 128
	DefaultTokenLifetime   = 2 * time.Hour
)

// MinMemoryLimitInMB is the least [WithMemoryLimit] accepts: Node 20
// cannot start its own bootstrap with a heap of 4 MB, and a function needs
// room beside it.
const MinMemoryLimitInMB = 16

// An Option configures a [Server]. A value the emulator cannot use is
// refused by [Listen] with an error naming the option, and by [New] with a
// panic saying the same, as baas.New refuses its own.
type Option func(*config)

type config struct {
	clientID          string
	clientSecret      string
	tokenLifetime     time.Duration
	syncTimeout       time.Duration
	asyncTimeout      time.Duration
	maxJobs           int
	maxQueued         int // 0: 10 × maxJobs
	maxQueuedBytes    int64
	maxJobRecords     int
	maxJobRecordBytes int64
	scheduleWait      time.Duration
	asyncScheduleWait time.Duration
	maxBodyBytes      int64
	memoryLimitInMB   int
	miniappID         int64
	envNames          map[string]string
	logOutput         io.Writer
	nodePath          string
	inspect           string // Node's inspector's address, host:port once checked; "" without
	data              dataConfig
	clock             clock // nil: the real clock; tests set a fake
}

func defaultConfig() config {
	return config{
		syncTimeout:       DefaultSyncTimeout,
		asyncTimeout:      DefaultAsyncTimeout,
		maxJobs:           DefaultMaxJobs,
		maxQueuedBytes:    DefaultMaxQueuedBytes,
		maxJobRecords:     DefaultMaxJobRecords,
		maxJobRecordBytes: DefaultMaxJobRecordBytes,
		scheduleWait:      DefaultScheduleWait,
		asyncScheduleWait: DefaultAsyncScheduleWait,
		maxBodyBytes:      DefaultMaxBodyBytes,
		memoryLimitInMB:   DefaultMemoryLimitInMB,
		miniappID:         1,
		tokenLifetime:     DefaultTokenLifetime,
	}
}

// An OptionError is how [Listen] (and [New], in its panic) refuses an
// option's value: Option names the option, so that a program that makes
// the options from settings of its own, as mincloud serve does from its
// flags, can name the setting instead, with Reason.
type OptionError struct {
	Option string // the option's function, e.g. "WithMaxJobs"
	Reason string // what was wrong, e.g. "at least 1 job must be able to run at once, not 0"
}

// Error is the reason, then the option: "… not 0 (WithMaxJobs)".
func (e *OptionError) Error() string { return e.Reason + " (" + e.Option + ")" }

func badOption(option, format string, a ...any) error {
	return &OptionError{Option: option, Reason: fmt.Sprintf(format, a...)}
}

// check refuses values the emulator cannot use, naming the option (an
// *OptionError), so that a mistake fails at start rather than as every
// call's odd answer (a sync timeout of 0 timed every job out after 0 ms;
// a body cap of -1 answered every call 413).
func (c *config) check() error {
	switch {
	case c.syncTimeout <= 0:
		return badOption("WithSyncTimeout", "the sync timeout must be positive, not %v", c.syncTimeout)
	case c.asyncTimeout <= 0:
		return badOption("WithAsyncTimeout", "the async timeout must be positive, not %v", c.asyncTimeout)
	case c.maxJobs < 1:
		return badOption("WithMaxJobs", "at least 1 job must be able to run at once, not %d", c.maxJobs)
	case c.maxQueued < 0:
		return badOption("WithMaxQueuedJobs", "the async queue's cap must not be negative (0 for 10 × the max jobs), not %d", c.maxQueued)
	case c.maxQueuedBytes < 1:
		return badOption("WithMaxQueuedBytes", "the async queue's byte cap must be positive, not %d", c.maxQueuedBytes)
	case c.maxJobRecords < 1:
		return badOption("WithMaxJobRecords", "at least 1 job record must be kept, not %d", c.maxJobRecords)
	case c.maxJobRecordBytes < 1:
		return badOption("WithMaxJobRecordBytes", "the job records' byte cap must be positive, not %d", c.maxJobRecordBytes)
	case c.scheduleWait < 0:
		return badOption("WithScheduleWait", "the schedule wait must not be negative, not %v", c.scheduleWait)
	case c.asyncScheduleWait < 0:
		return badOption("WithAsyncScheduleWait", "the async schedule wait must not be negative, not %v", c.asyncScheduleWait)
	case c.maxBodyBytes < 1:
		return badOption("WithMaxBodyBytes", "the request body cap must be positive, not %d", c.maxBodyBytes)
	case c.memoryLimitInMB < MinMemoryLimitInMB:
		return badOption("WithMemoryLimit", "the memory limit must be at least %d MB, Node's least workable heap, not %d", MinMemoryLimitInMB, c.memoryLimitInMB)
	case c.tokenLifetime < time.Second:
		return badOption("WithTokenLifetime", "the access token lifetime must be at least 1s, not %v", c.tokenLifetime)
	}
	for _, tr := range c.data.triggers {
		if err := tr.check(); err != nil {
			return err
		}
	}
	return c.checkInspect()
}

// WithClientID sets the app's client id; the default is a random one.
func WithClientID(id string) Option { return func(c *config) { c.clientID = id } }

// WithClientSecret sets the app's Open API secret; the default is a random
// one.
func WithClientSecret(secret string) Option { return func(c *config) { c.clientSecret = secret } }

// WithTokenLifetime sets how long an Open API access token lives (2 h by
// default; whole seconds, at least 1), so that tests can see a renewal.
func WithTokenLifetime(d time.Duration) Option { return func(c *config) { c.tokenLifetime = d } }

// WithSyncTimeout sets how long a sync job may run (5 s by default; more
// than 0).
func WithSyncTimeout(d time.Duration) Option { return func(c *config) { c.syncTimeout = d } }

// WithAsyncTimeout sets how long an async job may run (300 s by default;
// more than 0).
func WithAsyncTimeout(d time.Duration) Option { return func(c *config) { c.asyncTimeout = d } }

// WithMaxJobs sets how many jobs may run at once (100 by default; at
// least 1).
func WithMaxJobs(n int) Option { return func(c *config) { c.maxJobs = n } }

// WithMaxQueuedJobs caps how many async jobs (async calls and table
// triggers) may wait for a slot at once (0, the default, means 10 ×
// [WithMaxJobs]; not negative). Each waiting job keeps its event, up to a
// 10 MiB body, for up to [WithAsyncScheduleWait], so the queue is bounded:
// an async call past the cap is answered 400 "Cloud function schedule
// failed" and its job recorded schedule_failed, as a sync call that got no
// slot; a trigger's job past it is dropped (recorded schedule_failed) with
// a line to [WithLogOutput].
func WithMaxQueuedJobs(n int) Option { return func(c *config) { c.maxQueued = n } }

// WithMaxQueuedBytes caps the bytes of event data the waiting async jobs
// hold together (64 MiB by default; at least 1); past it a job is refused
// as past [WithMaxQueuedJobs].
func WithMaxQueuedBytes(n int64) Option { return func(c *config) { c.maxQueuedBytes = n } }

// queuedCap is the async queue's cap in jobs.
func (c *config) queuedCap() int {
	if c.maxQueued == 0 {
		return 10 * c.maxJobs
	}
	return c.maxQueued
}

// WithMaxJobRecords sets how many job records the emulator keeps (10,000
// by default; at least 1): past it the oldest leave [Server.Jobs], the job
// history and memory, so that an emulator left running stays small.
func WithMaxJobRecords(n int) Option { return func(c *config) { c.maxJobRecords = n } }

// WithMaxJobRecordBytes sets how many bytes of logs and results the kept
// job records may hold together (64 MiB by default; at least 1): past it
// the oldest records go, as past [WithMaxJobRecords]. The newest record is
// kept even if it alone is larger. A record keeps at most 1 MiB of log.
func WithMaxJobRecordBytes(n int64) Option { return func(c *config) { c.maxJobRecordBytes = n } }

// WithScheduleWait sets how long a sync job waits for a free slot before
// it fails with 400 "Cloud function schedule failed" (2 s by default).
func WithScheduleWait(d time.Duration) Option { return func(c *config) { c.scheduleWait = d } }

// WithAsyncScheduleWait sets how long a queued async job waits for a slot
// before it is marked schedule_failed (5 min by default).
func WithAsyncScheduleWait(d time.Duration) Option {
	return func(c *config) { c.asyncScheduleWait = d }
}

// WithMaxBodyBytes caps a request body (10 MiB by default; at least 1); a
// larger one is answered 413.
func WithMaxBodyBytes(n int64) Option { return func(c *config) { c.maxBodyBytes = n } }

// WithMemoryLimit sets the memoryLimitInMB the events carry (128 by
// default; at least [MinMemoryLimitInMB]). JavaScript functions are held to it (Node's
// --max-old-space-size); Go functions are not.
func WithMemoryLimit(mb int) Option { return func(c *config) { c.memoryLimitInMB = mb } }

// WithMiniappID sets the app id the events carry (1 by default).
func WithMiniappID(id int64) Option { return func(c *config) { c.miniappID = id } }

// WithEnv names a test environment: calls sent with X-Hydrogen-Env-ID id
// give their functions env {"id": id, "name": name}.
func WithEnv(id, name string) Option {
	return func(c *config) {
		if c.envNames == nil {
			c.envNames = map[string]string{}
		}
		c.envNames[id] = name
	}
}

// WithLogOutput makes every job's log lines also go to w, each prefixed
// with the function's name and the job id, as a console would show them.
// The emulator writes w from one goroutine at a time, one whole line per
// Write, so a plain bytes.Buffer will do.
func WithLogOutput(w io.Writer) Option {
	return func(c *config) {
		if w != nil {
			w = &lockedWriter{w: w}
		}
		c.logOutput = w
	}
}

// lockedWriter serialises the jobs' writes: jobs log from many goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// WithNode sets the node executable that runs JavaScript functions; by
// default the emulator uses $MINCLOUD_NODE, else node on PATH.
func WithNode(path string) Option { return func(c *config) { c.nodePath = path } }
