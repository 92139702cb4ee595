package manage_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mincloud-go/baas/manage"
)

// Printing a debug result, by pointer or by value, shows all of it, not
// only the embedded Result's code, data and error.
func TestPrintingADebugResultShowsAllOfIt(t *testing.T) {
	t.Parallel()
	const answer = `{"code":0,"data":"hi","error":{},"job_id":42,"execution_time":1.5,` +
		`"billing_time":100,"mem_usage":2048,"log":"2026-01-01T00:00:00.000Z INFO hello\n"}`
	var d manage.DebugResult
	require.NoError(t, json.Unmarshal([]byte(answer), &d))
	for _, printed := range []string{fmt.Sprint(&d), fmt.Sprint(d), fmt.Sprintf("%v", &d), d.String()} {
		for _, want := range []string{`"code":0`, `"data":"hi"`, `"job_id":42`, `"execution_time":1.5`,
			`"billing_time":100`, `"mem_usage":2048`, `INFO hello`} {
			assert.Contains(t, printed, want)
		}
		assert.JSONEq(t, answer, printed)
	}
}
