package emulator

// watchBuffer is how many events a watcher's channel holds; past it, events
// are dropped for that watcher rather than slowing the jobs down.
const watchBuffer = 256

// JobEvent is a change of one job record, as [Server.WatchJobs] sends it:
// the job was created (StatusWaiting), started (StatusExecuting) or ended.
type JobEvent struct {
	// Job is the record at the change, without its log (read it with
	// [Server.Job]).
	Job Job
	// Dropped counts the events this watcher missed just before this one
	// because it read too slowly; when it is not 0, [Server.Jobs] says
	// where things stand.
	Dropped int
}

// WatchJobs returns a channel of the changes of job records, and stop,
// which ends the watch and closes the channel (as Close does for every
// watch). The channel holds 256 events; a watcher that falls further
// behind misses events, counted in the next one's Dropped, so that a slow
// reader never slows a job. The events come from the same hub as the
// dashboard's stream (events.go), in the same order.
func (s *Server) WatchJobs() (events <-chan JobEvent, stop func()) {
	w := s.events.watch()
	return w.ch, func() { s.events.unwatch(w) }
}
