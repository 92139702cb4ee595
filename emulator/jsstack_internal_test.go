package emulator

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mincloud-go/baas/emulator/bundle"
	"github.com/mincloud-go/baas/emulator/internal/noderun"
)

// A stack mapper needs nothing of the bundle once made: its bytes are
// wiped here, and stacks and load errors are still mapped. (A mapper
// that kept the bundle to read its map later would find nothing.)
func TestStackMapperKeepsNothingOfTheBundle(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	src := "export const main = async () => {\n  throw new TypeError('boom')\n}\n"
	require.NoError(t, os.WriteFile(filepath.Join(root, "boom.ts"), []byte(src), 0o600))
	b, err := bundle.Build(root, "boom", filepath.Join(root, "boom.ts"))
	require.NoError(t, err)
	require.True(t, b.Bundled)
	code := string(b.Code)
	line, col := 0, 0
	for i, l := range strings.Split(code, "\n") {
		if c := strings.Index(l, "throw new TypeError"); c >= 0 {
			line, col = i+1, c+1
			break
		}
	}
	require.NotZero(t, line, "no throw in the bundle:\n%s", code)

	const file = "/tmp/run/boom.js"
	m := newStackMapper(file, "boom.ts", root, b.Code)
	clear(b.Code)

	stack := fmt.Sprintf("TypeError: boom\n    at main (%s:%d:%d)", file, line, col)
	assert.Equal(t, "TypeError: boom\n    at main ("+filepath.Join(root, "boom.ts")+":2:3)", m.text(stack))
	e := &noderun.ErrorInfo{Type: "TypeError", Message: fmt.Sprintf("boom (boom.ts:%d)", line), Stack: stack}
	m.failure(e)
	assert.Equal(t, "boom (boom.ts:2)", e.Message, "a load error's place")
	assert.Equal(t, "log line without a place", m.text("log line without a place"))
}
