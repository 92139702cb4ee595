package emulator

import (
	"context"
	"path/filepath"
	"strings"
	"time"
)

// checkSyntax parses file as Node loads a module, without running it, on
// one of the pool's blank workers (noderun's Check): no Node start of its
// own. failed says it does not parse, out is Node's report. Without Node,
// or when no worker can say in time, the file counts as parsing: its
// calls will tell.
func (s *Server) checkSyntax(file string) (out string, failed bool) {
	p, err := s.nodePool()
	if err != nil {
		return "", false
	}
	ctx, cancel := context.WithTimeout(s.ctx, 20*time.Second)
	defer cancel()
	report, err := p.Check(ctx, file)
	if err != nil {
		return "", false
	}
	return report, report != ""
}

// syntaxProblem asks Node to parse file without running it, so that a
// watcher can say at once that a saved file does not load, instead of at
// the next call. It returns Node's first line of complaint, or "".
func (s *Server) syntaxProblem(file string) string {
	out, failed := s.checkSyntax(file)
	if !failed {
		return ""
	}
	// Node prints "<file>:<line>", the code, a caret, then "SyntaxError: ...".
	var where, what string
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case where == "" && strings.HasPrefix(line, file+":"):
			where = filepath.Base(file) + strings.TrimPrefix(line, file)
		case what == "" && strings.Contains(line, "Error: "):
			what = strings.TrimSpace(line)
		}
	}
	if what == "" {
		return strings.TrimSpace(string(out))
	}
	if where != "" {
		return what + " (" + where + ")"
	}
	return what
}
