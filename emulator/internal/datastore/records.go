package datastore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/mincloud-go/baas/emulator/internal/jsjson"
)

// Doc is a record: its JSON object, numbers kept exact as json.Number.
type Doc = map[string]any

// MaxLimit is the most records one find or bulk request handles (§2.3).
const MaxLimit = 1000

// DefaultLimit is a find's page when no limit is given (§2.3).
const DefaultLimit = 20

// ParseObject parses a JSON object, numbers kept exact.
func ParseObject(b []byte) (Doc, error) {
	var m Doc
	if err := decodeJSON(b, &m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("not a JSON object")
	}
	return m, nil
}

// idRule is an id a create may supply (§10.28: allowed, so tests can seed
// known ids).
var idRule = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// prepareCreate builds a new record from a create body.
func (s *Store) prepareCreate(t *Table, body Doc, createdBy int64) (Doc, error) {
	doc := Doc{}
	var id string
	if v, ok := body["id"]; ok {
		sv, isStr := v.(string)
		if n, isNum := v.(json.Number); isNum {
			sv, isStr = n.String(), true
		}
		if !isStr || !idRule.MatchString(sv) {
			return nil, badRequest("Invalid id %s: an id has 1 to 64 letters, digits, _ and -.", describe(v))
		}
		id = sv
	}
	rest := make(Doc, len(body))
	for k, v := range body {
		if k != "id" && k != "_id" {
			rest[k] = v
		}
	}
	u, err := parseUpdate(rest)
	if err != nil {
		return nil, err
	}
	// Operators in a create act on an empty record (§10.15): $incr_by n
	// stores n, $append stores the list.
	if err := s.applyWrite(t, doc, u); err != nil {
		return nil, err
	}
	if id == "" {
		id = s.newID()
	}
	now := json.Number(strconv.FormatInt(s.now().Unix(), 10))
	doc["id"] = id
	setDefault(doc, "created_at", now)
	setDefault(doc, "updated_at", now)
	if createdBy != 0 { // 0: an anonymous caller, no creator to record
		setDefault(doc, "created_by", json.Number(strconv.FormatInt(createdBy, 10)))
	}
	setDefault(doc, "read_perm", permList(t.RowReadPerm))
	setDefault(doc, "write_perm", permList(t.RowWritePerm))
	resolveCreator(doc, createdBy)
	if t.Declared {
		for i := range t.Fields {
			f := &t.Fields[i]
			if _, ok := doc[f.Name]; !ok && len(f.Default) > 0 {
				var d any
				if decodeJSON(f.Default, &d) == nil {
					if v, ok := checkValue(f, d); ok {
						doc[f.Name] = v
					}
				}
			}
			if f.Required && doc[f.Name] == nil {
				return nil, badRequest("Failed to save record: field %s is required.", f.Name)
			}
		}
	}
	return doc, nil
}

func setDefault(doc Doc, k string, v any) {
	if cur, ok := doc[k]; !ok || cur == nil {
		doc[k] = v
	}
}

func permList(p []string) []any {
	out := make([]any, len(p))
	for i, s := range p {
		out[i] = s
	}
	return out
}

// applyWrite applies an update to doc in place: $unset first, then the
// sets (§10.16: a field in both ends with the set value, so unset then
// incrementBy counts from 0). On a declared table a value of the wrong
// type, or a field the table lacks (§10.12), is dropped when other fields
// are written, and fails the write when nothing else is (§6.2, §10.11).
func (s *Store) applyWrite(t *Table, doc Doc, u *update) error {
	for _, p := range u.unsets {
		unsetPath(doc, p)
	}
	var conflicts []string
	valid := len(u.unsets)
	for _, c := range u.sets {
		top, _, nested := strings.Cut(c.path, ".")
		nv, err := applyChange(doc, c)
		if err != nil {
			return err
		}
		switch top {
		case "created_at", "updated_at", "created_by":
			// Setting them overrides the system's value (§4.3).
			n, ok := nv.(json.Number)
			if _, err := strconv.ParseInt(string(n), 10, 64); nested || !ok || err != nil {
				return badRequest("Failed to save record: %s must be an integer, not %s.", top, describe(nv))
			}
		case "read_perm", "write_perm":
			list, ok := nv.([]any)
			if nested || !ok {
				return badRequest("Failed to save record: %s must be an array of strings such as \"user:*\".", top)
			}
			for _, e := range list {
				sv, _ := e.(string)
				if err := checkPerms(top, []string{sv}); err != nil {
					return err
				}
			}
		default:
			if t.Declared {
				f := t.Field(top)
				if f == nil {
					conflicts = append(conflicts, top+" (not a field of the table)")
					continue
				}
				if nested {
					if f.Type != "object" {
						conflicts = append(conflicts, top+" ("+f.Type+")")
						continue
					}
				} else {
					v, ok := checkValue(f, nv)
					if !ok {
						typ := f.Type
						if f.Items != nil {
							typ += " of " + f.Items.Type
						}
						conflicts = append(conflicts, top+" ("+typ+")")
						continue
					}
					nv = v
				}
			}
		}
		if err := setPath(doc, c.path, nv); err != nil {
			return err
		}
		valid++
	}
	if len(conflicts) > 0 && valid == 0 {
		return badRequest("Failed to save record, type conflict on fields: %s.", strings.Join(conflicts, ", "))
	}
	return nil
}

// isUnique reports a unique-index clash.
func isUnique(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}

func insertDoc(ctx context.Context, tx *sql.Tx, t *Table, doc Doc) error {
	b, err := jsjson.Marshal(doc)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, fmt.Sprintf(`INSERT INTO %s(id, doc) VALUES (?, ?)`, SQLTable(t.ID)), doc["id"], string(b))
	if isUnique(err) {
		return badRequest("Failed to save record: a record with the same %s exists (unique index).", uniqueWhat(t, doc))
	}
	return err
}

func uniqueWhat(t *Table, _ Doc) string {
	if len(t.Indexes) == 0 {
		return "id"
	}
	var parts []string
	for _, ix := range t.Indexes {
		parts = append(parts, strings.Join(ix, "+"))
	}
	return "id or " + strings.Join(parts, " or ")
}

// Create adds one record; createdBy is the creator's user id (0 for
// none: an anonymous caller).
func (s *Store) Create(ctx context.Context, ref string, body Doc, createdBy int64) (Doc, error) {
	t, err := s.tableForWrite(ctx, ref)
	if err != nil {
		return nil, err
	}
	if err := checkCreate(ctx, t); err != nil {
		return nil, err
	}
	doc, err := s.prepareCreate(t, body, createdBy)
	if err != nil {
		return nil, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if err := insertDoc(ctx, tx, t, doc); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	s.wrote(t, "create", 1)
	s.notify(ctx, []Change{{Table: t, Event: "create", ID: doc["id"].(string), After: doc}})
	return doc, nil
}

// ItemResult is one entry of a bulk write's operation_result.
type ItemResult struct {
	ID        string
	CreatedAt int64
	UpdatedAt int64
	Err       error // nil on success
}

// CreateMany adds records in one transaction. As on the platform (§2.4)
// an item that fails (a type conflict, a duplicate id) is reported in its
// place and the others are written; a body that is not a list of objects
// writes nothing.
func (s *Store) CreateMany(ctx context.Context, ref string, items []Doc, createdBy int64) ([]ItemResult, error) {
	if len(items) > MaxLimit {
		return nil, badRequest("Too many records: at most %d per request, not %d.", MaxLimit, len(items))
	}
	t, err := s.tableForWrite(ctx, ref)
	if err != nil {
		return nil, err
	}
	if err := checkCreate(ctx, t); err != nil {
		return nil, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	out := make([]ItemResult, len(items))
	var changes []Change
	created := 0
	for i, body := range items {
		doc, err := s.prepareCreate(t, body, createdBy)
		if err == nil {
			err = insertDoc(ctx, tx, t, doc)
		}
		if err != nil {
			if StatusOf(err) == 500 {
				return nil, err // the database failed: nothing is written
			}
			out[i].Err = err
			continue
		}
		out[i].ID = doc["id"].(string)
		out[i].CreatedAt = intOf(doc["created_at"])
		created++
		if s.watching(ctx) {
			changes = append(changes, Change{Table: t, Event: "create", ID: out[i].ID, After: doc})
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	s.wrote(t, "create", created)
	s.notify(ctx, changes)
	return out, nil
}

func intOf(v any) int64 {
	if n, ok := v.(json.Number); ok {
		i, _ := strconv.ParseInt(n.String(), 10, 64)
		return i
	}
	return 0
}

// Get returns one record.
func (s *Store) Get(ctx context.Context, ref, id string) (*Table, Doc, error) {
	t, exists, err := s.tableForRead(ref)
	if err != nil {
		return nil, nil, err
	}
	if !exists {
		return nil, nil, notFound("Record %q of table %q does not exist.", id, t.Name)
	}
	var raw string
	err = s.db.QueryRowContext(ctx, fmt.Sprintf(`SELECT doc FROM %s WHERE id = ?`, SQLTable(t.ID)), id).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, notFound("Record %q of table %q does not exist.", id, t.Name)
	}
	if err != nil {
		return nil, nil, err
	}
	doc, err := ParseObject([]byte(raw))
	if err != nil {
		return nil, nil, err
	}
	// A record the caller may not read does not exist for it: 404, as
	// the platform answers (js-sdk/schema/operate-error.md).
	if !accessOf(ctx).admits(doc["read_perm"]) {
		return nil, nil, notFound("Record %q of table %q does not exist.", id, t.Name)
	}
	return t, doc, nil
}

// Query is a find: a where (JSON text), an order (the platform's
// order_by: "a,-b"), a page, and whether to count every match.
type Query struct {
	Where     []byte
	OrderBy   string
	Limit     int // DefaultLimit when negative
	Offset    int
	WithCount bool
}

// compiled is a query ready to run.
type compiled struct {
	t     *Table
	w     *whereSQL
	order string
	limit int
}

func (s *Store) compile(ctx context.Context, t *Table, q Query) (*compiled, error) {
	if q.Limit < 0 {
		q.Limit = DefaultLimit
	}
	// §10.22: past the platform's cap is an error rather than a silent
	// clamp, so a test that asks for 5000 learns it gets 1000.
	if q.Limit > MaxLimit {
		return nil, badRequest("Invalid limit %d: at most %d.", q.Limit, MaxLimit)
	}
	if q.Offset < 0 {
		return nil, badRequest("Invalid offset %d: it cannot be negative.", q.Offset)
	}
	w, err := compileWhere(t, q.Where)
	if err != nil {
		return nil, err
	}
	order, sortFields, err := orderSQL(t, q.OrderBy, w.near)
	if err != nil {
		return nil, err
	}
	for _, f := range append(w.fields, sortFields...) {
		s.ensureIndex(ctx, s.db, t, f)
	}
	// A filter on an equality plus an order: one index on both lets
	// SQLite read the page in order and stop after limit matches.
	if len(w.eqFields) > 0 {
		sortBy := "created_at"
		if len(sortFields) > 0 {
			sortBy = sortFields[0]
		} else if strings.TrimSpace(q.OrderBy) != "" || w.near != nil {
			sortBy = "" // ordered by id or distance
		}
		if sortBy != "" && sortBy != w.eqFields[0] {
			s.ensureIndex(ctx, s.db, t, w.eqFields[0], sortBy)
		}
	}
	return &compiled{t: t, w: w, order: order, limit: q.Limit}, nil
}

// checkQuery checks a query's where, order, limit and offset without
// running it (for a table not made yet).
func checkQuery(t *Table, q Query) error {
	if q.Limit > MaxLimit {
		return badRequest("Invalid limit %d: at most %d.", q.Limit, MaxLimit)
	}
	if q.Offset < 0 {
		return badRequest("Invalid offset %d: it cannot be negative.", q.Offset)
	}
	w, err := compileWhere(t, q.Where)
	if err != nil {
		return err
	}
	_, _, err = orderSQL(t, q.OrderBy, w.near)
	return err
}

// orderSQL translates order_by. Records with equal keys come newest
// first, as the default -created_at would have them.
func orderSQL(t *Table, orderBy string, near *nearSort) (string, []string, error) {
	var parts []string
	var fields []string
	for _, f := range strings.Split(orderBy, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		dir := "ASC"
		if strings.HasPrefix(f, "-") {
			dir, f = "DESC", f[1:]
		} else if strings.HasPrefix(f, "+") {
			f = f[1:]
		}
		if !fieldPathRule.MatchString(f) {
			return "", nil, badRequest("Invalid order_by: %q is not a field name.", f)
		}
		top, _, _ := strings.Cut(f, ".")
		if t.Declared && t.fieldType(top) == "" {
			return "", nil, badRequest("Invalid order_by: table %q has no field %q.", t.Name, top)
		}
		if f == "id" || f == "_id" {
			parts = append(parts, "id "+dir)
		} else {
			parts = append(parts, jsonExtract(f)+" "+dir)
			fields = append(fields, f)
		}
	}
	if len(parts) == 0 {
		if near != nil {
			// $nearsphere sorts nearest first (§3.4).
			parts = append(parts, fmt.Sprintf("mc_geo_dist(%s, %v, %v) ASC", jsonExtract(near.field), near.lng, near.lat))
		} else {
			parts = append(parts, jsonExtract("created_at")+" DESC")
		}
	}
	parts = append(parts, "seq DESC")
	return strings.Join(parts, ", "), fields, nil
}

// Find returns a page of the records q matches, and (with WithCount) how
// many match in all (-1 otherwise).
func (s *Store) Find(ctx context.Context, ref string, q Query) (*Table, []Doc, int, error) {
	t, raws, total, err := s.FindRaw(ctx, ref, q)
	if err != nil {
		return nil, nil, 0, err
	}
	docs := make([]Doc, len(raws))
	for i, r := range raws {
		if docs[i], err = ParseObject(r.JSON); err != nil {
			return nil, nil, 0, err
		}
	}
	return t, docs, total, nil
}

// RawDoc is a record as stored: its id and its JSON.
type RawDoc struct {
	ID   string
	JSON []byte
}

// FindRaw is Find giving the stored JSON, for answers that need not
// decode it ([Store.PresentJSON]).
func (s *Store) FindRaw(ctx context.Context, ref string, q Query) (*Table, []RawDoc, int, error) {
	t, exists, err := s.tableForRead(ref)
	if err != nil {
		return nil, nil, 0, err
	}
	if !exists {
		// Still checked, so that bad input is 400 before any write too.
		if err := checkQuery(t, q); err != nil {
			return nil, nil, 0, err
		}
		total := -1
		if q.WithCount {
			total = 0
		}
		return t, []RawDoc{}, total, nil
	}
	c, err := s.compile(ctx, t, q)
	if err != nil {
		return nil, nil, 0, err
	}
	// The caller's read ACL joins the where: rows it may not read are
	// left out of the page and the count, in SQL.
	expr, args := withACL(ctx, "read_perm", c.w.expr, c.w.args)
	total := -1
	if q.WithCount {
		if err := s.db.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*) FROM %s WHERE %s`, SQLTable(t.ID), expr), args...).Scan(&total); err != nil {
			return nil, nil, 0, err
		}
	}
	out := []RawDoc{}
	if c.limit == 0 {
		return t, out, total, nil
	}
	stmt, release, err := s.prepared(ctx, fmt.Sprintf(`SELECT id, doc FROM %s WHERE %s ORDER BY %s LIMIT ? OFFSET ?`, SQLTable(t.ID), expr, c.order))
	if err != nil {
		return nil, nil, 0, err
	}
	defer release()
	rows, err := stmt.QueryContext(ctx, append(args, c.limit, q.Offset)...)
	if err != nil {
		return nil, nil, 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var r RawDoc
		if err := rows.Scan(&r.ID, &r.JSON); err != nil {
			return nil, nil, 0, err
		}
		out = append(out, r)
	}
	return t, out, total, rows.Err()
}

// Count is how many records match where.
func (s *Store) Count(ctx context.Context, ref string, where []byte) (int, error) {
	_, _, n, err := s.Find(ctx, ref, Query{Where: where, Limit: 0, WithCount: true})
	return n, err
}

func scanDocs(rows *sql.Rows) ([]Doc, error) {
	defer rows.Close()
	docs := []Doc{}
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			return nil, err
		}
		d, err := ParseObject([]byte(raw))
		if err != nil {
			return nil, err
		}
		docs = append(docs, d)
	}
	return docs, rows.Err()
}

// Update changes one record by an update body and returns it after.
func (s *Store) Update(ctx context.Context, ref, id string, body Doc) (*Table, Doc, error) {
	t, exists, err := s.tableForRead(ref)
	if err != nil {
		return nil, nil, err
	}
	if !exists {
		if _, err := parseUpdate(body); err != nil {
			return nil, nil, err
		}
		return nil, nil, notFound("Record %q of table %q does not exist.", id, t.Name)
	}
	u, err := parseUpdate(body)
	if err != nil {
		return nil, nil, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, nil, err
	}
	defer tx.Rollback()
	var raw string
	err = tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT doc FROM %s WHERE id = ?`, SQLTable(t.ID)), id).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, notFound("Record %q of table %q does not exist.", id, t.Name)
	}
	if err != nil {
		return nil, nil, err
	}
	doc, err := ParseObject([]byte(raw))
	if err != nil {
		return nil, nil, err
	}
	if err := checkRow(ctx, t, doc, "update"); err != nil {
		return nil, nil, err
	}
	var before Doc
	if s.watching(ctx) {
		before = cloneDoc(doc)
	}
	if err := s.updateDoc(ctx, tx, t, doc, u); err != nil {
		return nil, nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, nil, err
	}
	s.wrote(t, "update", 1)
	s.notify(ctx, []Change{{Table: t, Event: "update", ID: id, Before: before, After: doc}})
	return t, doc, nil
}

// updateDoc applies u to doc and writes it back.
func (s *Store) updateDoc(ctx context.Context, tx *sql.Tx, t *Table, doc Doc, u *update) error {
	if err := s.applyWrite(t, doc, u); err != nil {
		return err
	}
	// updated_at moves unless the body set it (§4.3).
	explicit := false
	for _, c := range u.sets {
		if c.path == "updated_at" {
			explicit = true
		}
	}
	if !explicit || doc["updated_at"] == nil {
		doc["updated_at"] = json.Number(strconv.FormatInt(s.now().Unix(), 10))
	}
	b, err := jsjson.Marshal(doc)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, fmt.Sprintf(`UPDATE %s SET doc = ? WHERE id = ?`, SQLTable(t.ID)), string(b), doc["id"])
	if isUnique(err) {
		return badRequest("Failed to save record: the update breaks a unique index (%s).", uniqueWhat(t, doc))
	}
	return err
}

// Bulk is a bulk update or delete: the records a where matches, a page of
// them.
type Bulk struct {
	Where  []byte
	Limit  int // -1: every match
	Offset int
}

// BulkResult is what a bulk write did.
type BulkResult struct {
	Matched int // every record the where matches
	Results []ItemResult
	Succeed int
}

func (s *Store) bulkRows(ctx context.Context, tx *sql.Tx, t *Table, b Bulk) ([]Doc, int, error) {
	w, err := compileWhere(t, b.Where)
	if err != nil {
		return nil, 0, err
	}
	if b.Offset < 0 {
		return nil, 0, badRequest("Invalid offset %d: it cannot be negative.", b.Offset)
	}
	var matched int
	if err := tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*) FROM %s WHERE %s`, SQLTable(t.ID), w.expr), w.args...).Scan(&matched); err != nil {
		return nil, 0, err
	}
	limit := b.Limit
	if limit < 0 {
		limit = -1 // SQLite: no limit
	}
	// matched counts every record the where matches, those the caller
	// may not write included (§2.4: "包括无权限操作记录"); the page is
	// drawn from the ones it may write, in SQL, so a bulk write skips the
	// others (they are neither in succeed nor in operation_result).
	expr, args := withACL(ctx, "write_perm", w.expr, w.args)
	order, _, _ := orderSQL(t, "", nil)
	rows, err := tx.QueryContext(ctx, fmt.Sprintf(`SELECT doc FROM %s WHERE %s ORDER BY %s LIMIT ? OFFSET ?`, SQLTable(t.ID), expr, order),
		append(args, limit, b.Offset)...)
	if err != nil {
		return nil, 0, err
	}
	docs, err := scanDocs(rows)
	return docs, matched, err
}

// UpdateWhere applies an update body to the records b selects, in one
// transaction. A record the update cannot apply to (e.g. $incr_by on a
// string) is reported in its place, as the platform's operation_result
// does (§2.4); a malformed where or body changes nothing.
func (s *Store) UpdateWhere(ctx context.Context, ref string, b Bulk, body Doc) (*BulkResult, error) {
	t, exists, err := s.tableForRead(ref)
	if err != nil {
		return nil, err
	}
	u, err := parseUpdate(body)
	if err != nil {
		return nil, err
	}
	tx, docs, matched, err := s.beginBulk(ctx, t, exists, b)
	if tx == nil || err != nil {
		return &BulkResult{}, err
	}
	defer tx.Rollback()
	res := &BulkResult{Matched: matched, Results: make([]ItemResult, len(docs))}
	var changes []Change
	for i, doc := range docs {
		res.Results[i].ID, _ = doc["id"].(string)
		var before Doc
		if s.watching(ctx) {
			before = cloneDoc(doc)
		}
		if err := s.updateDoc(ctx, tx, t, doc, u); err != nil {
			if StatusOf(err) == 500 {
				return nil, err
			}
			res.Results[i].Err = err
			continue
		}
		res.Results[i].UpdatedAt = intOf(doc["updated_at"])
		res.Succeed++
		if before != nil {
			changes = append(changes, Change{Table: t, Event: "update", ID: res.Results[i].ID, Before: before, After: doc})
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	s.wrote(t, "update", res.Succeed)
	s.notify(ctx, changes)
	return res, nil
}

// Delete removes one record.
func (s *Store) Delete(ctx context.Context, ref, id string) error {
	t, exists, err := s.tableForRead(ref)
	if err != nil {
		return err
	}
	if !exists {
		return notFound("Record %q of table %q does not exist.", id, t.Name)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var raw string
	err = tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT doc FROM %s WHERE id = ?`, SQLTable(t.ID)), id).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound("Record %q of table %q does not exist.", id, t.Name)
	}
	if err != nil {
		return err
	}
	if a := accessOf(ctx); a != nil {
		doc, err := ParseObject([]byte(raw))
		if err != nil {
			return err
		}
		if err := checkRow(ctx, t, doc, "delete"); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`DELETE FROM %s WHERE id = ?`, SQLTable(t.ID)), id); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.wrote(t, "delete", 1)
	if s.watching(ctx) {
		before, _ := ParseObject([]byte(raw))
		s.notify(ctx, []Change{{Table: t, Event: "delete", ID: id, Before: before}})
	}
	return nil
}

// beginBulk opens a bulk write's transaction and reads in it the records
// b selects; on an error nothing is left open. A table that does not
// exist yet matches nothing: only the where is checked, and tx is nil.
func (s *Store) beginBulk(ctx context.Context, t *Table, exists bool, b Bulk) (*sql.Tx, []Doc, int, error) {
	if !exists {
		return nil, nil, 0, checkQuery(t, Query{Where: b.Where, Offset: b.Offset})
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, nil, 0, err
	}
	docs, matched, err := s.bulkRows(ctx, tx, t, b)
	if err != nil {
		tx.Rollback()
		return nil, nil, 0, err
	}
	return tx, docs, matched, nil
}

// DeleteWhere removes the records b selects, all or none.
func (s *Store) DeleteWhere(ctx context.Context, ref string, b Bulk) (*BulkResult, error) {
	t, exists, err := s.tableForRead(ref)
	if err != nil {
		return nil, err
	}
	tx, docs, matched, err := s.beginBulk(ctx, t, exists, b)
	if tx == nil || err != nil {
		return &BulkResult{}, err
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, fmt.Sprintf(`DELETE FROM %s WHERE id = ?`, SQLTable(t.ID)))
	if err != nil {
		return nil, err
	}
	defer stmt.Close()
	res := &BulkResult{Matched: matched}
	var changes []Change
	for _, d := range docs {
		if _, err := stmt.ExecContext(ctx, d["id"]); err != nil {
			return nil, err
		}
		res.Succeed++
		if s.watching(ctx) {
			id, _ := d["id"].(string)
			changes = append(changes, Change{Table: t, Event: "delete", ID: id, Before: d})
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	s.wrote(t, "delete", res.Succeed)
	s.notify(ctx, changes)
	return res, nil
}

// CreateAll adds records in one transaction, all or none: the first
// failing item fails the call (for Go tests, which want to know).
func (s *Store) CreateAll(ctx context.Context, ref string, items []Doc, createdBy int64) ([]Doc, error) {
	t, err := s.tableForWrite(ctx, ref)
	if err != nil {
		return nil, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	out := make([]Doc, len(items))
	for i, body := range items {
		doc, err := s.prepareCreate(t, body, createdBy)
		if err == nil {
			err = insertDoc(ctx, tx, t, doc)
		}
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
		out[i] = doc
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	s.wrote(t, "create", len(out))
	if s.watching(ctx) {
		changes := make([]Change, len(out))
		for i, d := range out {
			changes[i] = Change{Table: t, Event: "create", ID: d["id"].(string), After: d}
		}
		s.notify(ctx, changes)
	}
	return s.Present(ctx, t, out, View{})
}
