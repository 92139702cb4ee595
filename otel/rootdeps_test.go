package otel_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRootModuleGainsNoDependency: the SDK's module, listed alone
// (GOWORK=off go list -m all, as a user's build sees it), holds nothing of
// OpenTelemetry nor of the emulator's dependencies: importing baas never
// pulls them in (issue 17).
func TestRootModuleGainsNoDependency(t *testing.T) {
	gobin, err := exec.LookPath("go")
	require.NoError(t, err, "go test runs with the go command on PATH")
	cmd := exec.Command(gobin, "list", "-m", "all")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly", "GOPROXY=off")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	mods := strings.Fields(string(out))
	require.Equal(t, "github.com/mincloud-go/baas", mods[0], "run at the SDK's root: %s", out)
	for _, forbidden := range []string{"go.opentelemetry.io/", "modernc.org/", "github.com/evanw/esbuild", "github.com/chromedp/", "github.com/mincloud-go/baas/"} {
		for _, m := range mods {
			require.False(t, strings.HasPrefix(m, forbidden), "the SDK's module depends on %s:\n%s", m, out)
		}
	}
}
