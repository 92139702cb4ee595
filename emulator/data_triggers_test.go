package emulator_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mincloud-go/baas/emulator"
	"github.com/mincloud-go/baas/function"
)

// TestTableTriggers: a function configured as a table's trigger runs,
// async, for each change, with the change as its data; enable_trigger=0
// fires none.
func TestTableTriggers(t *testing.T) {
	t.Parallel()
	srv := emulator.New(
		emulator.WithTableTrigger("order", "onOrder"),
		emulator.WithTableTrigger("order", "onOrderDelete", "delete"),
	)
	t.Cleanup(srv.Close)
	type seen struct {
		fn, eventType, schema string
		data                  map[string]any
	}
	var mu sync.Mutex
	var got []seen
	record := func(fn string) function.Handler {
		return func(ctx context.Context, ev *function.Event) (any, error) {
			var d map[string]any
			assert.NoError(t, json.Unmarshal(ev.Data, &d))
			mu.Lock()
			got = append(got, seen{fn, ev.EventType, ev.FlexSchemaName, d})
			mu.Unlock()
			return nil, nil
		}
	}
	srv.Register("onOrder", record("onOrder"))
	srv.Register("onOrderDelete", record("onOrderDelete"))
	wait := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(t, srv.Wait(ctx))
	}

	st, body := web(t, srv, "POST", "/hserve/v2.4/table/order/record/?expand=", `{"n":1}`)
	require.Equal(t, 201, st, body)
	id := decodeMap(t, body)["id"].(string)
	wait()
	st, body = web(t, srv, "PUT", "/hserve/v2.5/table/order/record/"+id+"/?enable_trigger=1&expand=", `{"$set":{"n":{"$incr_by":1}},"$unset":{}}`)
	require.Equal(t, 200, st, body)
	wait()
	// Not with enable_trigger=0.
	st, body = web(t, srv, "POST", "/hserve/v2.4/table/order/record/?enable_trigger=0", `[{"n":5}]`)
	require.Equal(t, 201, st, body)
	st, body = web(t, srv, "PUT", "/hserve/v2.5/table/order/record/"+id+"/?enable_trigger=0&expand=", `{"n":3}`)
	require.Equal(t, 200, st, body)
	wait()
	st, _ = web(t, srv, "DELETE", "/hserve/v2.5/table/order/record/"+id+"/", "")
	require.Equal(t, 204, st)
	wait()

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, got, 4, "%+v", got)
	assert.Equal(t, "onOrder", got[0].fn)
	assert.Equal(t, emulator.SourceTrigger, got[0].eventType)
	assert.Equal(t, "order", got[0].schema)
	assert.Equal(t, "on_create", got[0].data["event"])
	assert.Equal(t, "order", got[0].data["schema_name"])
	assert.Equal(t, id, got[0].data["id"])
	assert.Empty(t, got[0].data["before"])
	assert.EqualValues(t, 1, got[0].data["after"].(map[string]any)["n"])

	assert.Equal(t, "on_update", got[1].data["event"])
	assert.EqualValues(t, 1, got[1].data["before"].(map[string]any)["n"])
	assert.EqualValues(t, 2, got[1].data["after"].(map[string]any)["n"])

	// The delete fires both triggers (both async: either may run first).
	fns := map[string]bool{got[2].fn: true, got[3].fn: true}
	assert.True(t, fns["onOrder"] && fns["onOrderDelete"], "%+v", got[2:])
	for _, g := range got[2:] {
		assert.Equal(t, "on_delete", g.data["event"])
		assert.EqualValues(t, 3, g.data["before"].(map[string]any)["n"], "the record as it was when deleted")
		assert.Empty(t, g.data["after"])
	}
}
