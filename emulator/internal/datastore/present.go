package datastore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/mincloud-go/baas/emulator/internal/jsjson"
)

// View says how records are answered: keys (the platform's select,
// "a,b" or "-a,-b") and expand ("ptr,created_by").
type View struct {
	Keys   string
	Expand string
}

// parsedView is a checked View.
type parsedView struct {
	include, exclude map[string]bool            // top level
	subInc, subExc   map[string]map[string]bool // inside expanded pointers
	expand           map[string]bool
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func parseView(t *Table, v View) (*parsedView, error) {
	pv := &parsedView{expand: map[string]bool{}}
	for _, e := range splitList(v.Expand) {
		if !fieldPathRule.MatchString(e) || strings.Contains(e, ".") {
			return nil, badRequest("Invalid expand: %q is not a field name.", e)
		}
		if t.Declared && e != "created_by" {
			f := t.Field(e)
			if f == nil || f.Type != "reference" {
				return nil, badRequest("Invalid expand: %q is not a reference field of table %q.", e, t.Name)
			}
		}
		pv.expand[e] = true
	}
	var inc, exc []string
	for _, k := range splitList(v.Keys) {
		name := strings.TrimPrefix(k, "-")
		if !fieldPathRule.MatchString(name) {
			return nil, badRequest("Invalid keys: %q is not a field name.", name)
		}
		top, _, _ := strings.Cut(name, ".")
		if t.Declared && t.fieldType(top) == "" {
			// An unknown field in keys is 400 (§6.2).
			return nil, badRequest("Invalid keys: table %q has no field %q.", t.Name, top)
		}
		if strings.HasPrefix(k, "-") {
			exc = append(exc, name)
		} else {
			inc = append(inc, name)
		}
	}
	// Mixing an include and an exclude list is not supported: the
	// platform then ignores keys (§7).
	if len(inc) > 0 && len(exc) > 0 {
		return pv, nil
	}
	fill := func(list []string, top *map[string]bool, sub *map[string]map[string]bool) {
		for _, k := range list {
			ptr, field, nested := strings.Cut(k, ".")
			if nested {
				if *sub == nil {
					*sub = map[string]map[string]bool{}
				}
				if (*sub)[ptr] == nil {
					(*sub)[ptr] = map[string]bool{}
				}
				(*sub)[ptr][field] = true
				continue
			}
			if *top == nil {
				*top = map[string]bool{}
			}
			(*top)[k] = true
		}
	}
	fill(inc, &pv.include, &pv.subInc)
	fill(exc, &pv.exclude, &pv.subExc)
	// keys=title,ptr.x keeps ptr beside title; ptr.x alone does not
	// restrict the top level (§7).
	if pv.include != nil {
		for ptr := range pv.subInc {
			pv.include[ptr] = true
		}
	}
	return pv, nil
}

// CheckView checks keys and expand before a write, so that a bad one
// fails the request rather than its answer.
func (s *Store) CheckView(ref string, v View) error {
	t, ok := s.Lookup(ref)
	if !ok {
		return nil // a first write makes the table; an undeclared table checks nothing
	}
	_, err := parseView(t, v)
	return err
}

// Present turns stored records into the platform's answer: _id beside
// id, pointers as {"id","_table"} (or the row, when expanded), keys
// applied.
func (s *Store) Present(ctx context.Context, t *Table, docs []Doc, v View) ([]Doc, error) {
	pv, err := parseView(t, v)
	if err != nil {
		return nil, err
	}
	// Fetch every expanded target in one query per pointer field.
	targets := map[string]map[string]Doc{} // field → id → row
	targetTable := map[string]*Table{}
	for field := range pv.expand {
		if field == "created_by" {
			continue
		}
		f := t.Field(field)
		if f == nil {
			continue
		}
		tt, ok := s.byIDLocked(f.TargetID)
		if !ok {
			continue
		}
		targetTable[field] = tt
		var ids []any
		for _, d := range docs {
			if id, ok := d[field]; ok && id != nil {
				ids = append(ids, fmt.Sprint(id))
			}
		}
		if len(ids) == 0 {
			continue
		}
		// A target the caller may not read is not expanded: it stays a
		// bare {"id","_table"} pointer, as a dangling one does (the
		// platform does not say; the emulator's choice, so an expand
		// never shows a row a find would hide).
		expr, args := withACL(ctx, "read_perm", "id IN ("+strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")+")", ids)
		rows, err := s.db.QueryContext(ctx, fmt.Sprintf(`SELECT doc FROM %s WHERE %s`, SQLTable(tt.ID), expr), args...)
		if err != nil {
			return nil, err
		}
		rowsOut, err := scanDocs(rows)
		if err != nil {
			return nil, err
		}
		m := map[string]Doc{}
		for _, r := range rowsOut {
			m[fmt.Sprint(r["id"])] = r
		}
		targets[field] = m
	}
	out := make([]Doc, len(docs))
	for i, d := range docs {
		r := Doc{}
		for k, val := range d {
			r[k] = val
		}
		r["_id"] = r["id"]
		for _, f := range t.Fields {
			if f.Type != "reference" {
				continue
			}
			val, ok := r[f.Name]
			if !ok || val == nil {
				continue
			}
			tt, _ := s.byIDLocked(f.TargetID)
			tname := ""
			if tt != nil {
				tname = tt.Name
			}
			// Expanded pointers are one level deep; a dangling one stays
			// {"id","_table"} (§10.20).
			if row, ok := targets[f.Name][fmt.Sprint(val)]; ok && pv.expand[f.Name] {
				sub := Doc{}
				for k, x := range row {
					sub[k] = x
				}
				sub["_id"] = sub["id"]
				if tt != nil {
					renderPointers(tt, sub, s)
				}
				sub["_table"] = tname
				r[f.Name] = project(sub, pv.subInc[f.Name], pv.subExc[f.Name], "_table")
			} else {
				r[f.Name] = Doc{"id": val, "_table": tname}
			}
		}
		if pv.expand["created_by"] && r["created_by"] != nil {
			// The emulator has no user table: the creator expands to
			// {"id"} (a user object without _table, as the platform's).
			r["created_by"] = project(Doc{"id": r["created_by"]}, pv.subInc["created_by"], pv.subExc["created_by"], "")
		}
		out[i] = project(r, pv.include, pv.exclude, "")
	}
	return out, nil
}

// renderPointers writes a row's own pointers unexpanded.
func renderPointers(t *Table, r Doc, s *Store) {
	for _, f := range t.Fields {
		if f.Type != "reference" || r[f.Name] == nil {
			continue
		}
		tname := ""
		if tt, ok := s.byIDLocked(f.TargetID); ok {
			tname = tt.Name
		}
		r[f.Name] = Doc{"id": r[f.Name], "_table": tname}
	}
}

// project applies an include or exclude set; id brings _id with it
// (keys=-id drops both, §7). An include list keeps only what it names
// (§10.19: id is not kept implicitly). keep survives any projection.
func project(r Doc, include, exclude map[string]bool, keep string) Doc {
	if len(include) > 0 {
		out := Doc{}
		for k := range include {
			if v, ok := r[k]; ok {
				out[k] = v
			}
		}
		if include["id"] {
			out["_id"] = r["_id"]
		}
		if keep != "" {
			if v, ok := r[keep]; ok {
				out[keep] = v
			}
		}
		return out
	}
	for k := range exclude {
		delete(r, k)
		if k == "id" {
			delete(r, "_id")
		}
	}
	return r
}

func (s *Store) byIDLocked(id int64) (*Table, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.byID[id]
	return t, ok
}

// PresentJSON is Present on stored JSON, giving each record's answer
// JSON. A table without pointers asked for no keys or expand — the usual
// find — needs no decoding: _id is spliced in front of the stored JSON.
func (s *Store) PresentJSON(ctx context.Context, t *Table, raws []RawDoc, v View) ([]json.RawMessage, error) {
	out := make([]json.RawMessage, len(raws))
	if strings.TrimSpace(v.Keys) == "" && strings.TrimSpace(v.Expand) == "" && !t.hasPointers() {
		for i, r := range raws {
			if len(r.JSON) < 2 || r.JSON[0] != '{' {
				return nil, fmt.Errorf("record %s is stored damaged", r.ID)
			}
			b := make([]byte, 0, len(r.JSON)+len(r.ID)+10)
			b = append(b, `{"_id":`...)
			b = strconv.AppendQuote(b, r.ID)
			if len(r.JSON) > 2 {
				b = append(b, ',')
			}
			out[i] = append(b, r.JSON[1:]...)
		}
		return out, nil
	}
	docs := make([]Doc, len(raws))
	for i, r := range raws {
		d, err := ParseObject(r.JSON)
		if err != nil {
			return nil, err
		}
		docs[i] = d
	}
	shown, err := s.Present(ctx, t, docs, v)
	if err != nil {
		return nil, err
	}
	for i, d := range shown {
		if out[i], err = jsjson.Marshal(d); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (t *Table) hasPointers() bool {
	for _, f := range t.Fields {
		if f.Type == "reference" {
			return true
		}
	}
	return false
}
