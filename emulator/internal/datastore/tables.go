package datastore

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// nameRule is the platform's rule for table and field names.
var nameRule = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,31}$`)

// systemFields are the fields every record has, with their types.
var systemFields = map[string]string{
	"id": "id", "_id": "id", "created_at": "integer", "updated_at": "integer",
	"created_by": "integer", "read_perm": "array", "write_perm": "array",
}

// fieldTypes are the types a schema field may have.
var fieldTypes = map[string]bool{
	"string": true, "integer": true, "number": true, "boolean": true, "date": true,
	"array": true, "object": true, "geojson": true, "file": true, "reference": true,
}

// Table is a table's definition.
type Table struct {
	ID          int64
	Name        string
	Description string
	// Declared is true for a table defined by a schema or the table API;
	// false for one made by a first write, which checks no types.
	Declared     bool
	Fields       []Field
	RowReadPerm  []string
	RowWritePerm []string
	WritePerm    []string
	Indexes      [][]string // unique indexes
	CreatedAt    int64
	UpdatedAt    int64

	byName map[string]*Field
}

// Field is one declared field.
type Field struct {
	Name           string          `json:"name"`
	Type           string          `json:"type"`
	Description    string          `json:"description,omitempty"`
	Items          *Items          `json:"items,omitempty"`
	TargetID       int64           `json:"schema_id,omitempty"` // reference: target table id
	Required       bool            `json:"required,omitempty"`
	Default        json.RawMessage `json:"default,omitempty"`
	Format         string          `json:"format,omitempty"`
	CoordinateType string          `json:"coordinate_type,omitempty"`
	ACL            json.RawMessage `json:"acl,omitempty"`
}

// Items is an array field's element type.
type Items struct {
	Type string `json:"type"`
}

// storedTable is a table's definition as mc_tables keeps it.
type storedTable struct {
	Name         string     `json:"name"`
	Description  string     `json:"description,omitempty"`
	Declared     bool       `json:"declared"`
	Fields       []Field    `json:"fields"`
	RowReadPerm  []string   `json:"row_read_perm"`
	RowWritePerm []string   `json:"row_write_perm"`
	WritePerm    []string   `json:"write_perm"`
	Indexes      [][]string `json:"indexes,omitempty"`
	CreatedAt    int64      `json:"created_at"`
	UpdatedAt    int64      `json:"updated_at"`
}

func parseStoredTable(id int64, def string) (*Table, error) {
	var st storedTable
	if err := json.Unmarshal([]byte(def), &st); err != nil {
		return nil, err
	}
	t := &Table{ID: id, Name: st.Name, Description: st.Description, Declared: st.Declared, Fields: st.Fields,
		RowReadPerm: st.RowReadPerm, RowWritePerm: st.RowWritePerm, WritePerm: st.WritePerm,
		Indexes: st.Indexes, CreatedAt: st.CreatedAt, UpdatedAt: st.UpdatedAt}
	t.index()
	return t, nil
}

func (t *Table) stored() string {
	b, _ := json.Marshal(storedTable{Name: t.Name, Description: t.Description, Declared: t.Declared, Fields: t.Fields,
		RowReadPerm: t.RowReadPerm, RowWritePerm: t.RowWritePerm, WritePerm: t.WritePerm, Indexes: t.Indexes,
		CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt})
	return string(b)
}

func (t *Table) index() {
	t.byName = map[string]*Field{}
	for i := range t.Fields {
		t.byName[t.Fields[i].Name] = &t.Fields[i]
	}
}

// Field returns the declared field name (nil for a system field, an
// undeclared one, or any field of an undeclared table).
func (t *Table) Field(name string) *Field { return t.byName[name] }

// fieldType is the type of a top-level field: "" when unknown.
func (t *Table) fieldType(name string) string {
	if st, ok := systemFields[name]; ok {
		return st
	}
	if f := t.byName[name]; f != nil {
		return f.Type
	}
	return ""
}

// TableSpec is a table as the table API and the dashboard's JSON format
// describe it; every key is optional here and checked by the operation.
type TableSpec struct {
	Name         *string                             `json:"name"`
	Description  *string                             `json:"description"`
	Schema       *struct{ Fields []json.RawMessage } `json:"schema"`
	RowReadPerm  []string                            `json:"row_read_perm"`
	RowWritePerm []string                            `json:"row_write_perm"`
	WritePerm    []string                            `json:"write_perm"`
	Indexes      []struct{ Fields []string }         `json:"indexes"`
}

// specField is one field of a spec, permissive in what it accepts:
// schema_id may be a number or a string, schema_name names the target in
// the dashboard's format, and the ACL flag has two spellings (§8.1).
type specField struct {
	Name           string                   `json:"name"`
	Type           string                   `json:"type"`
	Description    string                   `json:"description"`
	Items          *Items                   `json:"items"`
	SchemaID       json.RawMessage          `json:"schema_id"`
	SchemaName     string                   `json:"schema_name"`
	Constraints    *struct{ Required bool } `json:"constraints"`
	Default        json.RawMessage          `json:"default"`
	Format         string                   `json:"format"`
	CoordinateType string                   `json:"coordinate_type"`
	ACL            json.RawMessage          `json:"acl"`
}

// Tables returns the tables, by id.
func (s *Store) Tables() []*Table {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Table, 0, len(s.byID))
	for _, t := range s.byID {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Strict reports whether a schema is in force: some table was declared,
// so an unknown table is 404 rather than made by its first write.
func (s *Store) Strict() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.strictLocked()
}

func (s *Store) strictLocked() bool {
	for _, t := range s.byID {
		if t.Declared {
			return true
		}
	}
	return false
}

// Lookup finds a table by name, or by id written in decimal (the Web API
// takes either).
func (s *Store) Lookup(ref string) (*Table, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lookupLocked(ref)
}

func (s *Store) lookupLocked(ref string) (*Table, bool) {
	if t, ok := s.tables[ref]; ok {
		return t, true
	}
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		t, ok := s.byID[id]
		return t, ok
	}
	return nil, false
}

// tableFor finds the table a read names: 404 when there is none.
func (s *Store) tableFor(ref string) (*Table, error) {
	if t, ok := s.Lookup(ref); ok {
		return t, nil
	}
	return nil, notFound("Table %q does not exist.", ref)
}

// tableForRead finds the table a read names. Without a schema, a table
// not written yet reads as empty (exists is false, t is a stand-in with
// no id) rather than 404: on the platform the table would have been made
// in the dashboard before any function ran, and a find before the first
// write should not fail a test (§10, the emulator's choice).
func (s *Store) tableForRead(ref string) (t *Table, exists bool, err error) {
	s.mu.Lock()
	t, ok := s.lookupLocked(ref)
	strict := s.strictLocked()
	s.mu.Unlock()
	if ok {
		return t, true, nil
	}
	if strict || !nameRule.MatchString(ref) {
		return nil, false, notFound("Table %q does not exist.", ref)
	}
	return &Table{Name: ref}, false, nil
}

// MaxAutoTables is how many tables a database may have for a write to
// make one more (without a schema): a write naming a new table past it is
// answered 400. Tables from a schema or the Open API are not capped.
const MaxAutoTables = 1000

// tableForWrite finds the table a write names, making it when no schema
// is in force (the emulator's convenience: the platform needs the table
// made first).
func (s *Store) tableForWrite(ctx context.Context, ref string) (*Table, error) {
	s.mu.Lock()
	if t, ok := s.lookupLocked(ref); ok {
		s.mu.Unlock()
		return t, nil
	}
	strict := s.strictLocked()
	s.mu.Unlock()
	if strict {
		return nil, notFound("Table %q does not exist: it is not in the schema.", ref)
	}
	if !nameRule.MatchString(ref) {
		return nil, badRequest("Invalid table name %q: a name starts with a letter and has at most 32 letters, digits and _.", ref)
	}
	// Anyone with the public client id can write, so the tables a write
	// makes are capped: each costs an SQL table and memory for good.
	s.mu.Lock()
	n := len(s.tables)
	s.mu.Unlock()
	if n >= s.maxAutoTables {
		return nil, badRequest("Table %q does not exist, and it cannot be made by a first write: the database has %d tables, the most a write may make (%d); load a schema or delete tables.", ref, n, s.maxAutoTables)
	}
	// Open to everyone (the emulator's choice: the platform has no
	// table made by a write): the official SDK in a page works unchanged
	// without a schema or a login; a schema sets real ACLs.
	name, open := ref, []string{"user:anonymous"}
	t, err := s.CreateTable(ctx, TableSpec{Name: &name, RowReadPerm: open, RowWritePerm: open, WritePerm: open}, false)
	if err != nil {
		// Made by a concurrent first write meanwhile.
		if t2, ok := s.Lookup(ref); ok {
			return t2, nil
		}
		return nil, err
	}
	if s.OnNewTable != nil {
		s.OnNewTable(t.Name)
	}
	return t, nil
}

// CreateTable makes a table from spec; declared marks it as defined by a
// schema (types are then checked).
func (s *Store) CreateTable(ctx context.Context, spec TableSpec, declared bool) (*Table, error) {
	if spec.Name == nil || !nameRule.MatchString(*spec.Name) {
		n := ""
		if spec.Name != nil {
			n = *spec.Name
		}
		return nil, badRequest("Invalid table name %q: a name starts with a letter and has at most 32 letters, digits and _.", n)
	}
	now := s.now().Unix()
	t := &Table{Name: *spec.Name, Declared: declared, CreatedAt: now, UpdatedAt: now,
		RowReadPerm: []string{"user:*"}, RowWritePerm: []string{"user:*"}, WritePerm: []string{"user:*"}}
	if err := s.applySpec(t, spec); err != nil {
		return nil, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	s.mu.Lock()
	_, dup := s.tables[t.Name]
	s.mu.Unlock()
	if dup {
		return nil, badRequest("A table named %q already exists.", t.Name)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO mc_tables(name, def) VALUES (?, ?)`, t.Name, t.stored())
	if err != nil {
		return nil, badRequest("A table named %q already exists.", t.Name)
	}
	t.ID, _ = res.LastInsertId()
	tbl := SQLTable(t.ID)
	stmts := []string{
		fmt.Sprintf(`CREATE TABLE %s (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, doc TEXT NOT NULL)`, tbl),
		// The default order is -created_at: index it from the start.
		fmt.Sprintf(`CREATE INDEX %s ON %s(json_extract(doc, '$.created_at'))`, quoteIdent(tbl+"_created_at"), tbl),
	}
	stmts = append(stmts, uniqueIndexSQL(t)...)
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.tables[t.Name] = t
	s.byID[t.ID] = t
	s.mu.Unlock()
	s.wrote(t, "table", 0)
	return t, nil
}

func uniqueIndexSQL(t *Table) []string {
	var out []string
	for _, fields := range t.Indexes {
		exprs := make([]string, len(fields))
		for i, f := range fields {
			exprs[i] = jsonExtract(f)
		}
		name := SQLTable(t.ID) + "_u_" + strings.Join(fields, "_")
		out = append(out, fmt.Sprintf(`CREATE UNIQUE INDEX IF NOT EXISTS %s ON %s(%s)`,
			quoteIdent(name), SQLTable(t.ID), strings.Join(exprs, ", ")))
	}
	return out
}

// applySpec checks spec and copies what it sets into t.
func (s *Store) applySpec(t *Table, spec TableSpec) error {
	if spec.Name != nil {
		if !nameRule.MatchString(*spec.Name) {
			return badRequest("Invalid table name %q: a name starts with a letter and has at most 32 letters, digits and _.", *spec.Name)
		}
		t.Name = *spec.Name
	}
	if spec.Description != nil {
		t.Description = *spec.Description
	}
	for _, p := range []struct {
		key string
		v   []string
		dst *[]string
	}{{"row_read_perm", spec.RowReadPerm, &t.RowReadPerm}, {"row_write_perm", spec.RowWritePerm, &t.RowWritePerm}, {"write_perm", spec.WritePerm, &t.WritePerm}} {
		if p.v == nil {
			continue
		}
		if err := checkPerms(p.key, p.v); err != nil {
			return err
		}
		*p.dst = p.v
	}
	if spec.Schema != nil {
		fields := make([]Field, 0, len(spec.Schema.Fields))
		seen := map[string]bool{}
		refs := 0
		for _, raw := range spec.Schema.Fields {
			f, err := s.parseField(raw)
			if err != nil {
				return err
			}
			if _, sys := systemFields[f.Name]; sys {
				continue // the create response lists the built-in fields; they are not the caller's
			}
			if seen[f.Name] {
				return badRequest("Field %q is declared twice.", f.Name)
			}
			seen[f.Name] = true
			if f.Type == "reference" {
				refs++
			}
			fields = append(fields, f)
		}
		if refs > 3 {
			return badRequest("A table has at most 3 reference fields; %q has %d.", t.Name, refs)
		}
		t.Fields = fields
		t.index()
	}
	if spec.Indexes != nil {
		t.Indexes = nil
		for _, ix := range spec.Indexes {
			if len(ix.Fields) == 0 {
				return badRequest("An index needs fields.")
			}
			for _, f := range ix.Fields {
				if !fieldPathRule.MatchString(f) {
					return badRequest("Invalid index field %q.", f)
				}
			}
			t.Indexes = append(t.Indexes, ix.Fields)
		}
	}
	return nil
}

// parseField checks one field descriptor.
func (s *Store) parseField(raw json.RawMessage) (Field, error) {
	var sf specField
	if err := json.Unmarshal(raw, &sf); err != nil {
		return Field{}, badRequest("Invalid field %s: %v", bytes.TrimSpace(raw), err)
	}
	if !nameRule.MatchString(sf.Name) && systemFields[sf.Name] == "" {
		return Field{}, badRequest("Invalid field name %q: a name starts with a letter and has at most 32 letters, digits and _.", sf.Name)
	}
	f := Field{Name: sf.Name, Type: sf.Type, Description: sf.Description, Items: sf.Items, Default: sf.Default,
		Format: sf.Format, CoordinateType: sf.CoordinateType, ACL: sf.ACL}
	if sf.Constraints != nil {
		f.Required = sf.Constraints.Required
	}
	if _, sys := systemFields[f.Name]; sys {
		return f, nil
	}
	if !fieldTypes[f.Type] {
		return Field{}, badRequest("Field %q has an unknown type %q (one of string, integer, number, boolean, date, array, object, geojson, file, reference).", f.Name, f.Type)
	}
	if f.Type == "array" {
		if f.Items == nil {
			f.Items = &Items{Type: "string"}
		}
		switch f.Items.Type {
		case "string", "integer", "number", "boolean", "object", "geojson", "file", "date":
		default:
			return Field{}, badRequest("Array field %q has an unknown item type %q.", f.Name, f.Items.Type)
		}
	}
	if f.Type == "reference" {
		ref := sf.SchemaName
		if len(sf.SchemaID) > 0 && string(sf.SchemaID) != "null" {
			var v any
			json.Unmarshal(sf.SchemaID, &v)
			ref = fmt.Sprint(v)
		}
		if ref == "" {
			return Field{}, badRequest("Reference field %q needs schema_id (or schema_name): the table it points to.", f.Name)
		}
		s.mu.Lock()
		t, ok := s.lookupLocked(ref)
		s.mu.Unlock()
		if !ok {
			return Field{}, badRequest("Reference field %q points to table %q, which does not exist.", f.Name, ref)
		}
		f.TargetID = t.ID
	}
	return f, nil
}

var permRule = regexp.MustCompile(`^(user:anonymous|user:\*|user:\d+|gid:\d+|user:\{created_by\})$`)

func checkPerms(key string, v []string) error {
	for _, p := range v {
		if !permRule.MatchString(p) {
			return badRequest("Invalid %s entry %q: use user:anonymous, user:*, user:<id> or gid:<group id>.", key, p)
		}
	}
	return nil
}

// UpdateTable changes the attributes spec sets.
func (s *Store) UpdateTable(ctx context.Context, ref string, spec TableSpec) (*Table, error) {
	old, err := s.tableFor(ref)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	cp := *old
	s.mu.Unlock()
	cp.Fields = append([]Field(nil), old.Fields...)
	t := &cp
	if err := s.applySpec(t, spec); err != nil {
		return nil, err
	}
	if spec.Schema != nil {
		t.Declared = true
	}
	s.mu.Lock()
	if other, ok := s.tables[t.Name]; ok && other.ID != t.ID {
		s.mu.Unlock()
		return nil, badRequest("A table named %q already exists.", t.Name)
	}
	s.mu.Unlock()
	t.UpdatedAt = s.now().Unix()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE mc_tables SET name = ?, def = ? WHERE id = ?`, t.Name, t.stored(), t.ID); err != nil {
		return nil, err
	}
	for _, q := range uniqueIndexSQL(t) {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return nil, badRequest("Cannot add the unique index: the records break it (%v).", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	delete(s.tables, old.Name)
	s.tables[t.Name] = t
	s.byID[t.ID] = t
	s.mu.Unlock()
	if old.Name != t.Name {
		s.wrote(old, "drop", 0) // gone under its old name
	}
	s.wrote(t, "table", 0)
	return t, nil
}

// DeleteTable drops a table and its records. A table another one points
// to cannot go (§6.1).
func (s *Store) DeleteTable(ctx context.Context, ref string) error {
	t, err := s.tableFor(ref)
	if err != nil {
		return err
	}
	for _, o := range s.Tables() {
		for _, f := range o.Fields {
			if f.Type == "reference" && f.TargetID == t.ID && o.ID != t.ID {
				return badRequest("Table %q cannot be deleted: field %s of table %q points to it.", t.Name, f.Name, o.Name)
			}
		}
	}
	// The prepared finds go first: none may hold the table being dropped.
	s.forgetStatements()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM mc_tables WHERE id = ?`, t.ID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DROP TABLE IF EXISTS `+SQLTable(t.ID)); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.tables, t.Name)
	delete(s.byID, t.ID)
	for k := range s.indexed {
		if strings.HasPrefix(k, SQLTable(t.ID)+"\x00") {
			delete(s.indexed, k)
		}
	}
	delete(s.autoIndexes, t.ID)
	s.mu.Unlock()
	s.wrote(t, "drop", 0)
	return nil
}

// Reset empties a table (keeping its definition).
func (s *Store) Reset(ctx context.Context, ref string) error {
	t, err := s.tableFor(ref)
	if err != nil {
		return err
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM `+SQLTable(t.ID)); err != nil {
		return err
	}
	s.wrote(t, "reset", 0)
	return nil
}

// maxAutoIndexes caps the indexes made for queries on one table.
const maxAutoIndexes = 32

// ensureIndex gives a queried or sorted field (or a pair: an equality
// and an order) an expression index, once.
func (s *Store) ensureIndex(ctx context.Context, db execer, t *Table, fields ...string) {
	key := SQLTable(t.ID) + "\x00" + strings.Join(fields, "\x00")
	s.mu.Lock()
	done := s.indexed[key]
	if !done {
		// Field names come from the caller: past a cap a table gets no
		// more indexes (its queries still run), so nothing grows unbounded.
		if s.autoIndexes[t.ID] >= maxAutoIndexes {
			done = true
		} else {
			s.autoIndexes[t.ID]++
			s.indexed[key] = true
		}
	}
	s.mu.Unlock()
	if done || len(fields) == 1 && (fields[0] == "id" || fields[0] == "_id" || fields[0] == "created_at") {
		return
	}
	exprs := make([]string, len(fields))
	for i, f := range fields {
		exprs[i] = jsonExtract(f)
	}
	name := SQLTable(t.ID) + "_" + strings.ReplaceAll(strings.Join(fields, "__"), ".", "_")
	// An index is an optimisation: if it cannot be made the query still runs.
	db.ExecContext(ctx, fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %s ON %s(%s)`, quoteIdent(name), SQLTable(t.ID), strings.Join(exprs, ", ")))
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// IndexName is a unique index's name, in the platform's (MongoDB's)
// style: name_1, or a_1_b_1 for a compound one.
func IndexName(fields []string) string { return strings.Join(fields, "_1_") + "_1" }

// AddIndex adds a unique index on fields; the records must already obey it.
func (s *Store) AddIndex(ctx context.Context, ref string, fields []string) (*Table, error) {
	t, err := s.tableFor(ref)
	if err != nil {
		return nil, err
	}
	spec := TableSpec{}
	for _, ix := range t.Indexes {
		if IndexName(ix) == IndexName(fields) {
			return nil, badRequest("Index %s already exists.", IndexName(fields))
		}
		spec.Indexes = append(spec.Indexes, struct{ Fields []string }{ix})
	}
	spec.Indexes = append(spec.Indexes, struct{ Fields []string }{fields})
	return s.UpdateTable(ctx, ref, spec)
}

// DropIndex removes the unique index name.
func (s *Store) DropIndex(ctx context.Context, ref, name string) error {
	t, err := s.tableFor(ref)
	if err != nil {
		return err
	}
	spec := TableSpec{Indexes: []struct{ Fields []string }{}}
	found := false
	for _, ix := range t.Indexes {
		if IndexName(ix) == name {
			found = true
			continue
		}
		spec.Indexes = append(spec.Indexes, struct{ Fields []string }{ix})
	}
	if !found {
		return notFound("Table %q has no index %q.", t.Name, name)
	}
	if _, err := s.db.ExecContext(ctx, `DROP INDEX IF EXISTS `+quoteIdent(SQLTable(t.ID)+"_u_"+strings.Join(strings.Split(strings.TrimSuffix(name, "_1"), "_1_"), "_"))); err != nil {
		return err
	}
	_, err = s.UpdateTable(ctx, ref, spec)
	return err
}
