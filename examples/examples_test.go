package examples_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/mincloud-go/baas/internal/nodetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestExamplesRun builds every example and checks what it prints against
// the embedded emulator.
func TestExamplesRun(t *testing.T) {
	want := map[string]string{
		"helloworld": `{"code":0,"data":"hello allen","error":{}}` + "\n",
		"chain": "helloWorld said: hello allen\n" +
			"job chain: source sdk, fulfilled\n" +
			"job helloWorld: source cloud_function, fulfilled\n",
		"async": `invoke answered: {"status":"ok"}` + "\n" +
			`job slow (sync=false): fulfilled, result {"code":0,"data":"done","error":{}}` + "\n" +
			"  log: INFO sleeping 200 ms\n" +
			"  log: INFO woke up\n",
		"errors": "fail: function failed with code 1: no such user (Error)\n" +
			`doesNotExist: HError 404, "404: Cloud function \"doesNotExist\" not found."` + "\n" +
			`slow: HError 601, "601: request timeout: \"slow\" did not answer within its 500ms deadline (the sync call limit, WithSyncTimeout)"` + "\n" +
			"slow: the call ran out of time\n",
		"js": `{"code":0,"data":"hello allen","error":{}}` + "\n" +
			`{"code":0,"data":{"name":"pen","views":1},"error":{}}` + "\n" +
			`{"code":0,"data":{"name":"pen","views":2},"error":{}}` + "\n",
	}
	entries, err := os.ReadDir(".")
	require.NoError(t, err)
	var dirs []string
	for _, e := range entries {
		if e.IsDir() && e.Name() != "internal" {
			dirs = append(dirs, e.Name())
			assert.Contains(t, want, e.Name(), "an example without an expected output")
		}
	}

	gobin, err := exec.LookPath("go")
	require.NoError(t, err)
	bin := t.TempDir()
	args := []string{"build", "-o", bin + string(filepath.Separator)}
	for _, d := range dirs {
		args = append(args, "./"+d)
	}
	out, err := exec.Command(gobin, args...).CombinedOutput()
	require.NoError(t, err, "%s", out)

	for _, d := range dirs {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			if d == "js" {
				nodetest.Need(t)
			}
			cmd := exec.Command(filepath.Join(bin, d))
			// The embedded emulator, whatever this machine's environment says.
			cmd.Env = withoutMinCloud(os.Environ())
			out, err := cmd.Output()
			require.NoError(t, err)
			assert.Equal(t, want[d], string(out))
		})
	}
}

func withoutMinCloud(env []string) []string {
	var out []string
	for _, kv := range env {
		if len(kv) < 9 || kv[:9] != "MINCLOUD_" {
			out = append(out, kv)
		}
	}
	return out
}
