package emulator_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tableChange is a "table" event's data as the dashboard reads it.
type tableChange struct {
	Env   string `json:"env"`
	Table string `json:"table"`
	Op    string `json:"op"`
	Count int    `json:"count"`
}

// The dashboard's stream tells of every write to a table, through the
// data API with or without triggers, in bulk and in another environment,
// with the table and how many records changed; a function's own stream
// (logs --follow) gets none of it.
func TestDashboardStreamsTableChanges(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	srv.Register("hello", hello)
	all := openEvents(t, srv, "")
	own := openEvents(t, srv, "?function=hello")
	nextTable := func() tableChange {
		t.Helper()
		return decode[tableChange](t, next(t, all), "table")
	}

	code, body := web(t, srv, "POST", "/hserve/v2.4/table/product/record/", `{"name":"a"}`)
	require.Equal(t, http.StatusCreated, code, body)
	assert.Equal(t, tableChange{Table: "product", Op: "table"}, nextTable(), "made by its first write")
	assert.Equal(t, tableChange{Table: "product", Op: "create", Count: 1}, nextTable())
	id := decodeMap(t, body)["id"].(string)

	code, body = web(t, srv, "POST", "/hserve/v2.4/table/product/record/?enable_trigger=0", `[{"name":"b"},{"name":"c"}]`)
	require.Equal(t, http.StatusCreated, code, body)
	assert.Equal(t, tableChange{Table: "product", Op: "create", Count: 2}, nextTable(), "a write without triggers changes the table all the same")

	code, body = web(t, srv, "PUT", "/hserve/v2.5/table/product/record/"+id+"/", `{"$set":{"name":"a2"}}`)
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, tableChange{Table: "product", Op: "update", Count: 1}, nextTable())

	code, body = web(t, srv, "PUT", "/hserve/v2.4/table/product/record/?limit=10&offset=0&where="+enc(`{"name":{"$in":["b","c","zz"]}}`), `{"$set":{"name":"x"}}`)
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, tableChange{Table: "product", Op: "update", Count: 2}, nextTable(), "a bulk update counts the records it changed")

	code, body = web(t, srv, "DELETE", "/hserve/v2.5/table/product/record/"+id+"/", "")
	require.Equal(t, http.StatusNoContent, code, body)
	assert.Equal(t, tableChange{Table: "product", Op: "delete", Count: 1}, nextTable())

	code, body = webAs(t, srv, "", "staging", "POST", "/hserve/v2.4/table/product/record/", `{"name":"s"}`)
	require.Equal(t, http.StatusCreated, code, body)
	assert.Equal(t, tableChange{Env: "staging", Table: "product", Op: "table"}, nextTable())
	assert.Equal(t, tableChange{Env: "staging", Table: "product", Op: "create", Count: 1}, nextTable())

	// The function's own stream: its job comes first, no table event
	// before it (the hub keeps one order for every stream).
	_, err := c.Invoke(context.Background(), "hello", map[string]any{"name": "x"}, true)
	require.NoError(t, err)
	ev := next(t, own)
	assert.Equal(t, "job", ev.event, "a function's stream carries no table event: %s", ev.data)
}
