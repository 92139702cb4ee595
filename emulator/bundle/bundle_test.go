package bundle

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func write(t *testing.T, path, text string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
}

// project writes a functions folder under a project whose node_modules
// sits one folder above it, as npm leaves it; it returns the functions
// folder.
func project(t *testing.T, base string) string {
	write(t, filepath.Join(base, "node_modules", "pad", "package.json"), `{"name":"pad","main":"lib/pad.js"}`)
	write(t, filepath.Join(base, "node_modules", "pad", "lib", "pad.js"), "module.exports = (s, n) => String(s).padStart(n, '*')\n")
	root := filepath.Join(base, "functions")
	write(t, filepath.Join(root, "boom", "index.ts"), `import pad from 'pad'
import { twice } from './twice'
import * as fs from 'fs'

interface Event { data: { n: number } }

export async function main(event: Event): Promise<string> {
  if (event.data.n < 0) throw new Error('negative: ' + fs.constants.F_OK)
  return pad(twice(event.data.n), 5)
}
`)
	write(t, filepath.Join(root, "boom", "twice.ts"), "export const twice = (n: number): number => n * 2\n")
	write(t, filepath.Join(root, "plain.js"), "exports.main = (e, cb) => cb(null, require('os').EOL)\n")
	return root
}

func TestBuildBundlesTypeScriptRelativeFilesAndPackagesFromAbove(t *testing.T) {
	t.Parallel()
	root := project(t, t.TempDir())
	b, err := Build(root, "boom", filepath.Join(root, "boom", "index.ts"))
	require.NoError(t, err)
	assert.True(t, b.Bundled)
	assert.Equal(t, []string{
		filepath.Join(root, "boom", "index.ts"),
		filepath.Join(root, "boom", "twice.ts"),
		filepath.Join(filepath.Dir(root), "node_modules", "pad", "lib", "pad.js"),
	}, b.Inputs, "the metafile's inputs: the package found a folder above, and the relative file")
	code := string(b.Code)
	assert.Contains(t, code, `padStart`, "the package is in the bundle")
	assert.NotContains(t, code, `require("pad")`)
	assert.Contains(t, code, `require("fs")`, "Node's built-ins stay external")
	assert.NotContains(t, code, "interface", "TypeScript types are stripped")
	assert.Contains(t, code, "module.exports = __toCommonJS", "CommonJS, as the platform requires it")
	assert.Contains(t, code, "\n//# sourceMappingURL=data:application/json;base64,")

	sm, err := ParseInline(b.Code)
	require.NoError(t, err)
	clear(b.Code) // the map keeps nothing of the bundle: lookups below still work
	assert.ElementsMatch(t, []string{SourceScheme + "../node_modules/pad/lib/pad.js", SourceScheme + "boom/index.ts", SourceScheme + "boom/twice.ts"}, sm.Sources,
		"sources are relative to the functions folder, under our scheme")
	// The throw is at 8:25 of index.ts; find where the bundle has it.
	lines := strings.Split(code, "\n")
	for i, l := range lines {
		if c := strings.Index(l, "throw new Error"); c >= 0 {
			p, ok := sm.Lookup(i+1, c+1)
			require.True(t, ok)
			assert.Equal(t, Position{Source: "boom/index.ts", Line: 8, Column: 25}, p)
			return
		}
	}
	t.Fatal("no throw in the bundle")
}

func TestBuildIsTheSameWhereverTheFolderIs(t *testing.T) {
	t.Parallel()
	a, b := project(t, t.TempDir()), project(t, filepath.Join(t.TempDir(), "elsewhere", "deeper"))
	x, err := Build(a, "boom", filepath.Join(a, "boom", "index.ts"))
	require.NoError(t, err)
	y, err := Build(b, "boom", filepath.Join(b, "boom", "index.ts"))
	require.NoError(t, err)
	assert.True(t, bytes.Equal(x.Code, y.Code), "a bundle names no absolute path: serve, deploy and build agree on any machine")
}

func TestBuildLeavesAPlainFunctionAsItIs(t *testing.T) {
	t.Parallel()
	root := project(t, t.TempDir())
	b, err := Build(root, "plain", filepath.Join(root, "plain.js"))
	require.NoError(t, err)
	assert.False(t, b.Bundled)
	own, err := os.ReadFile(filepath.Join(root, "plain.js"))
	require.NoError(t, err)
	assert.Equal(t, own, b.Code)
	assert.Equal(t, []string{filepath.Join(root, "plain.js")}, b.Inputs)

	// An ES module, even with nothing to bundle, is bundled: Node 12
	// cannot require it as it is.
	write(t, filepath.Join(root, "esm.js"), "export const main = async () => 1\n")
	b, err = Build(root, "esm", filepath.Join(root, "esm.js"))
	require.NoError(t, err)
	assert.True(t, b.Bundled)
}

func TestBuildFailuresSayWhatAndWhere(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	write(t, filepath.Join(root, "missing.ts"), "import x from 'not-installed'\nexport const main = async () => x\n")
	write(t, filepath.Join(root, "broken.js"), "exports.main = async () => {\n  return 'x'))\n}\n")
	write(t, filepath.Join(root, "rel.js"), "const y = require('./nope')\nexports.main = async () => y\n")

	_, err := Build(root, "missing", filepath.Join(root, "missing.ts"))
	var be *Error
	require.True(t, errors.As(err, &be), "%v", err)
	require.Len(t, be.Messages, 1)
	assert.Equal(t, `missing.ts:1:15: Could not resolve "not-installed": install it where Node finds it from the function's folder (npm install in that folder or a folder above)`, be.Messages[0])
	assert.True(t, strings.HasPrefix(err.Error(), "function missing cannot be bundled: missing.ts:1:15: "), err.Error())

	_, err = Build(root, "broken", filepath.Join(root, "broken.js"))
	require.True(t, errors.As(err, &be), "%v", err)
	assert.Equal(t, []string{`broken.js:2:13: Expected ";" but found ")"`}, be.Messages)

	_, err = Build(root, "rel", filepath.Join(root, "rel.js"))
	require.True(t, errors.As(err, &be), "%v", err)
	assert.Equal(t, []string{`rel.js:1:19: Could not resolve "./nope"`}, be.Messages, "no npm hint for a relative file")
}

func TestSourceMapRejectsGarbage(t *testing.T) {
	t.Parallel()
	_, err := ParseInline([]byte("exports.main = 1\n"))
	require.Error(t, err)
	_, err = ParseInline([]byte("x\n//# sourceMappingURL=data:application/json;base64,!!!\n"))
	require.Error(t, err)
	_, err = decodeMappings("AAAA,C;;ZZZZZZZZ", 1)
	require.Error(t, err, "a source index past the sources")
	// Mappings are decoded on the first lookup: malformed ones fail every
	// lookup, never panic.
	bad := `{"version":3,"sources":["mincloud:///a.ts"],"mappings":"AAAA,C;;ZZZZZZZZ"}`
	sm, err := ParseInline([]byte("x\n//# sourceMappingURL=data:application/json;base64," + base64.StdEncoding.EncodeToString([]byte(bad)) + "\n"))
	require.NoError(t, err)
	for _, line := range []int{1, 3} {
		_, ok := sm.Lookup(line, 1)
		assert.False(t, ok, "line %d", line)
	}
	m, err := decodeMappings("AAAA,EAAE;;ACCA", 2)
	require.NoError(t, err)
	assert.Equal(t, [][]segment{{{0, 0, 0, 0}, {2, 0, 0, 2}}, nil, {{0, 1, 1, 2}}}, m)
}
