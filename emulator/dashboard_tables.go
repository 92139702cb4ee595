package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"

	"github.com/mincloud-go/baas/emulator/internal/datastore"
	"github.com/mincloud-go/baas/emulator/internal/jsjson"
)

// The dashboard's Tables tab reads these: the tables with their record
// counts, a page of a table's records newest first (filtered by a where
// in the platform's JSON), and one record. They go through the same
// datastore calls as the data API, so a where means here what it means to
// a function, and a bad one gets the data API's 400 and message. They
// read as the super-admin (no row ACL applies), as a function does; with
// ?env=ID they read that environment's tables (X-Hydrogen-Env-ID), once a
// call has opened it.

// dashDefaultRecords is a page of the Tables tab when no limit is given.
const dashDefaultRecords = 20

// dashTable is a table as the Tables tab lists it.
type dashTable struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Count int    `json:"count"`
	// Declared is true for a table from a schema or the table API (its
	// types are checked), false for one made by its first write.
	Declared bool `json:"declared"`
}

// dashEnvs serves GET /_/api/envs: the environments whose tables the
// emulator has opened, sorted.
func (s *Server) dashEnvs(w http.ResponseWriter, r *http.Request) {
	writeObject(w, http.StatusOK, s.data.envs.ids())
}

// dashStore is the database ?env= names: the default one without it.
// An environment no call has named is 404, not opened: reading it here
// would make a database for nothing.
func (s *Server) dashStore(w http.ResponseWriter, r *http.Request) (*datastore.Store, bool) {
	env := r.URL.Query().Get("env")
	if env == "" {
		return s.data.store, true
	}
	st, ok := s.data.envs.opened(env)
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("Environment %q has no tables: no call has named it in X-Hydrogen-Env-ID since the emulator started.", env))
		return nil, false
	}
	return st, true
}

// dashTables serves GET /_/api/tables?env=ID: every table by name, with
// how many records it holds.
func (s *Server) dashTables(w http.ResponseWriter, r *http.Request) {
	store, ok := s.dashStore(w, r)
	if !ok {
		return
	}
	tables := store.Tables()
	out := make([]dashTable, 0, len(tables))
	for _, t := range tables {
		n, err := store.Count(r.Context(), t.Name, nil)
		if datastore.StatusOf(err) == http.StatusNotFound {
			continue // deleted since it was listed
		}
		if err != nil {
			writeDataError(w, err)
			return
		}
		out = append(out, dashTable{ID: t.ID, Name: t.Name, Count: n, Declared: t.Declared})
	}
	sort.Slice(out, func(i, k int) bool { return out[i].Name < out[k].Name })
	writeObject(w, http.StatusOK, out)
}

// dashRecordsHead is the answer of GET /_/api/tables/{table} but its
// records, which are written after it as stored (exact numbers).
type dashRecordsHead struct {
	Table  string `json:"table"`
	Where  string `json:"where"`
	Limit  int    `json:"limit"`
	Offset int    `json:"offset"`
	Total  int    `json:"total"` // records the where matches, all pages
}

// dashRecords serves GET /_/api/tables/{table}?where=JSON&limit=N&offset=N&env=ID:
// a page of the records the where matches (all without one), newest
// first, and how many match in all.
func (s *Server) dashRecords(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	// The data API's rules and messages, as its where's.
	limit, offset, err := pageQuery(q, dashDefaultRecords)
	if err != nil {
		writeDataError(w, err)
		return
	}
	store, t, ok := s.dashTable(w, r)
	if !ok {
		return
	}
	where := q.Get("where")
	// The order is the data API's default: -created_at, then the later
	// write first among records of the same second.
	t, raws, total, err := store.FindRaw(r.Context(), t.Name, datastore.Query{
		Where: []byte(where), Limit: limit, Offset: offset, WithCount: true,
	})
	if err != nil {
		writeDataError(w, err)
		return
	}
	objects, err := store.PresentJSON(r.Context(), t, raws, datastore.View{})
	if err != nil {
		writeDataError(w, err)
		return
	}
	head, err := jsjson.Marshal(dashRecordsHead{Table: t.Name, Where: where, Limit: limit, Offset: offset, Total: total})
	if err != nil {
		writeDataError(w, err)
		return
	}
	// {"table":…,"total":N,"objects":[…]}: the records are JSON already.
	var b bytes.Buffer
	b.Write(head[:len(head)-1])
	b.WriteString(`,"objects":[`)
	for i, o := range objects {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(o)
	}
	b.WriteString("]}")
	writeJSON(w, http.StatusOK, b.Bytes())
}

// dashRecord serves GET /_/api/tables/{table}/{id}?env=ID: one record,
// indented for reading, its numbers as stored.
func (s *Server) dashRecord(w http.ResponseWriter, r *http.Request) {
	store, t, ok := s.dashTable(w, r)
	if !ok {
		return
	}
	t, doc, err := store.Get(r.Context(), t.Name, r.PathValue("id"))
	if err != nil {
		writeDataError(w, err)
		return
	}
	docs, err := store.Present(r.Context(), t, []datastore.Doc{doc}, datastore.View{})
	if err != nil {
		writeDataError(w, err)
		return
	}
	b, err := jsjson.Marshal(docs[0])
	if err != nil {
		writeDataError(w, err)
		return
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		writeDataError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out.Bytes())
}

// dashTable finds the database and the table the path names (by name or
// id). Unlike the data API, which reads a table never written as empty,
// the dashboard says it does not exist: it browses the tables it listed.
func (s *Server) dashTable(w http.ResponseWriter, r *http.Request) (*datastore.Store, *datastore.Table, bool) {
	store, ok := s.dashStore(w, r)
	if !ok {
		return nil, nil, false
	}
	t, ok := store.Lookup(r.PathValue("table"))
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("Table %q does not exist.", r.PathValue("table")))
		return nil, nil, false
	}
	return store, t, true
}
