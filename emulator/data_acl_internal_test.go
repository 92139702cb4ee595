package emulator

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// callData sends a data request as a function's BaaS does (the caller
// key: the super-admin) when asFunction, else as the official SDK with no
// login; env is X-Hydrogen-Env-ID ("" for none).
func callData(t *testing.T, s *Server, asFunction bool, env, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	if asFunction {
		req.Header.Set(callerHeader, s.callerKey)
	} else {
		req.Header.Set("X-Hydrogen-Client-ID", s.ClientID)
	}
	if env != "" {
		req.Header.Set("X-Hydrogen-Env-ID", env)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Functions run as the super-admin: row ACLs do not apply to them (as on
// the platform), though they do to the same request from the SDK.
func TestDataACLFunctionsAreSuperAdmin(t *testing.T) {
	t.Parallel()
	s := New()
	t.Cleanup(s.Close)
	_, err := s.Table("vault").Insert(map[string]any{"id": "v1", "n": 1, "read_perm": []string{"user:5"}, "write_perm": []string{"user:5"}})
	require.NoError(t, err)

	st, body := callData(t, s, false, "", "GET", "/hserve/v2.4/table/vault/record/?where=%7B%7D&return_total_count=1", "")
	require.Equal(t, 200, st, body)
	assert.Contains(t, body, `"total_count":0`)
	st, _ = callData(t, s, false, "", "PUT", "/hserve/v2.5/table/vault/record/v1/?expand=", `{"$set":{"n":2}}`)
	assert.Equal(t, 404, st)

	st, body = callData(t, s, true, "", "GET", "/hserve/v2.4/table/vault/record/?where=%7B%7D&return_total_count=1", "")
	require.Equal(t, 200, st, body)
	assert.Contains(t, body, `"total_count":1`)
	st, body = callData(t, s, true, "", "PUT", "/hserve/v2.5/table/vault/record/v1/?expand=", `{"$set":{"n":2}}`)
	require.Equal(t, 200, st, body)
	assert.Contains(t, body, `"n":2`)
	st, _ = callData(t, s, true, "", "DELETE", "/hserve/v2.5/table/vault/record/v1/", "")
	assert.Equal(t, 204, st)
}

// An async bulk operation's result is read from its own environment only.
func TestDataBulkJobOfItsEnv(t *testing.T) {
	t.Parallel()
	s := New()
	t.Cleanup(s.Close)
	items := make([]string, 1001) // past 1000 matches, without triggers: async (§2.5)
	for i := range items {
		items[i] = fmt.Sprintf(`{"n":%d}`, i)
	}
	for _, chunk := range [][]string{items[:1000], items[1000:]} {
		st, body := callData(t, s, true, "envA", "POST", "/hserve/v2.4/table/big/record/?enable_trigger=0", "["+strings.Join(chunk, ",")+"]")
		require.Equal(t, 201, st, body)
	}
	st, body := callData(t, s, true, "envA", "DELETE", "/hserve/v2.4/table/big/record/?&offset=0&where=%7B%7D&enable_trigger=0&return_total_count=0", "")
	require.Equal(t, 200, st, body)
	var ack struct {
		OperationID int64 `json:"operation_id"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &ack), body)
	require.NotZero(t, ack.OperationID, body)
	job := fmt.Sprintf("/hserve/v1/bulk-operation/%d/", ack.OperationID)
	st, body = callData(t, s, true, "envA", "GET", job, "")
	require.Equal(t, 200, st, body)
	assert.Contains(t, body, `"deleted_count":1001`)
	st, _ = callData(t, s, true, "envB", "GET", job, "")
	assert.Equal(t, 404, st)
	st, _ = callData(t, s, true, "", "GET", job, "")
	assert.Equal(t, 404, st)
}
