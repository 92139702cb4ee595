package emulator

import (
	"context"
	"fmt"
	"os"
	"sync"

	"github.com/mincloud-go/baas/emulator/internal/datastore"
	"github.com/mincloud-go/baas/emulator/internal/jsjson"
)

// SuperAdminUserID is the user id records get as created_by when they
// are written by a function, the Open API or Go: the platform writes the
// enterprise's super-admin there, and functions run as that admin (row
// ACLs do not apply to them).
const SuperAdminUserID int64 = 1

// dataConfig is the data options.
type dataConfig struct {
	file     string            // database file; "" is in memory
	schemas  []string          // schema files to load at start
	triggers []tableTrigger    // data_triggers.go
	groups   map[int64][]int64 // user id -> group ids, for gid:<id> ACL entries
}

// WithUserGroups puts user userID in groups groupIDs, for the row ACLs:
// a record whose read_perm or write_perm lists "gid:<id>" admits the
// members of group id when they call the Web API with their token
// ([Server.IssueUserToken]). Without it a user is in no group.
func WithUserGroups(userID int64, groupIDs ...int64) Option {
	return func(c *config) {
		if c.data.groups == nil {
			c.data.groups = map[int64][]int64{}
		}
		c.data.groups[userID] = append(c.data.groups[userID], groupIDs...)
	}
}

// WithDataFile keeps the tables in the SQLite database file path (made if
// missing) rather than in memory: they survive a restart, and the sqlite3
// tool reads the file (each table is rec_<id>, one JSON doc per record).
// Each environment (X-Hydrogen-Env-ID) keeps its tables beside it, in
// path + ".env-" + its id.
func WithDataFile(path string) Option { return func(c *config) { c.data.file = path } }

// WithSchemaFile loads tables at start from a schema file in the
// dashboard's JSON format (one table object, or an array of them), as
// [Server.LoadSchema] does. Tables already in a data file are kept: a
// schema table whose name exists is skipped.
func WithSchemaFile(path string) Option {
	return func(c *config) { c.data.schemas = append(c.data.schemas, path) }
}

// dataState is the emulator's tables.
type dataState struct {
	store *datastore.Store // calls that name no environment
	envs  dataEnvs         // one database per X-Hydrogen-Env-ID (data_envs.go)
	jobs  bulkJobs
}

// openData opens the database (at Listen).
func (s *Server) openData() error {
	st, err := s.openStore(s.cfg.data.file, "")
	if err != nil {
		return err
	}
	s.data = &dataState{store: st}
	return nil
}

// openStore opens one database (the default one, or environment envID's)
// and loads the schemas given at start into it.
func (s *Server) openStore(file, envID string) (*datastore.Store, error) {
	what := ""
	if envID != "" {
		what = "env " + envID + ": "
	}
	st, err := datastore.Open(datastore.Options{Path: file})
	if err != nil {
		return nil, err
	}
	var once sync.Map
	st.OnNewTable = func(name string) {
		// Said once per table: the schema-less mode makes tables silently
		// otherwise, and a typo would go unseen.
		if _, dup := once.LoadOrStore(name, true); !dup && s.cfg.logOutput != nil {
			fmt.Fprintf(s.cfg.logOutput, "data: %stable %q made by its first write (no schema loaded)\n", what, name)
		}
	}
	st.OnWrite = func(w datastore.Write) { s.events.tableChanged(envID, w) } // events_tables.go
	if len(s.cfg.data.triggers) > 0 {
		// Only then: reporting changes costs a copy of each updated record.
		st.OnChange = func(ch []datastore.Change) { s.onDataChange(envID, ch) }
	}
	for _, path := range s.cfg.data.schemas {
		b, err := os.ReadFile(path)
		if err != nil {
			st.Close()
			return nil, fmt.Errorf("schema: %w", err)
		}
		if err := st.ImportSchema(context.Background(), b, true); err != nil {
			st.Close()
			return nil, fmt.Errorf("schema %s: %w", path, err)
		}
	}
	return st, nil
}

// closeData closes the databases (at Close, after the last request).
func (s *Server) closeData() {
	if s.data != nil {
		s.data.envs.close()
		s.data.store.Close()
	}
}

// LoadSchema makes the tables of a schema in the dashboard's JSON format
// (one table object, or an array), as the hosted CLI's schema-import does
// (§8.4): an existing name fails the whole load before any write; tables
// without references first, then those whose targets exist, round by
// round; on any error every table made is deleted again. Once a schema is
// loaded, an unknown table is 404 and values are checked by type.
func (s *Server) LoadSchema(schemaJSON []byte) error { return s.loadSchema(schemaJSON, false) }

func (s *Server) loadSchema(b []byte, skipExisting bool) error {
	return s.data.store.ImportSchema(context.Background(), b, skipExisting)
}

// DataTable is one table of the emulator, for Go tests to seed and
// inspect without JavaScript.
type DataTable struct {
	s    *Server
	name string
}

// DataRecord is a record as the platform answers it: id, _id, created_at,
// updated_at, created_by, read_perm, write_perm and the fields; numbers
// are json.Number, exact.
type DataRecord map[string]any

// Table returns the table name (or numeric id). Without a schema it is
// made by its first Insert.
func (s *Server) Table(name string) *DataTable { return &DataTable{s: s, name: name} }

// Insert adds records: each a map, a struct or anything that encodes to
// a JSON object, in the platform's wire form (update operators such as
// {"$incr_by":1} act on an empty record). It returns them as stored, with
// their ids. All are written or none.
func (t *DataTable) Insert(records ...any) ([]DataRecord, error) {
	ctx := context.Background()
	docs := make([]datastore.Doc, len(records))
	for i, r := range records {
		b, err := jsjson.Marshal(r)
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
		if docs[i], err = datastore.ParseObject(b); err != nil {
			return nil, fmt.Errorf("record %d is not a JSON object: %w", i, err)
		}
	}
	res, err := t.s.data.store.CreateAll(ctx, t.name, docs, SuperAdminUserID)
	if err != nil {
		return nil, err
	}
	out := make([]DataRecord, len(res))
	for i, d := range res {
		out[i] = DataRecord(d)
	}
	return out, nil
}

// Find returns the records a where matches, in the platform's JSON
// ({"price":{"$gt":1}}; "" or "{}" for all), newest first, at most 1000.
func (t *DataTable) Find(where string) ([]DataRecord, error) {
	ctx := context.Background()
	tbl, docs, _, err := t.s.data.store.Find(ctx, t.name, datastore.Query{Where: []byte(where), Limit: datastore.MaxLimit})
	if err != nil {
		return nil, err
	}
	docs, err = t.s.data.store.Present(ctx, tbl, docs, datastore.View{})
	if err != nil {
		return nil, err
	}
	out := make([]DataRecord, len(docs))
	for i, d := range docs {
		out[i] = DataRecord(d)
	}
	return out, nil
}

// Count is how many records a where matches.
func (t *DataTable) Count(where string) (int, error) {
	return t.s.data.store.Count(context.Background(), t.name, []byte(where))
}

// Get returns one record by id.
func (t *DataTable) Get(id string) (DataRecord, error) {
	ctx := context.Background()
	tbl, doc, err := t.s.data.store.Get(ctx, t.name, id)
	if err != nil {
		return nil, err
	}
	docs, err := t.s.data.store.Present(ctx, tbl, []datastore.Doc{doc}, datastore.View{})
	if err != nil {
		return nil, err
	}
	return DataRecord(docs[0]), nil
}

// Reset deletes every record of the table, keeping the table.
func (t *DataTable) Reset() error {
	err := t.s.data.store.Reset(context.Background(), t.name)
	if datastore.StatusOf(err) == 404 {
		return nil // nothing to empty
	}
	return err
}
