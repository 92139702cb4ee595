package emulator

import (
	"context"
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
