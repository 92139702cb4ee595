package emulator_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mincloud-go/baas/emulator"
	"github.com/mincloud-go/baas/internal/nodetest"
)

// TestDataConcurrentIncrementsFromJobs: 100 concurrent JavaScript jobs,
// each doing incrementBy('n', 1).update() on one record through the
// function's BaaS global, leave exactly n + 100 (issue 15: every write
// is atomic). The jobs are async calls, so all 100 are queued at once and
// run side by side as far as the machine lets them.
func TestDataConcurrentIncrementsFromJobs(t *testing.T) {
	nodetest.Need(t)
	srv, c := setup(t)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bump.js"), []byte(`exports.main = async function bump (event) {
  const r = await new BaaS.TableObject('counter').getWithoutData(event.data.id).incrementBy('n', 1).update()
  return r.data.n
}
`), 0o600))
	_, err := srv.LoadDir(dir)
	require.NoError(t, err)

	recs, err := srv.Table("counter").Insert(map[string]any{"n": 7})
	require.NoError(t, err)
	id := recs[0]["id"].(string)

	ctx := context.Background()
	for range 100 {
		res, err := c.Invoke(ctx, "bump", map[string]any{"id": id}, false)
		require.NoError(t, err)
		require.True(t, res.IsAck())
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	require.NoError(t, srv.Wait(wctx))

	seen := map[string]bool{}
	for _, j := range srv.Jobs() {
		require.Equal(t, emulator.StatusFulfilled, j.Status, "job %v: %+v", j.ID, j)
		require.NotNil(t, j.Result)
		require.Equal(t, 0, j.Result.Code, "job %v: %+v", j.ID, j.Result)
		seen[string(j.Result.Data)] = true
	}
	rec, err := srv.Table("counter").Get(id)
	require.NoError(t, err)
	assert.Equal(t, json.Number("107"), rec["n"])
	assert.Len(t, seen, 100, "each job saw its own value of n: no two increments read the same one")
}
