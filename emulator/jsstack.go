package emulator

import (
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/mincloud-go/baas/emulator/bundle"
	"github.com/mincloud-go/baas/emulator/internal/noderun"
)

// stackMapper rewrites what a bundled function's failures and log lines
// say about the bundle (file:line:col in the file Node runs) into places
// in the function's own files, through the bundle's source map: a stack
// then names boom.ts:7, not line 2403 of a bundle.
type stackMapper struct {
	file    string            // the bundle as Node runs it
	display string            // the name load errors give the bundle: the entry, relative
	root    string            // the functions folder the map's sources are relative to
	sm      *bundle.SourceMap // nil when the map cannot be read

	once sync.Once
	at   *regexp.Regexp // file:line[:col]
	load *regexp.Regexp // "(display:line)" closing a load error's message
}

// newStackMapper reads the source map of code, the bundle, and keeps of
// it only what mapping needs: the sources' names and the mappings (which
// the map decodes on the first failure, as most bundles never fail). The
// bundle's bytes and the sources' contents in its map are not kept: a
// long-running emulator makes a mapper at every reload of every function.
func newStackMapper(file, display, root string, code []byte) *stackMapper {
	sm, _ := bundle.ParseInline(code) // without a map, stacks stay as they are
	return &stackMapper{file: file, display: display, root: root, sm: sm}
}

// init compiles the patterns on the first failure.
func (m *stackMapper) init() {
	m.once.Do(func() {
		m.at = regexp.MustCompile(regexp.QuoteMeta(m.file) + `:(\d+)(?::(\d+))?`)
		m.load = regexp.MustCompile(`\(` + regexp.QuoteMeta(m.display) + `:(\d+)\)$`)
	})
}

// text maps every place in the bundle that s names.
func (m *stackMapper) text(s string) string {
	if m == nil || m.sm == nil || !strings.Contains(s, m.file) {
		return s
	}
	m.init()
	return m.at.ReplaceAllStringFunc(s, func(at string) string {
		sub := m.at.FindStringSubmatch(at)
		line, _ := strconv.Atoi(sub[1])
		col, _ := strconv.Atoi(sub[2]) // 0 when absent: the line's first mapping
		p, ok := m.sm.Lookup(line, col)
		if !ok {
			return at
		}
		out := filepath.Join(m.root, filepath.FromSlash(p.Source)) + ":" + strconv.Itoa(p.Line)
		if sub[2] != "" {
			out += ":" + strconv.Itoa(p.Column)
		}
		return out
	})
}

// failure maps a failed job's stack, and the "(display:line)" the worker
// ends a load error's message with.
func (m *stackMapper) failure(e *noderun.ErrorInfo) {
	if m == nil || e == nil {
		return
	}
	e.Stack = m.text(e.Stack)
	if m.sm == nil {
		return
	}
	m.init()
	e.Message = m.load.ReplaceAllStringFunc(e.Message, func(at string) string {
		line, _ := strconv.Atoi(m.load.FindStringSubmatch(at)[1])
		if p, ok := m.sm.Lookup(line, 0); ok {
			return "(" + p.Source + ":" + strconv.Itoa(p.Line) + ")"
		}
		return at
	})
}
