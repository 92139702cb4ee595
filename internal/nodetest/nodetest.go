// Package nodetest is for tests that need Node.js: they skip when it is
// missing, except under CI, where Node is installed and its absence is a
// failure.
package nodetest

import (
	"os"
	"testing"

	"github.com/mincloud-go/baas/internal/nodebin"
)

// Need returns the path of Node.js, found as the emulator finds it
// (nodebin: MINCLOUD_NODE, else node on PATH). Without it, tb fails when
// the CI variable is set and is skipped otherwise.
func Need(tb testing.TB) string {
	tb.Helper()
	n, err := nodebin.Find("")
	if err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("Node.js is needed and CI is set: %v", err)
		}
		tb.Skipf("Node.js not found (%v); set CI to make this a failure", err)
	}
	return n.Path
}
