// Package datastore keeps the emulator's tables: the platform's records,
// stored as JSON documents in an embedded SQLite database, queried with the
// platform's where language compiled to SQL.
//
// SQLite comes from modernc.org/sqlite, a translation of SQLite to pure Go:
// no cgo, so `go install` of the emulator and the command keeps working on
// every machine, with no C compiler.
//
// Each table is one SQL table rec_<id> (seq, id, doc): doc is the record's
// JSON, system fields included. Filters, ordering, paging and counts run in
// SQLite on json_extract; a field that is filtered or sorted on gets an
// expression index the first time, so a query's cost does not grow with
// the table. One connection serves everything: SQLite allows one writer at
// a time anyway, and it makes every write (a read-modify-write of a
// document) atomic without a lock of our own.
package datastore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite"
)

// Store is an open database of tables.
type Store struct {
	db  *sql.DB
	now func() time.Time

	// OnNewTable, when set, is told the name of each table made by a
	// first write (there being no schema for it).
	OnNewTable func(name string)
	// OnChange, when set, is told the records each write changed, after
	// it committed (unless its context is [WithoutTriggers]).
	OnChange func([]Change)
	// OnWrite, when set, is told after each committed write which table
	// it touched and how ([Write]), even on a [WithoutTriggers] context.
	// It must not block: it runs in the writer's call.
	OnWrite func(Write)

	mu      sync.Mutex
	tables  map[string]*Table // by name
	byID    map[int64]*Table
	indexed map[string]bool // "table\x00field[\x00field]" already indexed
	// autoIndexes counts the indexes made for queries, per table id.
	autoIndexes map[int64]int

	idSeq atomic.Uint32

	maxAutoTables int // MaxAutoTables; tests lower it

	stmtMu sync.Mutex
	stmts  map[string]*cachedStmt // finds prepared once: the same query shape comes again and again
}

// cachedStmt is a kept prepared find and how many finds are using it: it
// is closed only when none is, so a find never gets a closed statement.
type cachedStmt struct {
	st      *sql.Stmt
	users   int
	dropped bool // out of the cache: closed when the last user is done
}

// maxStmts bounds the prepared finds kept; past it a find's statement is
// prepared for it alone and closed after use.
const maxStmts = 128

// prepared gives a prepared statement for a find's SQL, kept for the next
// find of the same shape (values are arguments, so shapes repeat), and
// the release to call when the find is done with it. The statement is
// prepared outside stmtMu: preparing waits for the one connection, and a
// find of a kept shape must not wait behind it.
func (s *Store) prepared(ctx context.Context, query string) (*sql.Stmt, func(), error) {
	s.stmtMu.Lock()
	if c, ok := s.stmts[query]; ok {
		c.users++
		s.stmtMu.Unlock()
		return c.st, func() { s.releaseStmt(c) }, nil
	}
	s.stmtMu.Unlock()
	st, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, nil, err
	}
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	if c, ok := s.stmts[query]; ok { // kept by another find meanwhile
		st.Close()
		c.users++
		return c.st, func() { s.releaseStmt(c) }, nil
	}
	if len(s.stmts) >= maxStmts {
		return st, func() { st.Close() }, nil
	}
	if s.stmts == nil {
		s.stmts = map[string]*cachedStmt{}
	}
	c := &cachedStmt{st: st, users: 1}
	s.stmts[query] = c
	return st, func() { s.releaseStmt(c) }, nil
}

// releaseStmt ends a find's use of c, closing it if it left the cache.
func (s *Store) releaseStmt(c *cachedStmt) {
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	c.users--
	if c.dropped && c.users == 0 {
		c.st.Close()
	}
}

// forgetStatements drops the prepared finds (a table goes, or the store
// closes): those not in use are closed now, the others when released.
func (s *Store) forgetStatements() {
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	for _, c := range s.stmts {
		c.dropped = true
		if c.users == 0 {
			c.st.Close()
		}
	}
	s.stmts = nil
}

// Options configure [Open].
type Options struct {
	// Path is the database file; empty means in memory, private to the
	// Store.
	Path string
	// Now is the clock (time.Now when nil); tests inject one.
	Now func() time.Time
}

// Open opens (creating if needed) the database.
func Open(opt Options) (*Store, error) {
	dsn := ":memory:"
	if opt.Path != "" {
		// WAL: a reader (the sqlite3 tool) never blocks the emulator, and a
		// killed process leaves a log SQLite rolls back or forward on the
		// next open. synchronous=NORMAL is durable against a killed process
		// (not a power cut), which is what an emulator needs.
		q := url.Values{}
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "foreign_keys(off)")
		dsn = "file:" + opt.Path + "?" + q.Encode()
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	// One connection: an in-memory database lives in it, and it serialises
	// writes (see the package comment).
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	s := &Store{db: db, now: opt.Now, tables: map[string]*Table{}, byID: map[int64]*Table{}, indexed: map[string]bool{}, autoIndexes: map[int64]int{}, maxAutoTables: MaxAutoTables}
	if s.now == nil {
		s.now = time.Now
	}
	if err := s.init(); err != nil {
		db.Close()
		if opt.Path != "" {
			return nil, fmt.Errorf("data file %s: %w", opt.Path, err)
		}
		return nil, err
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	s.forgetStatements()
	return s.db.Close()
}

// DB is the database, for benchmarks that run the same query as bare SQL.
func (s *Store) DB() *sql.DB { return s.db }

// SQLTable is the SQL table that holds a table's records.
func SQLTable(id int64) string { return fmt.Sprintf("rec_%d", id) }

func (s *Store) init() error {
	ctx := context.Background()
	_, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS mc_tables (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		name TEXT NOT NULL UNIQUE,
		def TEXT NOT NULL
	)`)
	if err != nil {
		return err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, def FROM mc_tables`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var def string
		if err := rows.Scan(&id, &def); err != nil {
			return err
		}
		t, err := parseStoredTable(id, def)
		if err != nil {
			return fmt.Errorf("table %d: %w", id, err)
		}
		s.tables[t.Name] = t
		s.byID[t.ID] = t
	}
	return rows.Err()
}

// Error is a failure the caller caused or asked about: Status is the HTTP
// status the platform answers it with, Msg says what was wrong.
type Error struct {
	Status int
	Msg    string
}

func (e *Error) Error() string { return e.Msg }

func badRequest(format string, a ...any) error {
	return &Error{Status: 400, Msg: fmt.Sprintf(format, a...)}
}

func notFound(format string, a ...any) error {
	return &Error{Status: 404, Msg: fmt.Sprintf(format, a...)}
}

// StatusOf is the HTTP status for err: the Error's own, else 500.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 500
}

// newID makes a record id as the platform's look: 24 hex digits, a
// timestamp, random bits and a counter (so ids made in one second differ).
func (s *Store) newID() string {
	var b [12]byte
	binary.BigEndian.PutUint32(b[0:4], uint32(s.now().Unix()))
	rand.Read(b[4:8])
	binary.BigEndian.PutUint32(b[8:12], s.idSeq.Add(1))
	return hex.EncodeToString(b[:])
}

// quoteIdent quotes an SQL identifier.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
