package emulator

import (
	"context"
	"fmt"

	"github.com/mincloud-go/baas/emulator/internal/datastore"
	"github.com/mincloud-go/baas/emulator/internal/jsjson"
	"github.com/mincloud-go/baas/function"
)

// SourceTrigger is the source (and the event's eventType) of a job a
// table trigger started. The platform's value is undocumented; the
// event's flex_schema_name names the table, as the protocol says.
const SourceTrigger = "trigger"

// tableTrigger runs function when a record of table is created, updated
// or deleted (events; all three when empty).
type tableTrigger struct {
	table    string
	function string
	events   map[string]bool
	given    []string // the events as given, for check's message
}

// check refuses a trigger that could never fire: an empty table or
// function name, or an event other than create, update and delete.
func (t tableTrigger) check() error {
	opt := fmt.Sprintf("WithTableTrigger(%q, %q", t.table, t.function)
	for _, e := range t.given {
		opt += fmt.Sprintf(", %q", e)
	}
	opt += ")"
	switch {
	case t.table == "":
		return fmt.Errorf("%s: the table name is empty", opt)
	case t.function == "":
		return fmt.Errorf("%s: the function name is empty", opt)
	}
	for _, e := range t.given {
		if e != "create" && e != "update" && e != "delete" {
			return fmt.Errorf("%s: unknown event %q (create, update or delete)", opt, e)
		}
	}
	return nil
}

// WithTableTrigger makes function a trigger of table (by name): it runs,
// async, for each record created, updated or deleted, or only for the
// events given ("create", "update", "delete"), as Firebase's emulator
// fires Firestore triggers. A write sent with enable_trigger=0 fires
// none, as on the platform. The event's data is
// {"event":"on_create"|"on_update"|"on_delete","schema_id","schema_name",
// "id","before","after"} — the realtime event's shape (the platform's
// trigger payload is undocumented) — and its flex_schema_name is the
// table.
func WithTableTrigger(table, function string, events ...string) Option {
	return func(c *config) {
		t := tableTrigger{table: table, function: function, events: map[string]bool{}, given: events}
		for _, e := range events {
			t.events[e] = true
		}
		c.data.triggers = append(c.data.triggers, t)
	}
}

// triggerEvent is a trigger job's data.
type triggerEvent struct {
	Event      string `json:"event"`
	SchemaID   int64  `json:"schema_id"`
	SchemaName string `json:"schema_name"`
	ID         string `json:"id"`
	Before     any    `json:"before"`
	After      any    `json:"after"`
}

// onDataChange starts the triggers of committed changes, made in
// environment envID ("" for none): the trigger's event names it, so the
// function's own data calls reach the same environment's tables.
func (s *Server) onDataChange(envID string, changes []datastore.Change) {
	if len(s.cfg.data.triggers) == 0 || s.ctx.Err() != nil {
		return
	}
	for _, ch := range changes {
		for _, tr := range s.cfg.data.triggers {
			if tr.table != ch.Table.Name || len(tr.events) > 0 && !tr.events[ch.Event] {
				continue
			}
			s.fireTrigger(envID, tr, ch)
		}
	}
}

func (s *Server) fireTrigger(envID string, tr tableTrigger, ch datastore.Change) {
	var h function.Handler
	var js *jsFunction
	ok := s.withFunction(tr.function, func(f *fnRecord) { h, js = f.h, f.js })
	if !ok || (h == nil && js == nil) {
		if s.cfg.logOutput != nil {
			fmt.Fprintf(s.cfg.logOutput, "data: trigger of table %q: function %q is not registered\n", tr.table, tr.function)
		}
		return
	}
	show := func(d datastore.Doc) any {
		if d == nil {
			return map[string]any{} // as the realtime events: {} for none
		}
		store, err := s.storeFor(envID) // open already: the change came from it
		if err != nil {
			return d
		}
		out, err := store.Present(context.Background(), ch.Table, []datastore.Doc{d}, datastore.View{})
		if err != nil || len(out) == 0 {
			return d
		}
		return out[0]
	}
	data, err := jsjson.Marshal(triggerEvent{Event: "on_" + ch.Event, SchemaID: ch.Table.ID, SchemaName: ch.Table.Name,
		ID: ch.ID, Before: show(ch.Before), After: show(ch.After)})
	if err != nil {
		return
	}
	ev := &function.Event{
		Data:            data,
		EventType:       SourceTrigger,
		MemoryLimitInMB: s.cfg.memoryLimitInMB,
		MiniappID:       s.cfg.miniappID,
		TimeLimitInMS:   s.cfg.asyncTimeout.Milliseconds(),
		FlexSchemaName:  ch.Table.Name,
	}
	if envID != "" {
		ev.Env = &function.Env{ID: envID, Name: s.cfg.envNames[envID]}
	}
	j := s.newJob(tr.function, SourceTrigger, false, h, js, ev, "")
	if !s.sched.enqueue(j) {
		j.finish(StatusScheduleFailed, nil)
		if s.cfg.logOutput != nil {
			fmt.Fprintf(s.cfg.logOutput, "data: trigger of table %q: job #%d of function %q dropped: the async queue is full (WithMaxQueuedJobs, WithMaxQueuedBytes)\n", tr.table, j.rec.ID, tr.function)
		}
	}
}
