package emulator

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mincloud-go/baas"
	"github.com/mincloud-go/baas/internal/nodetest"
	"github.com/mincloud-go/baas/manage"
)

// A function deleted over the Open API takes the code written for it with
// it, bundles of a functions folder included: a long-running emulator
// whose functions come and go keeps no files of the gone ones.
func TestDeletingAFunctionRemovesItsBundles(t *testing.T) {
	t.Parallel()
	nodetest.Need(t)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "util.js"), []byte("module.exports = x => x + 1\n"), 0o644))
	// A relative import: bundled, so its bundle is written for Node.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "inc.ts"), []byte("import inc = require('./util')\nexport const main = async () => inc(1)\n"), 0o644))
	srv := New()
	t.Cleanup(srv.Close)
	_, err := srv.LoadDir(dir)
	require.NoError(t, err)
	srv.js.mu.Lock()
	bundles := append([]string(nil), srv.js.bundles["inc"]...)
	srv.js.mu.Unlock()
	require.NotEmpty(t, bundles, "inc was bundled")
	for _, d := range bundles {
		require.DirExists(t, d)
	}

	c, err := srv.Client(baas.WithClientSecret(srv.ClientSecret))
	require.NoError(t, err)
	require.NoError(t, manage.New(c).Delete(context.Background(), "inc"))
	for _, d := range bundles {
		assert.NoDirExists(t, d, "the deleted function's bundle")
	}
	assert.NotContains(t, srv.Functions(), "inc")
}
