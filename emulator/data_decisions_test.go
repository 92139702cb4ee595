package emulator_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mincloud-go/baas/emulator"
)

// Decisions of the README's "Where the platform is silent" (reference
// §10) that had no test on the wire.

// TestDataBulkLimitsDecided: §10.2 a bulk update without a limit changes
// at most 1000 with triggers on (the Open API's default, not the SDK's 20)
// and links to the next batch; §10.3 with triggers on a limit over 1000 is
// 400 and changes nothing.
func TestDataBulkLimitsDecided(t *testing.T) {
	t.Parallel()
	srv := emulator.New()
	t.Cleanup(srv.Close)
	batch := make([]any, 750)
	for i := range batch {
		batch[i] = map[string]any{"i": i}
	}
	for range 2 {
		_, err := srv.Table("many").Insert(batch...)
		require.NoError(t, err)
	}
	base := "/hserve/v2.4/table/many/record/"
	st, body := web(t, srv, "PUT", base+"?where="+enc(`{}`)+"&limit=1001&enable_trigger=1", `{"$set":{"k":1},"$unset":{}}`)
	assert.Equal(t, 400, st, body)
	n, err := srv.Table("many").Count(`{"k":{"$eq":1}}`)
	require.NoError(t, err)
	assert.Zero(t, n, "a refused bulk update changes nothing")

	st, body = web(t, srv, "PUT", base+"?where="+enc(`{}`)+"&enable_trigger=1&return_total_count=1", `{"$set":{"k":1},"$unset":{}}`)
	require.Equal(t, 200, st, body)
	res := decodeMap(t, body)
	assert.EqualValues(t, 1000, res["succeed"])
	assert.EqualValues(t, 1500, res["total_count"])
	assert.NotNil(t, res["next"], "a next batch is linked")
	n, err = srv.Table("many").Count(`{"k":{"$eq":1}}`)
	require.NoError(t, err)
	assert.Equal(t, 1000, n)
}

// TestDataCreateDecisions: §10.15 update operators in a create act on an
// empty record; §10.28 a create may give its own id, checked like one.
func TestDataCreateDecisions(t *testing.T) {
	t.Parallel()
	srv := emulator.New()
	t.Cleanup(srv.Close)
	base := "/hserve/v2.4/table/made/record/?expand="
	st, body := web(t, srv, "POST", base, `{"id":"mine-1","n":{"$incr_by":2},"arr":{"$append":[1]},"tags":{"$append_unique":["a","a"]}}`)
	require.Equal(t, 201, st, body)
	rec := decodeMap(t, body)
	assert.Equal(t, "mine-1", rec["id"])
	assert.EqualValues(t, 2, rec["n"])
	assert.Equal(t, []any{1.0}, rec["arr"])
	assert.Equal(t, []any{"a"}, rec["tags"])
	st, body = web(t, srv, "POST", base, `{"id":"mine-1"}`)
	assert.Equal(t, 400, st, "the id is taken: %s", body)
	st, body = web(t, srv, "POST", base, `{"id":"not an id"}`)
	assert.Equal(t, 400, st, body)
}

// TestDataExpandDecisions: §10.20 expand is one level deep, and a pointer
// whose record is gone stays {id, _table}.
func TestDataExpandDecisions(t *testing.T) {
	t.Parallel()
	srv := emulator.New()
	t.Cleanup(srv.Close)
	const acl = `"row_read_perm":["user:anonymous"],"row_write_perm":["user:anonymous"],"write_perm":["user:anonymous"]`
	require.NoError(t, srv.LoadSchema([]byte(`[
		{"name":"city",`+acl+`,"schema":{"fields":[{"name":"name","type":"string"}]}},
		{"name":"author",`+acl+`,"schema":{"fields":[{"name":"nick","type":"string"},{"name":"home","type":"reference","schema_name":"city"}]}},
		{"name":"book",`+acl+`,"schema":{"fields":[{"name":"title","type":"string"},{"name":"by","type":"reference","schema_name":"author"}]}}]`)))
	city, err := srv.Table("city").Insert(map[string]any{"id": "c1", "name": "Guangzhou"})
	require.NoError(t, err)
	_, err = srv.Table("author").Insert(map[string]any{"id": "a1", "nick": "ann", "home": city[0]["id"]}, map[string]any{"id": "a2", "nick": "gone"})
	require.NoError(t, err)
	_, err = srv.Table("book").Insert(map[string]any{"id": "b1", "title": "kept", "by": "a1"}, map[string]any{"id": "b2", "title": "orphan", "by": "a2"})
	require.NoError(t, err)
	st, body := web(t, srv, "DELETE", "/hserve/v2.5/table/author/record/a2/", "")
	require.Equal(t, 204, st, body)

	st, body = web(t, srv, "GET", "/hserve/v2.4/table/book/record/?where="+enc(`{}`)+"&expand=by&order_by=id", "")
	require.Equal(t, 200, st, body)
	var page struct {
		Objects []struct {
			ID string
			By map[string]any
		}
	}
	require.NoError(t, json.Unmarshal([]byte(body), &page), body)
	require.Len(t, page.Objects, 2)
	kept, orphan := page.Objects[0].By, page.Objects[1].By
	assert.Equal(t, "ann", kept["nick"], "expanded")
	assert.Equal(t, map[string]any{"id": "c1", "_table": "city"}, kept["home"], "one level deep: the author's own pointer is not expanded")
	assert.Equal(t, map[string]any{"id": "a2", "_table": "author"}, orphan, "a dangling pointer stays {id,_table}")
}

// TestDataMixedOrderDecided: §10.23 any field sorts; mixed values order
// missing and null first, then numbers (booleans as 0 and 1), then
// strings.
func TestDataMixedOrderDecided(t *testing.T) {
	t.Parallel()
	srv := emulator.New()
	t.Cleanup(srv.Close)
	_, err := srv.Table("mixed").Insert(
		map[string]any{"id": "s", "v": "text"},
		map[string]any{"id": "n2", "v": 2},
		map[string]any{"id": "t", "v": true},
		map[string]any{"id": "none"},
		map[string]any{"id": "f", "v": false},
		map[string]any{"id": "null", "v": nil},
		map[string]any{"id": "n05", "v": 0.5},
	)
	require.NoError(t, err)
	st, body := web(t, srv, "GET", "/hserve/v2.4/table/mixed/record/?where="+enc(`{}`)+"&order_by=v,id", "")
	require.Equal(t, 200, st, body)
	var page struct{ Objects []struct{ ID string } }
	require.NoError(t, json.Unmarshal([]byte(body), &page))
	var ids []string
	for _, o := range page.Objects {
		ids = append(ids, o.ID)
	}
	assert.Equal(t, []string{"none", "null", "f", "n05", "t", "n2", "s"}, ids, fmt.Sprint(body))
}
