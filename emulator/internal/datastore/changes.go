package datastore

import (
	"context"

	"github.com/mincloud-go/baas/emulator/internal/jsjson"
)

// Change is one record a write made, changed or removed, as table
// triggers see it. Before is nil for a create, After nil for a delete.
type Change struct {
	Table  *Table
	Event  string // "create", "update" or "delete"
	ID     string
	Before Doc
	After  Doc
}

type noTriggersKey struct{}

// WithoutTriggers marks ctx so that its writes report no changes: the
// platform's enable_trigger=0.
func WithoutTriggers(ctx context.Context) context.Context {
	return context.WithValue(ctx, noTriggersKey{}, true)
}

// watching reports whether the changes of a write on ctx are wanted.
func (s *Store) watching(ctx context.Context) bool {
	return s.OnChange != nil && ctx.Value(noTriggersKey{}) == nil
}

// notify reports a committed write's changes.
func (s *Store) notify(ctx context.Context, changes []Change) {
	if len(changes) > 0 && s.watching(ctx) {
		s.OnChange(changes)
	}
}

// cloneDoc is a deep copy of a record (for the before of an update).
func cloneDoc(d Doc) Doc {
	b, err := jsjson.Marshal(d)
	if err != nil {
		return nil
	}
	c, err := ParseObject(b)
	if err != nil {
		return nil
	}
	return c
}

// Write is what one committed write did to a table, for a watcher that
// wants to know that the table changed but not how (the dashboard): no
// record contents, so telling costs nothing per record.
type Write struct {
	Table string // the table's name (after a rename, the new one)
	// Op is "create", "update" or "delete" (Count records), "reset" (all
	// records deleted), "table" (the table made or its definition
	// changed) or "drop" (the table deleted).
	Op    string
	Count int
}

// wrote tells OnWrite of a committed write, whatever the context: a write
// sent with enable_trigger=0 changes the table all the same. A write
// that changed no record is not told.
func (s *Store) wrote(t *Table, op string, n int) {
	if s.OnWrite != nil && (n > 0 || op == "reset" || op == "table" || op == "drop") {
		s.OnWrite(Write{Table: t.Name, Op: op, Count: n})
	}
}
