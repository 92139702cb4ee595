package emulator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mincloud-go/baas/emulator"
	"github.com/mincloud-go/baas/function"
)

// webUser issues a user token for id, as a login would.
func webUser(srv *emulator.Server, id int64) string {
	return srv.IssueUserToken(function.User{ID: id})
}

// webAs sends a Web API request as the official JS SDK does: the client
// id, the user token when there is one (Authorization: Hydrogen-r1), and
// X-Hydrogen-Env-ID when env is not "".
func webAs(t *testing.T, srv *emulator.Server, token, env, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("X-Hydrogen-Client-ID", srv.ClientID)
	req.Header.Set("X-Hydrogen-Client-Platform", "WEB")
	if token != "" {
		req.Header.Set("Authorization", "Hydrogen-r1 "+token)
	}
	if env != "" {
		req.Header.Set("X-Hydrogen-Env-ID", env)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// openAPIEnv is openAPI with X-Hydrogen-Env-ID, as faas-cli sends it.
func openAPIEnv(t *testing.T, srv *emulator.Server, token, env, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	if env != "" {
		req.Header.Set("X-Hydrogen-Env-ID", env)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// page is a find's answer.
type page struct {
	Meta struct {
		TotalCount *int    `json:"total_count"`
		Next       *string `json:"next"`
	} `json:"meta"`
	Objects []map[string]any `json:"objects"`
}

func decodePage(t *testing.T, st int, body string) page {
	t.Helper()
	require.Equal(t, 200, st, body)
	var p page
	require.NoError(t, json.Unmarshal([]byte(body), &p), body)
	return p
}

func ids(p page) []string {
	var out []string
	for _, o := range p.Objects {
		out = append(out, o["id"].(string))
	}
	return out
}

const aclSchema = `[
 {"name":"post","row_read_perm":["user:anonymous"],"row_write_perm":["user:{created_by}"],"write_perm":["user:*"],
  "schema":{"fields":[{"name":"text","type":"string"},{"name":"n","type":"integer"}]}},
 {"name":"secret","row_read_perm":["user:{created_by}"],"row_write_perm":["user:{created_by}"],"write_perm":["user:anonymous"],
  "schema":{"fields":[{"name":"text","type":"string"},{"name":"n","type":"integer"}]}},
 {"name":"link","row_read_perm":["user:anonymous"],"row_write_perm":["user:anonymous"],"write_perm":["user:anonymous"],
  "schema":{"fields":[{"name":"target","type":"reference","schema_name":"secret"}]}},
 {"name":"closed","row_read_perm":["user:*"],"row_write_perm":["user:*"],"write_perm":[],
  "schema":{"fields":[{"name":"text","type":"string"}]}}
]`

func aclServer(t *testing.T, opts ...emulator.Option) *emulator.Server {
	t.Helper()
	path := filepath.Join(t.TempDir(), "schema.json")
	require.NoError(t, os.WriteFile(path, []byte(aclSchema), 0o600))
	srv := emulator.New(append([]emulator.Option{emulator.WithSchemaFile(path)}, opts...)...)
	t.Cleanup(srv.Close)
	return srv
}

// TestDataACLTableWritePerm: the table's write_perm (数据表录入权限)
// decides who creates records; a refused create is 403, as the platform's
// "没有权限写入数据"; "user:{created_by}" in the row defaults becomes the
// creator.
func TestDataACLTableWritePerm(t *testing.T) {
	t.Parallel()
	srv := aclServer(t)
	alice := webUser(srv, 7)

	// post: write_perm user:* — users, not the anonymous caller.
	st, body := webAs(t, srv, "", "", "POST", "/hserve/v2.4/table/post/record/?expand=", `{"text":"hi"}`)
	assert.Equal(t, 403, st, body)
	assertPlatformError(t, body, "write_perm")
	st, body = webAs(t, srv, "", "", "POST", "/hserve/v2.4/table/post/record/?enable_trigger=1", `[{"text":"hi"}]`)
	assert.Equal(t, 403, st, "createMany is refused whole: %s", body)
	st, body = webAs(t, srv, alice, "", "POST", "/hserve/v2.4/table/post/record/?expand=", `{"text":"hi"}`)
	require.Equal(t, 201, st, body)
	rec := decodeMap(t, body)
	assert.Equal(t, []any{"user:anonymous"}, rec["read_perm"])
	assert.Equal(t, []any{"user:7"}, rec["write_perm"], "the template names the creator")
	assert.EqualValues(t, 7, rec["created_by"])

	// secret: write_perm user:anonymous — the anonymous caller too.
	st, body = webAs(t, srv, "", "", "POST", "/hserve/v2.4/table/secret/record/?expand=", `{"text":"anon"}`)
	require.Equal(t, 201, st, body)
	rec = decodeMap(t, body)
	assert.Equal(t, []any{}, rec["write_perm"], "an anonymous creator is nobody to name: only the admin writes it")

	// closed: write_perm [] — nobody on the Web API; the Open API and Go
	// (the super-admin) still write.
	st, _ = webAs(t, srv, alice, "", "POST", "/hserve/v2.4/table/closed/record/?expand=", `{"text":"x"}`)
	assert.Equal(t, 403, st)
	st, body = openAPIEnv(t, srv, accessToken(t, srv), "", "POST", "/oserve/v2.4/table/closed/record/", `{"text":"x"}`)
	assert.Equal(t, 201, st, body)
	_, err := srv.Table("closed").Insert(map[string]any{"text": "y"})
	require.NoError(t, err)

	// Explicit ACLs in the body are kept (§5: settable on create).
	st, body = webAs(t, srv, alice, "", "POST", "/hserve/v2.4/table/post/record/?expand=",
		`{"text":"mine","read_perm":["user:7"],"write_perm":["user:7","gid:3"]}`)
	require.Equal(t, 201, st, body)
	rec = decodeMap(t, body)
	assert.Equal(t, []any{"user:7"}, rec["read_perm"])
	assert.Equal(t, []any{"user:7", "gid:3"}, rec["write_perm"])
}

// TestDataACLFind: a Web API find sees only the rows whose read_perm
// admits the caller — filtered out (not 403), and counted and paged
// among the visible rows only; the Open API and Go see every row.
func TestDataACLFind(t *testing.T) {
	t.Parallel()
	srv := aclServer(t, emulator.WithUserGroups(9, 5))
	alice, bob, carol := webUser(srv, 7), webUser(srv, 8), webUser(srv, 9)
	mk := func(tok, text string) string {
		st, body := webAs(t, srv, tok, "", "POST", "/hserve/v2.4/table/secret/record/?expand=", fmt.Sprintf(`{"text":%q}`, text))
		require.Equal(t, 201, st, body)
		return decodeMap(t, body)["id"].(string)
	}
	a1, a2, a3 := mk(alice, "a1"), mk(alice, "a2"), mk(alice, "a3")
	b1, b2 := mk(bob, "b1"), mk(bob, "b2")
	seeded, err := srv.Table("secret").Insert(
		map[string]any{"id": "forgroup5", "text": "g", "read_perm": []string{"gid:5"}},
		map[string]any{"id": "forusers", "text": "u", "read_perm": []string{"user:*"}},
		map[string]any{"id": "forall", "text": "all", "read_perm": []string{"user:anonymous"}},
	)
	require.NoError(t, err)
	require.Len(t, seeded, 3)

	find := func(tok, query string) page {
		st, body := webAs(t, srv, tok, "", "GET", "/hserve/v2.4/table/secret/record/?"+query, "")
		return decodePage(t, st, body)
	}
	all := "limit=20&offset=0&where=%7B%7D&return_total_count=1"
	p := find(bob, all)
	assert.ElementsMatch(t, []string{b1, b2, "forusers", "forall"}, ids(p))
	require.NotNil(t, p.Meta.TotalCount)
	assert.Equal(t, 4, *p.Meta.TotalCount, "the count is of the rows the caller may read")
	p = find(alice, all)
	assert.ElementsMatch(t, []string{a1, a2, a3, "forusers", "forall"}, ids(p))
	p = find(carol, all)
	assert.ElementsMatch(t, []string{"forgroup5", "forusers", "forall"}, ids(p), "gid:5 admits group 5's members")
	p = find("", all)
	assert.ElementsMatch(t, []string{"forall"}, ids(p), "an anonymous caller: user:anonymous rows only")
	assert.Equal(t, 1, *p.Meta.TotalCount)

	// Paging runs among the visible rows: bob's 4 in pages of 3.
	p = find(bob, "limit=3&offset=0&where=%7B%7D&return_total_count=1")
	assert.Len(t, p.Objects, 3)
	assert.NotNil(t, p.Meta.Next)
	p2 := find(bob, "limit=3&offset=3&where=%7B%7D&return_total_count=1")
	assert.Len(t, p2.Objects, 1)
	assert.Nil(t, p2.Meta.Next)
	assert.ElementsMatch(t, []string{b1, b2, "forusers", "forall"}, append(ids(p), ids(p2)...))
	// With a where, the ACL and the where both hold.
	p = find(bob, "where="+enc(`{"text":{"$in":["a1","b1","all"]}}`)+"&return_total_count=1")
	assert.ElementsMatch(t, []string{b1, "forall"}, ids(p))
	// count() is find with limit=1 and the count.
	p = find(alice, "limit=1&offset=0&where=%7B%7D&return_total_count=1")
	assert.Equal(t, 5, *p.Meta.TotalCount)

	// expand shows a target only to whom may read it; to others it stays
	// a bare pointer.
	_, err = srv.Table("link").Insert(map[string]any{"id": "l1", "target": a1})
	require.NoError(t, err)
	expanded := func(tok string) map[string]any {
		st, body := webAs(t, srv, tok, "", "GET", "/hserve/v2.4/table/link/record/?where=%7B%7D&expand=target", "")
		p := decodePage(t, st, body)
		require.Len(t, p.Objects, 1)
		return p.Objects[0]["target"].(map[string]any)
	}
	assert.Equal(t, "a1", expanded(alice)["text"])
	assert.Equal(t, map[string]any{"id": a1, "_table": "secret"}, expanded(bob))

	// get of a row the caller may not read: 404, as the platform's
	// "权限不足" case of 404.
	st, body := webAs(t, srv, bob, "", "GET", "/hserve/v2.5/table/secret/record/"+a1+"/", "")
	assert.Equal(t, 404, st, body)
	st, body = webAs(t, srv, alice, "", "GET", "/hserve/v2.5/table/secret/record/"+a1+"/", "")
	assert.Equal(t, 200, st, body)

	// The super-admin: the Open API and Go see all 8.
	st, body = openAPIEnv(t, srv, accessToken(t, srv), "", "GET", "/oserve/v2.4/table/secret/record/?limit=100&return_total_count=1", "")
	p = decodePage(t, st, body)
	assert.Equal(t, 8, *p.Meta.TotalCount)
	n, err := srv.Table("secret").Count("")
	require.NoError(t, err)
	assert.Equal(t, 8, n)
}

// TestDataACLWrites: updating or deleting a row the caller may read but
// not write is 403 and changes nothing; one it may not read is 404; a
// bulk write touches only the rows the caller may write, and its
// total_count still counts every match (§2.4: "包括无权限操作记录").
func TestDataACLWrites(t *testing.T) {
	t.Parallel()
	srv := aclServer(t, emulator.WithUserGroups(9, 3))
	alice, bob, carol := webUser(srv, 7), webUser(srv, 8), webUser(srv, 9)
	mk := func(tok, table, body string) string {
		st, b := webAs(t, srv, tok, "", "POST", "/hserve/v2.4/table/"+table+"/record/?expand=", body)
		require.Equal(t, 201, st, b)
		return decodeMap(t, b)["id"].(string)
	}
	post := mk(alice, "post", `{"text":"alice's","n":1}`) // read: anyone, write: alice
	rec := "/hserve/v2.5/table/post/record/" + post + "/"

	st, body := webAs(t, srv, bob, "", "PUT", rec+"?enable_trigger=1&expand=", `{"$set":{"text":"bob was here"}}`)
	assert.Equal(t, 403, st, body)
	assertPlatformError(t, body, "write_perm")
	st, body = webAs(t, srv, "", "", "DELETE", rec, "")
	assert.Equal(t, 403, st, body)
	st, body = webAs(t, srv, bob, "", "DELETE", rec, "")
	assert.Equal(t, 403, st, body)
	got, err := srv.Table("post").Get(post)
	require.NoError(t, err)
	assert.Equal(t, "alice's", got["text"], "a refused write changes nothing")

	st, body = webAs(t, srv, alice, "", "PUT", rec+"?enable_trigger=1&expand=", `{"$set":{"n":{"$incr_by":1}}}`)
	require.Equal(t, 200, st, body)
	assert.EqualValues(t, 2, decodeMap(t, body)["n"])

	// A row shared with group 3 for writing: carol (in it) may.
	shared := mk(alice, "post", `{"text":"shared","write_perm":["user:7","gid:3"]}`)
	st, body = webAs(t, srv, carol, "", "PUT", "/hserve/v2.5/table/post/record/"+shared+"/?expand=", `{"$set":{"text":"carol's edit"}}`)
	assert.Equal(t, 200, st, body)

	// A row the caller may not even read: 404 for update and delete.
	hidden := mk(alice, "secret", `{"text":"hidden"}`)
	st, _ = webAs(t, srv, bob, "", "PUT", "/hserve/v2.5/table/secret/record/"+hidden+"/?expand=", `{"$set":{"text":"x"}}`)
	assert.Equal(t, 404, st)
	st, _ = webAs(t, srv, bob, "", "DELETE", "/hserve/v2.5/table/secret/record/"+hidden+"/", "")
	assert.Equal(t, 404, st)

	// Bulk: 3 of alice's posts, 2 of bob's, one of the admin's.
	for i := 0; i < 2; i++ {
		mk(alice, "post", `{"text":"bulk","n":0}`)
		mk(bob, "post", `{"text":"bulk","n":0}`)
	}
	mk(alice, "post", `{"text":"bulk","n":0}`)
	_, err = srv.Table("post").Insert(map[string]any{"text": "bulk", "n": 0})
	require.NoError(t, err)
	where := enc(`{"text":"bulk"}`)
	st, body = webAs(t, srv, bob, "", "PUT", "/hserve/v2.4/table/post/record/?limit=20&offset=0&where="+where+"&enable_trigger=1&return_total_count=1", `{"$set":{"n":5},"$unset":{}}`)
	require.Equal(t, 200, st, body)
	res := decodeMap(t, body)
	assert.EqualValues(t, 6, res["total_count"], "every match, rows bob may not write included")
	assert.EqualValues(t, 2, res["succeed"], "bob's own two")
	assert.Len(t, res["operation_result"], 2)
	n, err := srv.Table("post").Count(`{"text":"bulk","n":5}`)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	n, err = srv.Table("post").Count(`{"text":"bulk","n":5,"created_by":8}`)
	require.NoError(t, err)
	assert.Equal(t, 2, n, "only bob's rows changed")

	st, body = webAs(t, srv, alice, "", "DELETE", "/hserve/v2.4/table/post/record/?limit=20&offset=0&where="+where+"&enable_trigger=1&return_total_count=1", "")
	require.Equal(t, 200, st, body)
	res = decodeMap(t, body)
	assert.EqualValues(t, 6, res["total_count"])
	assert.EqualValues(t, 3, res["succeed"], "alice's three")
	n, err = srv.Table("post").Count(`{"text":"bulk"}`)
	require.NoError(t, err)
	assert.Equal(t, 3, n, "bob's two and the admin's one are left")

	// The Open API (the super-admin) writes any row.
	st, body = openAPIEnv(t, srv, accessToken(t, srv), "", "PUT", "/oserve/v2.6/table/post/record/"+post+"/", `{"text":"admin"}`)
	assert.Equal(t, 200, st, body)
}

// TestDataEnvIsolation: each X-Hydrogen-Env-ID has its own tables, as
// each environment of the platform has its own data.
func TestDataEnvIsolation(t *testing.T) {
	t.Parallel()
	srv := emulator.New()
	t.Cleanup(srv.Close)
	find := func(env string) page {
		st, body := webAs(t, srv, "", env, "GET", "/hserve/v2.4/table/note/record/?limit=20&offset=0&where=%7B%7D&return_total_count=1", "")
		return decodePage(t, st, body)
	}
	st, body := webAs(t, srv, "", "envA", "POST", "/hserve/v2.4/table/note/record/?expand=", `{"text":"in A"}`)
	require.Equal(t, 201, st, body)
	id := decodeMap(t, body)["id"].(string)

	assert.Equal(t, []string{id}, ids(find("envA")))
	assert.Empty(t, find("envB").Objects, "env B does not see env A's record")
	assert.Empty(t, find("").Objects, "nor do calls without an env")
	n, err := srv.Table("note").Count("")
	require.NoError(t, err)
	assert.Equal(t, 0, n, "srv.Table is the default environment's")
	st, _ = webAs(t, srv, "", "envB", "GET", "/hserve/v2.5/table/note/record/"+id+"/", "")
	assert.Equal(t, 404, st)

	// The Open API picks the env the same way (faas-cli sends the header).
	tok := accessToken(t, srv)
	st, body = openAPIEnv(t, srv, tok, "envA", "GET", "/oserve/v2.4/table/note/record/?return_total_count=1", "")
	assert.Equal(t, 1, *decodePage(t, st, body).Meta.TotalCount)
	st, body = openAPIEnv(t, srv, tok, "envB", "GET", "/oserve/v1.8/table/", "")
	require.Equal(t, 200, st, body)
	assert.NotContains(t, body, `"name":"note"`, "env B has no table note: env A's first write made it in A only")

	// A bad env id, and the cap on environments.
	st, body = webAs(t, srv, "", "a/b", "GET", "/hserve/v2.4/table/note/record/", "")
	assert.Equal(t, 400, st)
	assertPlatformError(t, body, "X-Hydrogen-Env-ID")
	for i := 0; i < emulator.MaxDataEnvs-2; i++ { // envA and envB are open already
		st, body = webAs(t, srv, "", fmt.Sprintf("e%d", i), "GET", "/hserve/v2.4/table/note/record/", "")
		require.Equal(t, 200, st, body)
	}
	st, body = webAs(t, srv, "", "onetoomany", "GET", "/hserve/v2.4/table/note/record/", "")
	assert.Equal(t, 400, st)
	assertPlatformError(t, body, "Too many environments")
	assert.Len(t, find("envA").Objects, 1, "the open environments still answer")
}

// TestDataEnvSchemaAndFile: an environment's tables start from the
// schemas given at start, and with a data file live beside it, kept
// across a restart.
func TestDataEnvSchemaAndFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	schema := filepath.Join(dir, "schema.json")
	require.NoError(t, os.WriteFile(schema, []byte(aclSchema), 0o600))
	file := filepath.Join(dir, "data.db")
	srv := emulator.New(emulator.WithSchemaFile(schema), emulator.WithDataFile(file))
	alice := webUser(srv, 7)
	st, body := webAs(t, srv, alice, "prod", "POST", "/hserve/v2.4/table/nope/record/?expand=", `{"a":1}`)
	assert.Equal(t, 404, st, "the schema holds in the env: %s", body)
	st, body = webAs(t, srv, alice, "prod", "POST", "/hserve/v2.4/table/post/record/?expand=", `{"n":"x"}`)
	assert.Equal(t, 400, st, "types are checked in the env: %s", body)
	st, body = webAs(t, srv, alice, "prod", "POST", "/hserve/v2.4/table/post/record/?expand=", `{"text":"kept"}`)
	require.Equal(t, 201, st, body)
	srv.Close()
	_, err := os.Stat(file + ".env-prod")
	require.NoError(t, err, "the env's tables are in their own file")

	srv = emulator.New(emulator.WithSchemaFile(schema), emulator.WithDataFile(file))
	t.Cleanup(srv.Close)
	st, body = webAs(t, srv, "", "prod", "GET", "/hserve/v2.4/table/post/record/?where=%7B%7D", "")
	p := decodePage(t, st, body)
	require.Len(t, p.Objects, 1)
	assert.Equal(t, "kept", p.Objects[0]["text"])
	st, body = webAs(t, srv, "", "", "GET", "/hserve/v2.4/table/post/record/?where=%7B%7D", "")
	assert.Empty(t, decodePage(t, st, body).Objects)
}

// TestDataEnvTrigger: a change in an environment fires the table's
// trigger with that environment in the event, so the function's own data
// calls reach the same tables.
func TestDataEnvTrigger(t *testing.T) {
	t.Parallel()
	srv := emulator.New(emulator.WithTableTrigger("order", "onOrder"), emulator.WithEnv("envA", "staging"))
	t.Cleanup(srv.Close)
	envs := make(chan *function.Env, 4)
	srv.Register("onOrder", func(ctx context.Context, ev *function.Event) (any, error) {
		envs <- ev.Env
		return nil, nil
	})
	st, body := webAs(t, srv, "", "envA", "POST", "/hserve/v2.4/table/order/record/?expand=", `{"n":1}`)
	require.Equal(t, 201, st, body)
	st, body = webAs(t, srv, "", "", "POST", "/hserve/v2.4/table/order/record/?expand=", `{"n":2}`)
	require.Equal(t, 201, st, body)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, srv.Wait(ctx))
	close(envs)
	var got []string
	for e := range envs {
		if e == nil {
			got = append(got, "<none>")
		} else {
			got = append(got, e.ID+"/"+e.Name)
		}
	}
	assert.ElementsMatch(t, []string{"envA/staging", "<none>"}, got)
}

// TestDataEnvNotOpenedBeforeAuth: a Web API call that fails
// authentication is answered 401 without opening its X-Hydrogen-Env-ID,
// so made-up env ids from unauthenticated callers cannot use up the
// MaxDataEnvs slots.
func TestDataEnvNotOpenedBeforeAuth(t *testing.T) {
	t.Parallel()
	srv := emulator.New()
	t.Cleanup(srv.Close)
	send := func(env string, header map[string]string) int {
		req, err := http.NewRequest("POST", srv.URL+"/hserve/v2.4/table/note/record/", strings.NewReader(`{"text":"x"}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Hydrogen-Env-ID", env)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	for i := 0; i < emulator.MaxDataEnvs+2; i++ {
		assert.Equal(t, 401, send(fmt.Sprintf("noid%d", i), nil), "no client id")
		assert.Equal(t, 401, send(fmt.Sprintf("badid%d", i), map[string]string{"X-Hydrogen-Client-ID": "made-up"}), "a wrong client id")
		assert.Equal(t, 401, send(fmt.Sprintf("badtok%d", i), map[string]string{"X-Hydrogen-Client-ID": srv.ClientID, "Authorization": "Hydrogen-r1 made-up"}), "a wrong token")
	}
	_, body := get(t, srv.URL+"/_/api/envs", nil)
	assert.JSONEq(t, `[]`, body, "no environment was opened")
	st, body := webAs(t, srv, "", "real", "POST", "/hserve/v2.4/table/note/record/", `{"text":"x"}`)
	assert.Equal(t, 201, st, "an authenticated caller still gets a new environment: %s", body)
}
