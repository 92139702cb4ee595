package emulator

import "github.com/mincloud-go/baas/emulator/internal/datastore"

// Table events: the dashboard's Tables tab refreshes when a table's
// records change, whoever wrote them (a function, the data API, the Open
// API, Go). Every write to the datastore tells of itself (its OnWrite,
// set in openStore), and the hub sends a "table" event to the streams of
// all functions; a function's own stream (`mincloud logs NAME --follow`)
// gets none. The event holds no record, only which table and how many
// records changed: it is small whatever was written, and the page reads
// what it shows through /_/api/tables.

// tableEvent is a "table" event's data.
type tableEvent struct {
	// Env is the environment (X-Hydrogen-Env-ID) whose table changed, ""
	// for the tables of calls that name none.
	Env   string `json:"env"`
	Table string `json:"table"`
	// Op is "create", "update" or "delete" (of Count records), "reset"
	// (all records deleted), "table" (made or redefined) or "drop".
	Op    string `json:"op"`
	Count int    `json:"count"`
}

// tableChanged publishes w, a committed write to a table of environment
// env, to the streams. It costs one atomic load when no stream is open.
func (h *eventHub) tableChanged(env string, w datastore.Write) {
	if h.nStreams.Load() == 0 {
		return
	}
	h.publish("", "table", &tableEvent{Env: env, Table: w.Table, Op: w.Op, Count: w.Count})
}
