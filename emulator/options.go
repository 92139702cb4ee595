package emulator

import (
	"io"
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
	DefaultMemoryLimitInMB   = 128
	DefaultTokenLifetime     = 2 * time.Hour
)

// An Option configures a [Server].
type Option func(*config)

type config struct {
	clientID          string
	clientSecret      string
	tokenLifetime     time.Duration
	syncTimeout       time.Duration
	asyncTimeout      time.Duration
	maxJobs           int
	maxJobRecords     int
	scheduleWait      time.Duration
	asyncScheduleWait time.Duration
	maxBodyBytes      int64
	memoryLimitInMB   int
	miniappID         int64
	envNames          map[string]string
	logOutput         io.Writer
	nodePath          string
	data              dataConfig
}

func defaultConfig() config {
	return config{
		syncTimeout:       DefaultSyncTimeout,
		asyncTimeout:      DefaultAsyncTimeout,
		maxJobs:           DefaultMaxJobs,
		maxJobRecords:     DefaultMaxJobRecords,
		scheduleWait:      DefaultScheduleWait,
		asyncScheduleWait: DefaultAsyncScheduleWait,
		maxBodyBytes:      DefaultMaxBodyBytes,
		memoryLimitInMB:   DefaultMemoryLimitInMB,
		miniappID:         1,
		tokenLifetime:     DefaultTokenLifetime,
	}
}

// WithClientID sets the app's client id; the default is a random one.
func WithClientID(id string) Option { return func(c *config) { c.clientID = id } }

// WithClientSecret sets the app's Open API secret; the default is a random
// one.
func WithClientSecret(secret string) Option { return func(c *config) { c.clientSecret = secret } }

// WithTokenLifetime sets how long an Open API access token lives (2 h by
// default; whole seconds, at least 1), so that tests can see a renewal.
func WithTokenLifetime(d time.Duration) Option { return func(c *config) { c.tokenLifetime = d } }

// WithSyncTimeout sets how long a sync job may run (5 s by default).
func WithSyncTimeout(d time.Duration) Option { return func(c *config) { c.syncTimeout = d } }

// WithAsyncTimeout sets how long an async job may run (300 s by default).
func WithAsyncTimeout(d time.Duration) Option { return func(c *config) { c.asyncTimeout = d } }

// WithMaxJobs sets how many jobs may run at once (100 by default).
func WithMaxJobs(n int) Option { return func(c *config) { c.maxJobs = n } }

// WithMaxJobRecords sets how many job records the emulator keeps (10,000
// by default; at least 1): past it the oldest leave [Server.Jobs], the job
// history and memory, so that an emulator left running stays small.
func WithMaxJobRecords(n int) Option { return func(c *config) { c.maxJobRecords = n } }

// WithScheduleWait sets how long a sync job waits for a free slot before
// it fails with 400 "Cloud function schedule failed" (2 s by default).
func WithScheduleWait(d time.Duration) Option { return func(c *config) { c.scheduleWait = d } }

// WithAsyncScheduleWait sets how long a queued async job waits for a slot
// before it is marked schedule_failed (5 min by default).
func WithAsyncScheduleWait(d time.Duration) Option {
	return func(c *config) { c.asyncScheduleWait = d }
}

// WithMaxBodyBytes caps a request body; a larger one is answered 413.
func WithMaxBodyBytes(n int64) Option { return func(c *config) { c.maxBodyBytes = n } }

// WithMemoryLimit sets the memoryLimitInMB the events carry (128 by
// default). JavaScript functions are held to it (Node's
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
func WithLogOutput(w io.Writer) Option { return func(c *config) { c.logOutput = w } }

// WithNode sets the node executable that runs JavaScript functions; by
// default the emulator uses $MINCLOUD_NODE, else node on PATH.
func WithNode(path string) Option { return func(c *config) { c.nodePath = path } }
