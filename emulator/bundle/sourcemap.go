package bundle

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"sync"
)

// SourceMap is a bundle's inline source map, kept for lookups: it turns a
// place in the bundle, as a stack names it, into a place in the
// function's own files. It holds the sources' names and the mappings
// only, neither the bundle nor the sources' contents the map carries too,
// and decodes the mappings on the first Lookup: an emulator keeps one per
// bundle it serves, and most bundles never fail. Use it by pointer, as
// ParseInline returns it: it must not be copied once used.
type SourceMap struct {
	Sources []string // as the map names them (SourceScheme + path)

	once     sync.Once
	mappings string      // the encoded mappings, until decoded
	lines    [][]segment // per generated line, by generated column; nil if malformed
}

// segment maps a generated column to a place in a source; all 0-based.
type segment struct {
	genCol, src, line, col int
}

// Position is a place in a source file: Line and Column are 1-based, as
// stacks give them.
type Position struct {
	Source       string // the path relative to the functions folder
	Line, Column int
}

const inlinePrefix = "//# sourceMappingURL=data:application/json;base64,"

// ParseInline reads the inline source map at the end of code, as Build
// writes it. The map refers to nothing of code afterwards. Mappings that
// turn out malformed when first looked up make every Lookup fail.
func ParseInline(code []byte) (*SourceMap, error) {
	i := bytes.LastIndex(code, []byte(inlinePrefix))
	if i < 0 {
		return nil, errors.New("bundle: no inline source map")
	}
	data := bytes.TrimSpace(code[i+len(inlinePrefix):])
	raw := make([]byte, base64.StdEncoding.DecodedLen(len(data)))
	n, err := base64.StdEncoding.Decode(raw, data)
	if err != nil {
		return nil, errors.New("bundle: the inline source map is not base64")
	}
	var m struct {
		Sources  []string `json:"sources"`
		Mappings string   `json:"mappings"`
	}
	if err := json.Unmarshal(raw[:n], &m); err != nil {
		return nil, errors.New("bundle: the inline source map is not JSON")
	}
	return &SourceMap{Sources: m.Sources, mappings: m.Mappings}, nil
}

// Lookup returns where the bundle's line and column (1-based, as in a
// stack) came from.
func (m *SourceMap) Lookup(line, col int) (Position, bool) {
	m.once.Do(func() {
		m.lines, _ = decodeMappings(m.mappings, len(m.Sources))
		m.mappings = ""
	})
	if line < 1 || line > len(m.lines) {
		return Position{}, false
	}
	segs := m.lines[line-1]
	if len(segs) == 0 {
		return Position{}, false
	}
	// The last segment at or before the column; a column before the first
	// (or 0, unknown) takes the line's first.
	i := sort.Search(len(segs), func(i int) bool { return segs[i].genCol > col-1 }) - 1
	if i < 0 {
		i = 0
	}
	s := segs[i]
	return Position{Source: strings.TrimPrefix(m.Sources[s.src], SourceScheme), Line: s.line + 1, Column: s.col + 1}, true
}

var errMappings = errors.New("bundle: the source map's mappings are malformed")

// decodeMappings reads the Base64 VLQ "mappings" of a version 3 source
// map, keeping the segments that name a source.
func decodeMappings(s string, nSources int) ([][]segment, error) {
	var (
		lines                [][]segment
		cur                  []segment
		genCol, src, sl, scl int
	)
	for i := 0; i <= len(s); {
		if i == len(s) || s[i] == ';' {
			lines = append(lines, cur)
			cur, genCol = nil, 0
			i++
			continue
		}
		if s[i] == ',' {
			i++
			continue
		}
		var f [5]int
		n := 0
		for i < len(s) && s[i] != ',' && s[i] != ';' {
			v, next, err := vlq(s, i)
			if err != nil {
				return nil, err
			}
			if n < len(f) {
				f[n] = v
			}
			n, i = n+1, next
		}
		genCol += f[0]
		if n >= 4 {
			src, sl, scl = src+f[1], sl+f[2], scl+f[3]
			if src < 0 || src >= nSources || sl < 0 || scl < 0 {
				return nil, errMappings
			}
			cur = append(cur, segment{genCol: genCol, src: src, line: sl, col: scl})
		}
	}
	return lines, nil
}

// vlq reads one Base64 VLQ number of s at i.
func vlq(s string, i int) (v, next int, err error) {
	shift, result := 0, 0
	for {
		if i >= len(s) || shift > 30 {
			return 0, 0, errMappings
		}
		d := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", s[i])
		if d < 0 {
			return 0, 0, errMappings
		}
		i++
		result += (d & 31) << shift
		shift += 5
		if d&32 == 0 {
			break
		}
	}
	if result&1 == 1 {
		return -(result >> 1), i, nil
	}
	return result >> 1, i, nil
}
