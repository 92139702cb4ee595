package emulator_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mincloud-go/baas/emulator"
)

// web sends a Web API request as the official JS SDK does (client id
// header, JSON body), with no user and no environment (webAs).
func web(t *testing.T, srv *emulator.Server, method, path, body string) (int, string) {
	t.Helper()
	return webAs(t, srv, "", "", method, path, body)
}

func decodeMap(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(s), &m), s)
	return m
}

func enc(s string) string { return url.QueryEscape(s) }

// TestDataGoldenRequests sends the §11 wire vectors, byte for byte as the
// official SDK builds them, and checks the answers.
func TestDataGoldenRequests(t *testing.T) {
	t.Parallel()
	srv := emulator.New()
	t.Cleanup(srv.Close)

	// create().set({a:1}).set('g', GeoPoint).save()
	st, body := web(t, srv, "POST", "/hserve/v2.4/table/product/record/?expand=", `{"a":1,"g":{"type":"Point","coordinates":[1,2]}}`)
	require.Equal(t, 201, st, body)
	rec := decodeMap(t, body)
	id := rec["id"].(string)
	assert.Len(t, id, 24)
	assert.Equal(t, id, rec["_id"])
	for _, k := range []string{"created_at", "updated_at", "read_perm", "write_perm"} {
		assert.Contains(t, rec, k)
	}
	assert.NotContains(t, rec, "created_by", "an anonymous caller is no creator")

	// createMany([{a:1},{a:2}], {enableTrigger:false})
	st, body = web(t, srv, "POST", "/hserve/v2.4/table/product/record/?enable_trigger=0", `[{"a":1},{"a":2}]`)
	require.Equal(t, 201, st, body)
	cm := decodeMap(t, body)
	assert.EqualValues(t, 2, cm["succeed"])
	assert.EqualValues(t, 2, cm["total_count"])
	assert.Len(t, cm["operation_result"], 2)

	// find()
	st, body = web(t, srv, "GET", "/hserve/v2.4/table/product/record/?limit=20&offset=0&where=%7B%7D&return_total_count=0", "")
	require.Equal(t, 200, st, body)
	page := decodeMap(t, body)
	meta := page["meta"].(map[string]any)
	assert.NotContains(t, meta, "total_count") // only with return_total_count=1
	assert.EqualValues(t, 20, meta["limit"])
	assert.Nil(t, meta["next"])
	assert.Len(t, page["objects"], 3)

	// setQuery(compare('a','>',1)).orderBy(['-created_at','id']).select('-g').limit(5).find({withCount:true})
	st, body = web(t, srv, "GET", "/hserve/v2.4/table/product/record/?limit=5&offset=0&order_by="+enc("-created_at,id")+
		"&keys="+enc("-g")+"&expand=&where="+enc(`{"$and":[{"a":{"$gt":1}}]}`)+"&return_total_count=1", "")
	require.Equal(t, 200, st, body)
	page = decodeMap(t, body)
	assert.EqualValues(t, 1, page["meta"].(map[string]any)["total_count"])
	obj := page["objects"].([]any)[0].(map[string]any)
	assert.EqualValues(t, 2, obj["a"])
	assert.NotContains(t, obj, "g")

	// count()
	st, body = web(t, srv, "GET", "/hserve/v2.4/table/product/record/?limit=1&offset=0&where=%7B%7D&return_total_count=1", "")
	require.Equal(t, 200, st, body)
	assert.EqualValues(t, 3, decodeMap(t, body)["meta"].(map[string]any)["total_count"])

	// limit=0 answers no objects; the count still works (§10.22).
	st, body = web(t, srv, "GET", "/hserve/v2.4/table/product/record/?limit=0&where=%7B%7D&return_total_count=1", "")
	require.Equal(t, 200, st, body)
	page = decodeMap(t, body)
	assert.Empty(t, page["objects"])
	assert.EqualValues(t, 3, page["meta"].(map[string]any)["total_count"])

	// get(id)
	st, body = web(t, srv, "GET", "/hserve/v2.5/table/product/record/"+id+"/", "")
	require.Equal(t, 200, st, body)
	assert.Equal(t, id, decodeMap(t, body)["id"])

	// getWithoutData(id).incrementBy('a',-1).unset('g').update()
	st, body = web(t, srv, "PUT", "/hserve/v2.5/table/product/record/"+id+"/?enable_trigger=1&expand=", `{"$set":{"a":{"$incr_by":-1}},"$unset":{"g":""}}`)
	require.Equal(t, 200, st, body)
	rec = decodeMap(t, body)
	assert.EqualValues(t, 0, rec["a"])
	assert.NotContains(t, rec, "g")

	// limit(10).getWithoutData(q).set('s','x').update({withCount:true})
	where := enc(`{"$and":[{"a":{"$gte":1}}]}`)
	st, body = web(t, srv, "PUT", "/hserve/v2.4/table/product/record/?limit=10&offset=0&where="+where+"&enable_trigger=1&return_total_count=1", `{"$set":{"s":"x"},"$unset":{}}`)
	require.Equal(t, 200, st, body)
	bulk := decodeMap(t, body)
	assert.EqualValues(t, 2, bulk["succeed"])
	assert.EqualValues(t, 2, bulk["total_count"])
	assert.EqualValues(t, 10, bulk["limit"])
	assert.Nil(t, bulk["next"])
	res := bulk["operation_result"].([]any)
	require.Len(t, res, 2)
	assert.Contains(t, res[0].(map[string]any)["success"], "updated_at")

	// delete(q, {enableTrigger:false}): no limit, the "?&" prefix
	st, body = web(t, srv, "DELETE", "/hserve/v2.4/table/product/record/?&offset=0&where="+enc(`{"$and":[{"s":{"$eq":"x"}}]}`)+"&enable_trigger=0&return_total_count=0", "")
	require.Equal(t, 200, st, body)
	bulk = decodeMap(t, body)
	assert.EqualValues(t, 2, bulk["succeed"])
	assert.NotContains(t, bulk, "total_count")
	assert.NotContains(t, bulk, "operation_result") // only updates list them

	// delete(id)
	st, body = web(t, srv, "DELETE", "/hserve/v2.5/table/product/record/"+id+"/", "")
	assert.Equal(t, 204, st)
	assert.Empty(t, body)
	st, body = web(t, srv, "GET", "/hserve/v2.5/table/product/record/"+id+"/", "")
	assert.Equal(t, 404, st)
	assertPlatformError(t, body, "does not exist")

	// getServerDate()
	st, body = web(t, srv, "GET", "/hserve/v2.2/server/time/", "")
	require.Equal(t, 200, st)
	assert.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$`, decodeMap(t, body)["time"])
}

// TestDataBadInput: every malformed parameter or body is 400 naming it,
// and nothing is written.
func TestDataBadInput(t *testing.T) {
	t.Parallel()
	srv := emulator.New()
	t.Cleanup(srv.Close)
	_, err := srv.Table("p").Insert(map[string]any{"n": 1})
	require.NoError(t, err)
	base := "/hserve/v2.4/table/p/record/"
	cases := []struct{ method, path, body, msg string }{
		{"GET", base + "?where=" + enc(`{"n":{"$gt":}`), "", "not JSON"},
		{"GET", base + "?where=" + enc(`{"n":{"$between":[1,2]}}`), "", "unknown operator $between"},
		{"GET", base + "?limit=abc", "", `invalid limit "abc"`},
		{"GET", base + "?limit=1001", "", "Invalid limit 1001"},
		{"GET", base + "?offset=-1", "", "Invalid offset -1"},
		{"GET", base + "?limit=-1", "", "Invalid limit -1: it cannot be negative."},
		// The table list, the bulk operations and find read limit and
		// offset alike.
		{"GET", "/hserve/v2.4/table/?limit=-1", "", "Invalid limit -1: it cannot be negative."},
		{"GET", "/hserve/v2.4/table/?limit=1001", "", "Invalid limit 1001: at most 1000."},
		{"GET", "/hserve/v2.4/table/?offset=x", "", `Invalid query: invalid offset "x": an integer is needed.`},
		{"DELETE", base + "?where=%7B%7D&limit=-2", "", "Invalid limit -2: it cannot be negative."},
		{"DELETE", base + "?where=%7B%7D&offset=-1", "", "Invalid offset -1: it cannot be negative."},
		{"DELETE", base + "?where=%7B%7D&enable_trigger=maybe", "", `Invalid query: invalid enable_trigger "maybe": use 1 or 0.`},
		{"GET", base + "?order_by=" + enc("n;drop"), "", "is not a field name"},
		{"GET", base + "?keys=" + enc("a b"), "", "Invalid keys"},
		{"GET", base + "?return_total_count=maybe", "", "return_total_count"},
		{"POST", base, `{"n":`, "must be a JSON object"},
		{"POST", base, `"text"`, "must be a JSON object"},
		{"POST", base, `[{"n":1},3]`, "Item 1"},
		{"PUT", base + "?where=%7B%7D", `{"$set":{"n":{"$mul":2}}}`, "operator $mul is not supported"},
		{"PUT", base + "?where=%7B%7D&limit=5000", `{"n":1}`, "at most 1000"},
		{"DELETE", base + "?where=" + enc(`{"$or":{}}`), "", "$or needs an array"},
	}
	for _, c := range cases {
		st, body := web(t, srv, c.method, c.path, c.body)
		if assert.Equal(t, 400, st, "%s %s: %s", c.method, c.path, body) {
			assertPlatformError(t, body, c.msg)
		}
	}
	recs, err := srv.Table("p").Find("")
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, json.Number("1"), recs[0]["n"])

	// No client id: 401, as the invoke endpoint.
	req, _ := http.NewRequest("GET", srv.URL+base, nil)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 401, resp.StatusCode)
	// Not a version: 404.
	st, _ := web(t, srv, "GET", "/hserve/latest/table/p/record/", "")
	assert.Equal(t, 404, st)
}

// TestDataConcurrentIncrementsOverHTTP: 100 concurrent $incr_by 1 through
// the Web API leave n+100.
func TestDataConcurrentIncrementsOverHTTP(t *testing.T) {
	t.Parallel()
	srv := emulator.New()
	t.Cleanup(srv.Close)
	recs, err := srv.Table("counter").Insert(map[string]any{"n": 7})
	require.NoError(t, err)
	id := recs[0]["id"].(string)
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, body := web(t, srv, "PUT", "/hserve/v2.5/table/counter/record/"+id+"/?enable_trigger=1&expand=", `{"$set":{"n":{"$incr_by":1}},"$unset":{}}`)
			assert.Equal(t, 200, st, body)
		}()
	}
	wg.Wait()
	r, err := srv.Table("counter").Get(id)
	require.NoError(t, err)
	assert.Equal(t, json.Number("107"), r["n"])
}

// TestDataAsyncBulk: without triggers, more than 1000 matches and no
// limit go async (§2.5); getAsyncJobResult reads the job.
func TestDataAsyncBulk(t *testing.T) {
	t.Parallel()
	srv := emulator.New()
	t.Cleanup(srv.Close)
	batch := make([]any, 1000)
	for i := range batch {
		batch[i] = map[string]any{"i": i}
	}
	for range 2 {
		_, err := srv.Table("big").Insert(batch...)
		require.NoError(t, err)
	}
	st, body := web(t, srv, "DELETE", "/hserve/v2.4/table/big/record/?&offset=0&where=%7B%7D&enable_trigger=0&return_total_count=0", "")
	require.Equal(t, 200, st, body)
	ack := decodeMap(t, body)
	assert.Equal(t, "ok", ack["status"])
	st, body = web(t, srv, "GET", fmt.Sprintf("/hserve/v1/bulk-operation/%v/", ack["operation_id"]), "")
	require.Equal(t, 200, st, body)
	job := decodeMap(t, body)
	assert.Equal(t, "delete", job["operation"])
	assert.Equal(t, "success", job["status"])
	assert.EqualValues(t, 2000, job["deleted_count"])
	assert.Equal(t, "big", job["schema_name"])
	n, err := srv.Table("big").Count("")
	require.NoError(t, err)
	assert.Zero(t, n)
	st, _ = web(t, srv, "GET", "/hserve/v1/bulk-operation/999/", "")
	assert.Equal(t, 404, st)
}

// TestDataCORS: a page from another origin may call the data API,
// including PUT.
func TestDataCORS(t *testing.T) {
	t.Parallel()
	srv := emulator.New()
	t.Cleanup(srv.Close)
	req, _ := http.NewRequest("OPTIONS", srv.URL+"/hserve/v2.5/table/p/record/x/", nil)
	req.Header.Set("Origin", "http://localhost:5173")
	req.Header.Set("Access-Control-Request-Method", "PUT")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 204, resp.StatusCode)
	assert.Equal(t, "http://localhost:5173", resp.Header.Get("Access-Control-Allow-Origin"))
	assert.Contains(t, resp.Header.Get("Access-Control-Allow-Methods"), "PUT")
}

const productSchema = `[
 {"name":"product","row_read_perm":["user:*"],"row_write_perm":["user:*"],"write_perm":["user:*"],
  "schema":{"fields":[{"name":"name","type":"string"},{"name":"price","type":"integer"},{"name":"maker","type":"reference","schema_name":"maker"}]},
  "indexes":[{"fields":["name"]}]},
 {"name":"maker","row_read_perm":["user:*"],"row_write_perm":["user:*"],"write_perm":["user:*"],
  "schema":{"fields":[{"name":"title","type":"string"}]}}
]`

// TestDataOpenAPIAndSchema: the Open API with the Bearer token, tables
// from a schema listed with ids, record paths by id, the flat update body.
func TestDataOpenAPIAndSchema(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	schema := filepath.Join(dir, "schema.json")
	require.NoError(t, os.WriteFile(schema, []byte(productSchema), 0o600))
	srv := emulator.New(emulator.WithSchemaFile(schema))
	t.Cleanup(srv.Close)
	tok := accessToken(t, srv)

	st, _, body := openAPI(t, srv, tok, "GET", "/oserve/v1.8/table/", "")
	require.Equal(t, 200, st, body)
	var list struct {
		Meta struct {
			TotalCount int `json:"total_count"`
		}
		Objects []struct {
			ID     int64
			Name   string
			Schema struct{ Fields []struct{ Name, Type string } }
		}
	}
	require.NoError(t, json.Unmarshal([]byte(body), &list))
	require.Equal(t, 2, list.Meta.TotalCount)
	ids := map[string]int64{}
	for _, o := range list.Objects {
		ids[o.Name] = o.ID
	}
	// maker has no references: made first (§8.4).
	assert.Less(t, ids["maker"], ids["product"])
	assert.Equal(t, "id", list.Objects[0].Schema.Fields[0].Type)

	m, err := srv.Table("maker").Insert(map[string]any{"title": "acme"})
	require.NoError(t, err)
	pp := fmt.Sprintf("/oserve/v2.4/table/%d/record/", ids["product"])
	st, _, body = openAPI(t, srv, tok, "POST", pp, fmt.Sprintf(`{"name":"pen","price":3,"maker":%q}`, m[0]["id"]))
	require.Equal(t, 201, st, body)
	pid := decodeMap(t, body)["id"].(string)
	// The flat update body of the Open API.
	st, _, body = openAPI(t, srv, tok, "PUT", fmt.Sprintf("/oserve/v2.6/table/%d/record/%s/", ids["product"], pid), `{"price":{"$incr_by":-1}}`)
	require.Equal(t, 200, st, body)
	assert.EqualValues(t, 2, decodeMap(t, body)["price"])
	// The flat where form, with expand.
	st, _, body = openAPI(t, srv, tok, "GET", pp+"?where="+enc(`{"price":{"$lt":3}}`)+"&expand=maker", "")
	require.Equal(t, 200, st, body)
	assert.Contains(t, body, `"title":"acme"`)
	assert.Contains(t, body, `"_table":"maker"`)
	// No token: 401.
	st, _, _ = openAPI(t, srv, "", "GET", pp, "")
	assert.Equal(t, 401, st)

	// With a schema: unknown tables are 404, one wrong field is 400.
	st, body = web(t, srv, "POST", "/hserve/v2.4/table/nope/record/?expand=", `{"a":1}`)
	assert.Equal(t, 404, st, body)
	// product's write_perm is user:*: a logged-in user writes.
	user := webUser(srv, 7)
	st, body = webAs(t, srv, user, "", "POST", "/hserve/v2.4/table/product/record/?expand=", `{"price":"3"}`)
	assert.Equal(t, 400, st)
	assertPlatformError(t, body, "Failed to save record, type conflict on fields: price (integer)")
	// The unique index on name.
	st, body = webAs(t, srv, user, "", "POST", "/hserve/v2.4/table/product/record/?expand=", `{"name":"pen"}`)
	assert.Equal(t, 400, st, body)
	st, _, body = openAPI(t, srv, tok, "GET", fmt.Sprintf("/oserve/v2.6/schema/%d/index/", ids["product"]), "")
	require.Equal(t, 200, st, body)
	assert.Contains(t, body, `"index":"name_1"`)

	// The Web API's table list and detail (the SDK's getTableList/getTable).
	st, body = web(t, srv, "GET", "/hserve/v2.0/table/", "")
	require.Equal(t, 200, st, body)
	assert.Contains(t, body, `"name":"product"`)
	st, body = web(t, srv, "GET", fmt.Sprintf("/hserve/v2.0/table/%d/", ids["maker"]), "")
	require.Equal(t, 200, st, body)
	assert.Equal(t, "maker", decodeMap(t, body)["name"])

	// Table management: create, update, delete.
	st, _, body = openAPI(t, srv, tok, "POST", "/oserve/v1.8/table/", `{"name":"extra","schema":{"fields":[{"name":"x","type":"number"}]},"row_read_perm":["user:*"],"row_write_perm":["user:*"],"write_perm":["user:*"]}`)
	require.Equal(t, 201, st, body)
	eid := decodeMap(t, body)["id"]
	st, _, body = openAPI(t, srv, tok, "PUT", fmt.Sprintf("/oserve/v1.8/table/%v/", eid), `{"name":"extra2"}`)
	require.Equal(t, 200, st, body)
	assert.Equal(t, "extra2", decodeMap(t, body)["name"])
	st, _, body = openAPI(t, srv, tok, "POST", "/oserve/v1.8/table/", `{"name":"extra2","schema":{"fields":[]}}`)
	assert.Equal(t, 400, st, body)
	st, _, _ = openAPI(t, srv, tok, "DELETE", fmt.Sprintf("/oserve/v1.8/table/%v/", eid), "")
	assert.Equal(t, 204, st)
	st, _, _ = openAPI(t, srv, tok, "GET", fmt.Sprintf("/oserve/v1.8/table/%v/", eid), "")
	assert.Equal(t, 404, st)
}

// TestDataFileAcrossRestarts: WithDataFile keeps the records.
func TestDataFileAcrossRestarts(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "data.db")
	srv := emulator.New(emulator.WithDataFile(path))
	_, err := srv.Table("note").Insert(map[string]any{"id": "n1", "text": "kept"})
	require.NoError(t, err)
	srv.Close()
	srv = emulator.New(emulator.WithDataFile(path))
	defer srv.Close()
	r, err := srv.Table("note").Get("n1")
	require.NoError(t, err)
	assert.Equal(t, "kept", r["text"])
	// A bad file path fails Listen.
	_, err = emulator.Listen("127.0.0.1:0", emulator.WithDataFile(filepath.Join(t.TempDir(), "no", "such", "dir", "x.db")))
	assert.Error(t, err)
}

// TestDataEachEmulatorItsOwnMemory: without a file, each emulator.New has
// a database of its own, so that parallel tests never share records.
func TestDataEachEmulatorItsOwnMemory(t *testing.T) {
	t.Parallel()
	a, b := emulator.New(), emulator.New()
	t.Cleanup(a.Close)
	t.Cleanup(b.Close)
	_, err := a.Table("shared").Insert(map[string]any{"id": "x1", "n": 1})
	require.NoError(t, err)
	n, err := b.Table("shared").Count("")
	require.NoError(t, err)
	assert.Equal(t, 0, n, "b sees none of a's records")
	_, err = b.Table("shared").Get("x1")
	assert.Error(t, err)
	_, err = b.Table("shared").Insert(map[string]any{"id": "x1", "n": 2})
	require.NoError(t, err, "the same id is free in b")
	r, err := a.Table("shared").Get("x1")
	require.NoError(t, err)
	assert.Equal(t, json.Number("1"), r["n"], "b's write did not reach a")
}

// TestDataNewTableSaidOnce: without a schema a first write makes the
// table, and the log says so once.
func TestDataNewTableSaidOnce(t *testing.T) {
	t.Parallel()
	var log lockedLog
	srv := emulator.New(emulator.WithLogOutput(&log))
	t.Cleanup(srv.Close)
	for range 3 {
		st, body := web(t, srv, "POST", "/hserve/v2.4/table/fresh/record/?expand=", `{"a":1}`)
		require.Equal(t, 201, st, body)
	}
	assert.Equal(t, 1, strings.Count(log.String(), `table "fresh" made by its first write`))
}

type lockedLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestDataPagingLinks: meta.next and previous are the request's own path
// and query with offset moved (§10.18); next is null on the last page.
func TestDataPagingLinks(t *testing.T) {
	t.Parallel()
	srv := emulator.New()
	t.Cleanup(srv.Close)
	for i := range 3 {
		_, err := srv.Table("p").Insert(map[string]any{"n": i})
		require.NoError(t, err)
	}
	page := func(q string) map[string]any {
		st, body := web(t, srv, "GET", "/hserve/v2.4/table/p/record/?"+q, "")
		require.Equal(t, 200, st, body)
		return decodeMap(t, body)["meta"].(map[string]any)
	}
	m := page("limit=2&offset=0&where=%7B%7D&order_by=n&keys=n")
	next, _ := m["next"].(string)
	require.NotEmpty(t, next)
	u, err := url.Parse(next)
	require.NoError(t, err)
	assert.Equal(t, "/hserve/v2.4/table/p/record/", u.Path)
	assert.Equal(t, "2", u.Query().Get("offset"))
	assert.Equal(t, "n", u.Query().Get("order_by"))
	assert.Nil(t, m["previous"])

	st, body := web(t, srv, "GET", next, "")
	require.Equal(t, 200, st, body)
	last := decodeMap(t, body)
	assert.Nil(t, last["meta"].(map[string]any)["next"])
	assert.NotNil(t, last["meta"].(map[string]any)["previous"])
	objs := last["objects"].([]any)
	require.Len(t, objs, 1)
	// keys=n keeps n alone.
	assert.Equal(t, map[string]any{"n": float64(2)}, objs[0])

	// With the count, a full last page has no next.
	m = page("limit=3&offset=0&where=%7B%7D&return_total_count=1")
	assert.Nil(t, m["next"])
}
