package fnroot

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestListAndFindAgreeOnTheLayout(t *testing.T) {
	root := t.TempDir()
	for _, f := range []string{"a.js", "b/index.js", "both.js", "both/index.js", "lib/util.js", ".hidden.js", "node_modules/x/index.js", "notes.txt",
		"t.ts", "tsdir/index.ts", "mixed.ts", "mixed.js", "types.d.ts"} {
		p := filepath.Join(root, f)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte("exports.main = () => {}"), 0o644))
	}
	got, err := List(root)
	require.NoError(t, err)
	assert.Equal(t, []Function{
		{Name: "a", File: filepath.Join(root, "a.js")},
		{Name: "b", File: filepath.Join(root, "b", "index.js"), Dir: true},
		{Name: "both", File: filepath.Join(root, "both", "index.js"), Dir: true},
		{Name: "mixed", File: filepath.Join(root, "mixed.ts")},
		{Name: "t", File: filepath.Join(root, "t.ts")},
		{Name: "tsdir", File: filepath.Join(root, "tsdir", "index.ts"), Dir: true},
	}, got, "index.js wins, .ts wins over .js; folders without an index, dot files, declarations and node_modules are not functions")

	f, ok, err := Find(root, "both")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, filepath.Join(root, "both", "index.js"), f.File)
	_, ok, err = Find(root, "lib")
	require.NoError(t, err)
	assert.False(t, ok)
}
