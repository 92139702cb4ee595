package datastore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// ImportSchema makes the tables of a schema in the dashboard's JSON
// format, in the order and with the rollback of the hosted CLI's
// schema-import (§8.4): _userprofile entries are skipped (the emulator has
// no user table); an existing name fails before any write (or, with
// skipExisting, leaves that table as it is: a data file loaded again with
// its schema); tables without reference fields first, then rounds of those
// whose targets exist; on an error every table made is deleted, last
// first.
func (s *Store) ImportSchema(ctx context.Context, b []byte, skipExisting bool) error {
	b = bytes.TrimSpace(b)
	var raws []json.RawMessage
	switch {
	case len(b) > 0 && b[0] == '[':
		if err := json.Unmarshal(b, &raws); err != nil {
			return badRequest("The schema is not valid JSON: %v.", err)
		}
	case len(b) > 0 && b[0] == '{':
		raws = []json.RawMessage{b}
	default:
		return badRequest("The schema must be a table object or an array of them (the dashboard's JSON format).")
	}
	type entry struct {
		spec TableSpec
		refs []string
	}
	var todo []entry
	for i, raw := range raws {
		var sp TableSpec
		if err := json.Unmarshal(raw, &sp); err != nil {
			return badRequest("Schema entry %d: %v.", i, err)
		}
		if sp.Name == nil {
			return badRequest("Schema entry %d has no name.", i)
		}
		if *sp.Name == "_userprofile" {
			continue
		}
		if sp.Schema == nil {
			return badRequest("Table %q: schema.fields is missing.", *sp.Name)
		}
		if _, exists := s.Lookup(*sp.Name); exists {
			if skipExisting {
				continue
			}
			return badRequest("Table %q already exists.", *sp.Name)
		}
		e := entry{spec: sp}
		for _, fr := range sp.Schema.Fields {
			var f specField
			if json.Unmarshal(fr, &f) == nil && f.Type == "reference" {
				ref := f.SchemaName
				if ref == "" && len(f.SchemaID) > 0 {
					var v any
					json.Unmarshal(f.SchemaID, &v)
					ref = fmt.Sprint(v)
				}
				e.refs = append(e.refs, ref)
			}
		}
		todo = append(todo, e)
	}
	var made []*Table
	rollback := func(err error) error {
		for i := len(made) - 1; i >= 0; i-- {
			s.DeleteTable(ctx, fmt.Sprint(made[i].ID))
		}
		return err
	}
	create := func(e entry) error {
		t, err := s.CreateTable(ctx, e.spec, true)
		if err != nil {
			return fmt.Errorf("table %q: %w", *e.spec.Name, err)
		}
		made = append(made, t)
		return nil
	}
	var rest []entry
	for _, e := range todo {
		if len(e.refs) == 0 {
			if err := create(e); err != nil {
				return rollback(err)
			}
		} else {
			rest = append(rest, e)
		}
	}
	for len(rest) > 0 {
		var next []entry
		progress := false
		for _, e := range rest {
			ready := true
			for _, r := range e.refs {
				if _, ok := s.Lookup(r); !ok {
					ready = false
				}
			}
			if !ready {
				next = append(next, e)
				continue
			}
			if err := create(e); err != nil {
				return rollback(err)
			}
			progress = true
		}
		if !progress {
			var names []string
			for _, e := range next {
				names = append(names, *e.spec.Name)
			}
			return rollback(badRequest("Tables %s point to tables that are missing or point to each other in a circle.", strings.Join(names, ", ")))
		}
		rest = next
	}
	return nil
}
