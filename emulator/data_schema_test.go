package emulator_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mincloud-go/baas/emulator"
)

// tableNames lists the tables through the Web API's table list.
func tableNames(t *testing.T, srv *emulator.Server) []string {
	t.Helper()
	st, body := web(t, srv, "GET", "/hserve/v2.0/table/?limit=1000", "")
	require.Equal(t, 200, st, body)
	var page struct {
		Objects []struct{ Name string }
	}
	require.NoError(t, json.Unmarshal([]byte(body), &page), body)
	var names []string
	for _, o := range page.Objects {
		names = append(names, o.Name)
	}
	return names
}

// TestLoadSchemaRollsBack: LoadSchema follows schema-import's order and
// rollback (§8.4): a table that fails, or references that never resolve
// (missing or circular), leave no table made; a name that exists fails
// before any write.
func TestLoadSchemaRollsBack(t *testing.T) {
	t.Parallel()
	const acl = `"row_read_perm":["user:*"],"row_write_perm":["user:*"],"write_perm":["user:*"]`
	cases := map[string]struct{ schema, msg string }{
		"a bad field after a good table": {`[
			{"name":"maker",` + acl + `,"schema":{"fields":[{"name":"title","type":"string"}]}},
			{"name":"product",` + acl + `,"schema":{"fields":[{"name":"maker","type":"reference","schema_name":"maker"},{"name":"price","type":"bogus"}]}}]`,
			"bogus"},
		"circular references": {`[
			{"name":"plain",` + acl + `,"schema":{"fields":[{"name":"x","type":"string"}]}},
			{"name":"a",` + acl + `,"schema":{"fields":[{"name":"b","type":"reference","schema_name":"b"}]}},
			{"name":"b",` + acl + `,"schema":{"fields":[{"name":"a","type":"reference","schema_name":"a"}]}}]`,
			"Tables a, b point to tables that are missing"},
		"a missing target": {`[
			{"name":"plain",` + acl + `,"schema":{"fields":[{"name":"x","type":"string"}]}},
			{"name":"c",` + acl + `,"schema":{"fields":[{"name":"d","type":"reference","schema_name":"nowhere"}]}}]`,
			"Tables c point to tables that are missing"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			srv := emulator.New()
			t.Cleanup(srv.Close)
			err := srv.LoadSchema([]byte(c.schema))
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.msg)
			assert.Empty(t, tableNames(t, srv), "every table made was deleted again")
		})
	}

	// A name that exists stops the whole array before any write.
	srv := emulator.New()
	t.Cleanup(srv.Close)
	require.NoError(t, srv.LoadSchema([]byte(`{"name":"maker",`+acl+`,"schema":{"fields":[{"name":"title","type":"string"}]}}`)))
	err := srv.LoadSchema([]byte(`[{"name":"fresh",` + acl + `,"schema":{"fields":[]}},{"name":"maker",` + acl + `,"schema":{"fields":[]}}]`))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "already exists")
	assert.Equal(t, []string{"maker"}, tableNames(t, srv))
}
