package emulator_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mincloud-go/baas/internal/nodetest"
)

// A function's BaaS.TableObject, Query and TableRecord reach the
// emulator's own tables: the JavaScript SDK inside the Node worker and the
// SQLite-backed data API meet end to end.
func TestDataRoundTripFromAFunction(t *testing.T) {
	nodetest.Need(t)
	srv, c := setup(t)
	_, err := srv.LoadDir("testdata/datafunctions")
	require.NoError(t, err)
	assert.JSONEq(t, `{"code":0,"data":{"created":201,"createdName":"apple","createdMany":2,"cheap":["apple","pear"],"cheapTotal":2,"afterUpdate":{"price":13,"tags":["fruit","red"]},"orCount":2,"bulkUpdated":2,"deleted":1,"left":[["apple",1],["plum",1]],"near":["apple"],"deletedById":204,"finalCount":1,"notFound":404,"badArgument":605},"error":{}}`,
		call(t, c, "dataRoundTrip", map[string]any{}))

	// What the function wrote, seen from Go.
	n, err := srv.Table("e2e_product").Count("")
	require.NoError(t, err)
	assert.Equal(t, 1, n)
}

// The example's table function counts views per product: the second call
// sees the first call's write.
func TestDataExampleCounterKeepsItsCount(t *testing.T) {
	nodetest.Need(t)
	srv, c := setup(t)
	_, err := srv.LoadDir("../examples/js/functions")
	require.NoError(t, err)
	for _, n := range []int{1, 2} {
		assert.JSONEq(t, fmt.Sprintf(`{"code":0,"data":{"name":"pen","views":%d},"error":{}}`, n),
			call(t, c, "productCounter", map[string]any{"name": "pen"}))
	}
}
