package emulator_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mincloud-go/baas/emulator"
)

// seedProducts inserts p00…p(n-1) into product, price i, one at a time so
// that p(n-1) is the newest.
func seedProducts(t *testing.T, srv *emulator.Server, n int) []emulator.DataRecord {
	t.Helper()
	var out []emulator.DataRecord
	for i := range n {
		recs, err := srv.Table("product").Insert(map[string]any{"name": fmt.Sprintf("p%02d", i), "price": i})
		require.NoError(t, err)
		out = append(out, recs...)
	}
	return out
}

type dashRecords struct {
	Table   string           `json:"table"`
	Where   string           `json:"where"`
	Limit   int              `json:"limit"`
	Offset  int              `json:"offset"`
	Total   int              `json:"total"`
	Objects []map[string]any `json:"objects"`
}

func (d dashRecords) names() []string {
	out := []string{}
	for _, o := range d.Objects {
		out = append(out, fmt.Sprint(o["name"]))
	}
	return out
}

// browse reads a page of a table through the dashboard's endpoint.
func browse(t *testing.T, srv *emulator.Server, table string, q url.Values) dashRecords {
	t.Helper()
	resp, body := get(t, srv.URL+"/_/api/tables/"+table+"?"+q.Encode(), nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	var out dashRecords
	require.NoError(t, json.Unmarshal([]byte(body), &out), body)
	return out
}

// The tables are listed by name with their record counts, a table made
// and emptied included.
func TestDashboardListsTables(t *testing.T) {
	t.Parallel()
	srv, _ := setup(t)
	_, body := get(t, srv.URL+"/_/api/tables", nil)
	assert.JSONEq(t, `[]`, body, "no tables yet")

	seedProducts(t, srv, 3)
	_, err := srv.Table("basket").Insert(map[string]any{"n": 1})
	require.NoError(t, err)
	require.NoError(t, srv.Table("basket").Reset())

	resp, body := get(t, srv.URL+"/_/api/tables", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	var tables []struct {
		ID       int64  `json:"id"`
		Name     string `json:"name"`
		Count    int    `json:"count"`
		Declared bool   `json:"declared"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &tables), body)
	require.Len(t, tables, 2)
	assert.Equal(t, "basket", tables[0].Name)
	assert.Equal(t, 0, tables[0].Count)
	assert.Equal(t, "product", tables[1].Name)
	assert.Equal(t, 3, tables[1].Count)
	assert.False(t, tables[1].Declared, "made by its first write")
	assert.NotZero(t, tables[1].ID)
}

// A table's records come newest first, a page at a time, with the total;
// the table may be named by its id too.
func TestDashboardPagesRecords(t *testing.T) {
	t.Parallel()
	srv, _ := setup(t)
	seeded := seedProducts(t, srv, 25)

	first := browse(t, srv, "product", url.Values{"limit": {"10"}})
	assert.Equal(t, "product", first.Table)
	assert.Equal(t, 25, first.Total)
	assert.Equal(t, 10, first.Limit)
	assert.Equal(t, []string{"p24", "p23", "p22", "p21", "p20", "p19", "p18", "p17", "p16", "p15"}, first.names())
	assert.Equal(t, seeded[24]["id"], first.Objects[0]["id"])
	for _, k := range []string{"id", "_id", "created_at", "updated_at", "created_by"} {
		assert.Contains(t, first.Objects[0], k, "records as the data API answers them")
	}

	last := browse(t, srv, "product", url.Values{"limit": {"10"}, "offset": {"20"}})
	assert.Equal(t, 25, last.Total)
	assert.Equal(t, 20, last.Offset)
	assert.Equal(t, []string{"p04", "p03", "p02", "p01", "p00"}, last.names())

	def := browse(t, srv, "product", nil)
	assert.Equal(t, 20, def.Limit, "20 to a page by default")
	assert.Len(t, def.Objects, 20)

	_, body := get(t, srv.URL+"/_/api/tables", nil)
	var tables []struct {
		ID int64 `json:"id"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &tables))
	require.Len(t, tables, 1)
	byID := browse(t, srv, jsonInt(tables[0].ID), url.Values{"limit": {"1"}})
	assert.Equal(t, []string{"p24"}, byID.names())
}

// A where in the platform's JSON filters as the data API does: the
// operators, and/or, and the total counts the matches only.
func TestDashboardFiltersRecordsWithAWhere(t *testing.T) {
	t.Parallel()
	srv, _ := setup(t)
	seedProducts(t, srv, 25)

	got := browse(t, srv, "product", url.Values{"where": {`{"price":{"$gte":20}}`}})
	assert.Equal(t, 5, got.Total)
	assert.Equal(t, `{"price":{"$gte":20}}`, got.Where)
	assert.Equal(t, []string{"p24", "p23", "p22", "p21", "p20"}, got.names())

	got = browse(t, srv, "product", url.Values{
		"where": {`{"$or":[{"name":{"$eq":"p03"}},{"price":{"$in":[7,11]}}]}`},
		"limit": {"2"},
	})
	assert.Equal(t, 3, got.Total)
	assert.Equal(t, []string{"p11", "p07"}, got.names())

	got = browse(t, srv, "product", url.Values{"where": {`{"name":{"$regex":"^x"}}`}})
	assert.Equal(t, 0, got.Total)
	assert.Empty(t, got.Objects)

	// The same where through the data layer from Go finds the same.
	recs, err := srv.Table("product").Find(`{"price":{"$gte":20}}`)
	require.NoError(t, err)
	assert.Len(t, recs, 5)
}

// Bad input is 400 with a message naming what was wrong, as the data API
// says it; an unknown table or record is 404.
func TestDashboardRecordsBadInput(t *testing.T) {
	t.Parallel()
	srv, _ := setup(t)
	seedProducts(t, srv, 2)
	for _, tc := range []struct {
		query url.Values
		says  string
	}{
		{url.Values{"where": {`{"price":{"$nope":1}}`}}, "$nope"},
		{url.Values{"where": {`{"price":`}}, "not JSON"},
		{url.Values{"where": {`{"bad name!":1}`}}, "bad name!"},
		{url.Values{"limit": {"-1"}}, "Invalid limit -1: it cannot be negative."},
		{url.Values{"limit": {"1001"}}, "Invalid limit 1001: at most 1000."},
		{url.Values{"limit": {"ten"}}, `Invalid query: invalid limit "ten": an integer is needed.`},
		{url.Values{"offset": {"-1"}}, "Invalid offset -1: it cannot be negative."},
		{url.Values{"offset": {"1.5"}}, `Invalid query: invalid offset "1.5": an integer is needed.`},
	} {
		resp, body := get(t, srv.URL+"/_/api/tables/product?"+tc.query.Encode(), nil)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "%v: %s", tc.query, body)
		var e struct {
			ErrorMsg string `json:"error_msg"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &e), body)
		assert.Contains(t, e.ErrorMsg, tc.says, "%v", tc.query)
	}

	// The data API answers the same where, limit or offset with the same
	// message: one implementation.
	for _, q := range []url.Values{
		{"where": {`{"price":{"$nope":1}}`}},
		{"limit": {"-1"}},
		{"limit": {"1001"}},
		{"limit": {"ten"}},
		{"offset": {"-1"}},
	} {
		bad := q.Encode()
		_, fromDash := get(t, srv.URL+"/_/api/tables/product?"+bad, nil)
		resp, fromData := get(t, srv.URL+"/hserve/v2.4/table/product/record/?"+bad, map[string]string{"X-Hydrogen-Client-ID": srv.ClientID})
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, bad)
		assert.JSONEq(t, fromData, fromDash, bad)
	}

	// limit=0 is the data API's too: no records, the count of them all.
	page := browse(t, srv, "product", url.Values{"limit": {"0"}})
	assert.Empty(t, page.Objects)
	assert.Equal(t, 2, page.Total)

	resp, body := get(t, srv.URL+"/_/api/tables/nothing", nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Contains(t, body, `Table \"nothing\" does not exist`)
	resp, _ = get(t, srv.URL+"/_/api/tables/product/000000000000000000000000", nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

// One record, indented, with its numbers as stored.
func TestDashboardShowsARecord(t *testing.T) {
	t.Parallel()
	srv, _ := setup(t)
	recs, err := srv.Table("product").Insert(map[string]any{"name": "big", "n": json.Number("9007199254740993")})
	require.NoError(t, err)
	id := fmt.Sprint(recs[0]["id"])
	resp, body := get(t, srv.URL+"/_/api/tables/product/"+id, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Contains(t, body, "\n  \"name\": \"big\"", "indented for reading")
	assert.Contains(t, body, `"n": 9007199254740993`, "exact, not rounded to a float")
	assert.Contains(t, body, `"id": "`+id+`"`)
}

// The tables' endpoints are the dashboard's: this machine only, no CORS.
func TestDashboardTablesAreForThisMachineOnly(t *testing.T) {
	t.Parallel()
	srv, _ := setup(t)
	recs := seedProducts(t, srv, 1)
	port := srv.URL[strings.LastIndex(srv.URL, ":"):]
	for _, path := range []string{"/_/api/envs", "/_/api/tables", "/_/api/tables/product", "/_/api/tables/product/" + fmt.Sprint(recs[0]["id"])} {
		resp, body := get(t, srv.URL+path, map[string]string{"Host": "evil.example" + port})
		assert.Equal(t, http.StatusForbidden, resp.StatusCode, path)
		assert.Contains(t, body, "served to this machine only", path)
		assert.NotContains(t, body, "p00", path)
		resp, _ = get(t, srv.URL+path, map[string]string{"Origin": "https://evil.example"})
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
		assert.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"), path)
	}
}

// The dashboard reads as the super-admin, as functions do: a row no Web
// API caller may read is shown. ?env=ID reads an environment's tables
// once a call has named it; one never named is 404, and not made.
func TestDashboardTablesAsAdminAndPerEnvironment(t *testing.T) {
	t.Parallel()
	srv, _ := setup(t)
	_, err := srv.Table("secret").Insert(map[string]any{"name": "hidden", "read_perm": []string{"user:7"}})
	require.NoError(t, err)
	code, body := webAs(t, srv, "", "", "GET", "/hserve/v2.4/table/secret/record/", "")
	require.Equal(t, http.StatusOK, code, body)
	assert.Contains(t, body, `"objects":[]`, "an anonymous Web API caller sees nothing")
	assert.Equal(t, []string{"hidden"}, browse(t, srv, "secret", nil).names())

	_, body = get(t, srv.URL+"/_/api/envs", nil)
	assert.JSONEq(t, `[]`, body)
	code, body = webAs(t, srv, "", "staging", "POST", "/hserve/v2.4/table/product/record/", `{"name":"in-staging"}`)
	require.Equal(t, http.StatusCreated, code, body)
	_, body = get(t, srv.URL+"/_/api/envs", nil)
	assert.JSONEq(t, `["staging"]`, body)

	_, body = get(t, srv.URL+"/_/api/tables?env=staging", nil)
	assert.Contains(t, body, `"name":"product","count":1`)
	_, body = get(t, srv.URL+"/_/api/tables", nil)
	assert.NotContains(t, body, `"product"`, "the default tables are another database")
	assert.Equal(t, []string{"in-staging"}, browse(t, srv, "product", url.Values{"env": {"staging"}}).names())
	resp, _ := get(t, srv.URL+"/_/api/tables/product", nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)

	resp, body = get(t, srv.URL+"/_/api/tables?env=never", nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Contains(t, body, `Environment \"never\" has no tables`)
	_, body = get(t, srv.URL+"/_/api/envs", nil)
	assert.JSONEq(t, `["staging"]`, body, "reading did not make it")
}
