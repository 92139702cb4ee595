package emulator

import "time"

// DefaultInspectAddr is where Node's inspector listens by default, as
// node --inspect does.
const DefaultInspectAddr = "127.0.0.1:9229"

// inspectDeadline stands for "no deadline" while a debugger may hold a
// job at a breakpoint: a day, longer than anyone stays paused.
const inspectDeadline = 24 * time.Hour

// WithInspect runs the JavaScript functions under Node's inspector,
// listening on addr (host:port; see [DefaultInspectAddr]) once the first
// function runs: in one Node process, so that one debugger target sees
// every call, and without deadlines, so that a job held at a breakpoint
// is not killed (as the Firebase emulator does). Calls then run one at a
// time: a function that calls another synchronously waits for it forever.
// Breakpoints set in a bundled function's own files (TypeScript too) hold
// through its inline source map.
func WithInspect(addr string) Option { return func(c *config) { c.inspect = addr } }

// deadlinesOffWhenInspecting lifts the job deadlines under WithInspect.
func (c *config) deadlinesOffWhenInspecting() {
	if c.inspect != "" {
		c.syncTimeout, c.asyncTimeout = inspectDeadline, inspectDeadline
	}
}

// workerCap is how many Node processes may run: one under the inspector
// (one port, one target), else one per job slot.
func (s *Server) workerCap() int {
	if s.cfg.inspect != "" {
		return 1
	}
	return s.cfg.maxJobs
}

// inspectArgs are the node flags WithInspect adds.
func (s *Server) inspectArgs() []string {
	if s.cfg.inspect == "" {
		return nil
	}
	return []string{"--inspect=" + s.cfg.inspect}
}
