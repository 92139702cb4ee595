package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakePlatform speaks the platform's Open API for tables and records
// (data-api.md §8.1, §8.4, §2; the OAuth code exchange of
// cloud-function-invoke.md) with its own types, and logs every data
// request as "METHOD PATH?QUERY BODY".
type fakePlatform struct {
	mu      sync.Mutex
	log     []string
	tables  []fakeTable
	nextID  int
	records map[int][]map[string]any
	failIdx string // a table name whose index POST answers 400
	// ignoreOffset answers every find from the first record, as a server
	// that does not page by offset would.
	ignoreOffset bool
	// totalOnly gives a find's meta total_count and no next.
	totalOnly bool
	srv       *httptest.Server
}

type fakeTable struct {
	ID   int
	Name string
}

const fakeSecret = "platform-secret-123"

func newFakePlatform(t *testing.T) *fakePlatform {
	p := &fakePlatform{nextID: 100, records: map[int][]map[string]any{}}
	p.tables = append(p.tables, fakeTable{ID: 7, Name: "_userprofile"})
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/oauth2/hydrogen/openapi/authorize/", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			ClientID     string `json:"client_id"`
			ClientSecret string `json:"client_secret"`
		}
		if json.NewDecoder(r.Body).Decode(&in) != nil || in.ClientSecret != fakeSecret {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error_msg":"invalid client"}`)
			return
		}
		io.WriteString(w, `{"code":"c-1","expires_in":600}`)
	})
	mux.HandleFunc("POST /api/oauth2/access_token/", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"access_token":"tok-1","token_type":"Bearer","expires_in":3600,"refresh_token":"r","scope":"all"}`)
	})
	mux.HandleFunc("/oserve/", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok-1" {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error_msg":"unauthorized"}`)
			return
		}
		body, _ := io.ReadAll(r.Body)
		p.mu.Lock()
		defer p.mu.Unlock()
		line := r.Method + " " + r.URL.Path
		if r.URL.RawQuery != "" {
			line += "?" + r.URL.RawQuery
		}
		if len(body) > 0 {
			line += " " + string(body)
		}
		p.log = append(p.log, line)
		p.serve(w, r, body)
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func (p *fakePlatform) serve(w http.ResponseWriter, r *http.Request, body []byte) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	answer := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
	switch {
	case r.URL.Path == "/oserve/v1.8/table/" && r.Method == http.MethodGet:
		objs := []map[string]any{}
		for _, t := range p.tables {
			if n := r.URL.Query().Get("name"); n == "" || n == t.Name {
				objs = append(objs, map[string]any{"id": t.ID, "name": t.Name})
			}
		}
		answer(200, map[string]any{"meta": map[string]any{"total_count": len(objs)}, "objects": objs})
	case r.URL.Path == "/oserve/v1.8/table/" && r.Method == http.MethodPost:
		var in struct {
			Name string `json:"name"`
		}
		json.Unmarshal(body, &in)
		p.nextID++
		p.tables = append(p.tables, fakeTable{ID: p.nextID, Name: in.Name})
		answer(201, map[string]any{"id": p.nextID, "name": in.Name})
	case len(parts) == 4 && parts[1] == "v1.8" && parts[2] == "table" && r.Method == http.MethodDelete:
		id, _ := strconv.Atoi(parts[3])
		for i, t := range p.tables {
			if t.ID == id {
				p.tables = append(p.tables[:i], p.tables[i+1:]...)
				w.WriteHeader(204)
				return
			}
		}
		answer(404, map[string]any{"error_msg": "not found"})
	case len(parts) == 4 && parts[1] == "v1.8" && parts[2] == "table" && r.Method == http.MethodPut:
		answer(200, map[string]any{"id": parts[3]})
	case len(parts) == 5 && parts[1] == "v2.6" && parts[2] == "schema" && parts[4] == "index":
		id, _ := strconv.Atoi(parts[3])
		for _, t := range p.tables {
			if t.ID == id && t.Name == p.failIdx {
				answer(400, map[string]any{"error_msg": "index on a missing field"})
				return
			}
		}
		answer(201, map[string]any{"status": "ok"})
	case len(parts) == 5 && parts[1] == "v2.4" && parts[2] == "table" && parts[4] == "record":
		id, _ := strconv.Atoi(parts[3])
		known := false
		for _, t := range p.tables {
			known = known || t.ID == id
		}
		if !known { // the platform's record paths take a table's id
			answer(404, map[string]any{"error_msg": "Not found."})
			return
		}
		if r.Method == http.MethodPost {
			var recs []map[string]any
			if json.Unmarshal(body, &recs) != nil {
				answer(400, map[string]any{"error_msg": "expected an array"})
				return
			}
			res := []map[string]any{}
			for i, rec := range recs {
				rec["id"] = fmt.Sprintf("r%d-%d", id, len(p.records[id])+i)
				res = append(res, map[string]any{"success": map[string]any{"id": rec["id"]}})
			}
			p.records[id] = append(p.records[id], recs...)
			answer(201, map[string]any{"succeed": len(recs), "total_count": len(recs), "operation_result": res})
			return
		}
		q := r.URL.Query()
		limit, _ := strconv.Atoi(q.Get("limit"))
		offset, _ := strconv.Atoi(q.Get("offset"))
		if p.ignoreOffset {
			offset = 0
		}
		all := p.records[id]
		objs := []map[string]any{}
		for i := offset; i < len(all) && i < offset+limit; i++ {
			objs = append(objs, all[i])
		}
		meta := map[string]any{"limit": limit, "offset": offset, "next": nil}
		if offset+limit < len(all) { // the platform's next page, as a path
			meta["next"] = fmt.Sprintf("%s?limit=%d&offset=%d", r.URL.Path, limit, offset+limit)
		}
		if p.totalOnly {
			meta = map[string]any{"limit": limit, "offset": offset, "total_count": len(all)}
		}
		answer(200, map[string]any{"meta": meta, "objects": objs})
	default:
		answer(404, map[string]any{"error_msg": "no such path " + r.URL.Path})
	}
}

func (p *fakePlatform) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.log
	p.log = nil
	return l
}

func (p *fakePlatform) cli(t *testing.T) *cli {
	c := newCLI(t)
	c.env = []string{"MINCLOUD_HOST=" + p.srv.URL, "MINCLOUD_CLIENT_ID=platform-client", "MINCLOUD_CLIENT_SECRET=" + fakeSecret}
	return c
}

// TestSchemaImportAgainstThePlatform: schema-import sends what the hosted
// CLI sends (§8.4): the table list, tables without references first, each
// POSTed as written (indexes key included) with schema_name resolved to
// schema_id, then its indexes one by one; a failing index deletes every
// table made, last first; _userprofile alone is a PUT without its name.
func TestSchemaImportAgainstThePlatform(t *testing.T) {
	p := newFakePlatform(t)
	c := p.cli(t)
	require.NoError(t, os.WriteFile(filepath.Join(c.root, "blog.json"), []byte(cliSchema), 0o600))
	r := c.run("schema-import", "blog")
	require.Equal(t, 0, r.code, r)
	assert.Equal(t, "created table author\ncreated table post\n", r.stdout)
	log := p.take()
	require.Len(t, log, 4, strings.Join(log, "\n"))
	assert.Equal(t, "GET /oserve/v1.8/table/?limit=1000", log[0])
	assert.True(t, strings.HasPrefix(log[1], `POST /oserve/v1.8/table/ {`), log[1])
	assert.Contains(t, log[1], `"name":"author"`)
	assert.True(t, strings.HasPrefix(log[2], `POST /oserve/v1.8/table/ {`), log[2])
	var post struct {
		Name    string            `json:"name"`
		Indexes []json.RawMessage `json:"indexes"`
		Schema  struct {
			Fields []map[string]any `json:"fields"`
		} `json:"schema"`
	}
	require.NoError(t, json.Unmarshal([]byte(strings.TrimPrefix(log[2], "POST /oserve/v1.8/table/ ")), &post))
	assert.Equal(t, "post", post.Name)
	assert.Len(t, post.Indexes, 1, "the config goes as written, indexes included")
	assert.EqualValues(t, 101, post.Schema.Fields[1]["schema_id"], "schema_name author resolved to its new id")
	assert.Equal(t, `POST /oserve/v2.6/schema/102/index/ {"fields":["title"]}`, log[3])

	// Again: a name that exists stops everything before any write.
	r = c.run("schema-import", "blog")
	assert.Equal(t, 1, r.code, r)
	assert.Contains(t, r.stderr, "exists already")
	assert.Equal(t, []string{"GET /oserve/v1.8/table/?limit=1000"}, p.take())

	// A failing index: every table made in the batch is deleted, last first.
	p2 := newFakePlatform(t)
	p2.failIdx = "post"
	c2 := p2.cli(t)
	require.NoError(t, os.WriteFile(filepath.Join(c2.root, "blog.json"), []byte(cliSchema), 0o600))
	r = c2.run("schema-import", "blog")
	assert.Equal(t, 1, r.code, r)
	assert.Contains(t, r.stderr, "index on a missing field")
	log = p2.take()
	require.GreaterOrEqual(t, len(log), 2)
	assert.Equal(t, []string{"DELETE /oserve/v1.8/table/102/", "DELETE /oserve/v1.8/table/101/"}, log[len(log)-2:])

	// _userprofile alone is updated, its name left out.
	c3 := p.cli(t)
	require.NoError(t, os.WriteFile(filepath.Join(c3.root, "users.json"), []byte(`{"name":"_userprofile","schema":{"fields":[{"name":"nick","type":"string"}]}}`), 0o600))
	r = c3.run("schema-import", "users")
	require.Equal(t, 0, r.code, r)
	log = p.take()
	require.Len(t, log, 2, strings.Join(log, "\n"))
	assert.Equal(t, `PUT /oserve/v1.8/table/7/ {"schema":{"fields":[{"name":"nick","type":"string"}]}}`, log[1])
}

// TestDataImportExportAgainstThePlatform: data import and export use the
// Open API record paths with the table's id (§8.1: found by name in the
// table list), createMany in batches of 1000 without triggers, and pages
// of 1000 in a stable order.
func TestDataImportExportAgainstThePlatform(t *testing.T) {
	p := newFakePlatform(t)
	p.tables = append(p.tables, fakeTable{ID: 55, Name: "product"})
	c := p.cli(t)
	var lines strings.Builder
	for i := range 1001 {
		fmt.Fprintf(&lines, "{\"name\":\"p%d\",\"price\":%d}\n", i, i)
	}
	require.NoError(t, os.WriteFile(filepath.Join(c.root, "p.jsonl"), []byte(lines.String()), 0o600))
	r := c.run("data", "import", "product", "p.jsonl")
	require.Equal(t, 0, r.code, r)
	assert.Contains(t, r.stderr, "imported 1001 records into product")
	log := p.take()
	require.Len(t, log, 3)
	assert.Equal(t, "GET /oserve/v1.8/table/?name=product", log[0])
	assert.True(t, strings.HasPrefix(log[1], `POST /oserve/v2.4/table/55/record/?enable_trigger=0 [{"name":"p0","price":0},`), log[1][:80])
	assert.Equal(t, `POST /oserve/v2.4/table/55/record/?enable_trigger=0 [{"name":"p1000","price":1000}]`, log[2])

	r = c.run("data", "export", "product", "--where", `{"price":{"$gte":0}}`)
	require.Equal(t, 0, r.code, r)
	out := strings.Split(strings.TrimSpace(r.stdout), "\n")
	require.Len(t, out, 1001)
	assert.JSONEq(t, `{"id":"r55-1000","name":"p1000","price":1000}`, out[1000])
	log = p.take()
	require.Len(t, log, 3, strings.Join(log, "\n"))
	assert.Equal(t, "GET /oserve/v2.4/table/55/record/?limit=1000&offset=0&order_by=created_at%2Cid&where=%7B%22price%22%3A%7B%22%24gte%22%3A0%7D%7D", log[1])
	assert.Equal(t, "GET /oserve/v2.4/table/55/record/?limit=1000&offset=1000&order_by=created_at%2Cid&where=%7B%22price%22%3A%7B%22%24gte%22%3A0%7D%7D", log[2])

	r = c.run("data", "export", "nope")
	assert.Equal(t, 1, r.code, r)
	assert.Contains(t, r.stderr, `table "nope" does not exist`)
}

// TestDataImportIntoAMissingTableOnThePlatform: a table the list lacks is
// sent by name (an emulator without a schema makes it); the platform's 404
// comes back as "table ... does not exist", once.
func TestDataImportIntoAMissingTableOnThePlatform(t *testing.T) {
	p := newFakePlatform(t)
	c := p.cli(t)
	c.stdin = "{\"a\":1}\n"
	r := c.run("data", "import", "nope", "-")
	assert.Equal(t, 1, r.code, r)
	assert.Contains(t, r.stderr, `error: 404: table "nope" does not exist`)
	assert.Equal(t, []string{"GET /oserve/v1.8/table/?name=nope", `POST /oserve/v2.4/table/nope/record/?enable_trigger=0 [{"a":1}]`}, p.take())
}

// addRecords gives table id n records made as the platform makes them.
func (p *fakePlatform) addRecords(id, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range n {
		p.records[id] = append(p.records[id], map[string]any{"id": fmt.Sprintf("r%d-%d", id, i), "n": i})
	}
}

// TestDataExportStopsOnTheLastPage: export stops on the platform's
// meta.next null, or on total_count reached, without asking for a page
// past the last (a table of exactly 1000 records is one request).
func TestDataExportStopsOnTheLastPage(t *testing.T) {
	for _, totalOnly := range []bool{false, true} {
		p := newFakePlatform(t)
		p.totalOnly = totalOnly
		p.tables = append(p.tables, fakeTable{ID: 55, Name: "product"})
		p.addRecords(55, 1000)
		r := p.cli(t).run("data", "export", "product")
		require.Equal(t, 0, r.code, r)
		assert.Len(t, strings.Split(strings.TrimSpace(r.stdout), "\n"), 1000)
		assert.Len(t, p.take(), 2, "the table list and one page (totalOnly %v)", totalOnly)
	}
}

// TestDataExportOfAServerIgnoringOffset: a server that answers every page
// from the first record makes export fail, saying what came back, after
// the first page: it never loops writing the same records.
func TestDataExportOfAServerIgnoringOffset(t *testing.T) {
	p := newFakePlatform(t)
	p.ignoreOffset = true
	p.tables = append(p.tables, fakeTable{ID: 55, Name: "product"})
	p.addRecords(55, 1500)
	r := p.cli(t).run("data", "export", "product")
	assert.Equal(t, 1, r.code, r)
	assert.Contains(t, r.stderr, `the server answered the page at offset 1000 with the records of the page before (first id "r55-0"): it does not page by offset`)
	assert.Len(t, strings.Split(strings.TrimSpace(r.stdout), "\n"), 1000, "the first page only, once")
	assert.Len(t, p.take(), 3, "the table list and two pages")
}

// posts is how many record creations the fake has been sent.
func (p *fakePlatform) posts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, l := range p.log {
		if strings.HasPrefix(l, "POST /oserve/v2.4/table/") {
			n++
		}
	}
	return n
}

// TestDataImportSendsWhileReading: import sends each batch of 1000 as
// soon as it is read, before the rest of the input exists; a bad line
// after that stops it, saying how many records went before it.
func TestDataImportSendsWhileReading(t *testing.T) {
	for _, tail := range []string{"{\"a\":1}\n", "not json\n"} {
		p := newFakePlatform(t)
		p.tables = append(p.tables, fakeTable{ID: 55, Name: "product"})
		c := p.cli(t)
		pr, pw := io.Pipe()
		c.in = pr
		sentFirst := make(chan bool, 1)
		go func() {
			defer pw.Close()
			for i := range 1000 {
				if _, err := fmt.Fprintf(pw, "{\"n\":%d}\n", i); err != nil {
					sentFirst <- false
					return
				}
			}
			// Generous: the first batch is sent once read, whatever the load.
			deadline := time.Now().Add(60 * time.Second)
			for p.posts() == 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			sentFirst <- p.posts() == 1
			io.WriteString(pw, tail)
		}()
		r := c.run("data", "import", "product", "-")
		assert.True(t, <-sentFirst, "the first batch was sent before the input ended")
		if tail == "not json\n" {
			assert.Equal(t, 1, r.code, r)
			assert.Contains(t, r.stderr, "-: line 1001 is not a JSON object; the 1000 records before it were imported")
			assert.Equal(t, 1, p.posts())
			continue
		}
		require.Equal(t, 0, r.code, r)
		assert.Contains(t, r.stderr, "imported 1001 records into product")
		assert.Equal(t, 2, p.posts())
	}
}
