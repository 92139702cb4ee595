package noderun

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests run baas_data.js inside real workers (the bootstrap and its
// hook included) against an httptest server that records every request
// as it arrived on the wire, and answers as the platform's Web API does.

// wireRequest is one request as the fake platform saw it.
type wireRequest struct {
	Method string
	URI    string // path and raw query, exactly as sent
	Body   string
	Header http.Header
}

// platform is a fake /hserve server: it records requests and answers each
// with what the table name in the path asks for.
type platform struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []wireRequest
}

func newPlatform(t *testing.T) *platform {
	p := &platform{}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *platform) take() []wireRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.reqs
	p.reqs = nil
	return r
}

func (p *platform) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	p.mu.Lock()
	p.reqs = append(p.reqs, wireRequest{Method: r.Method, URI: r.RequestURI, Body: string(body), Header: r.Header.Clone()})
	p.mu.Unlock()

	answer := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	path := r.URL.Path
	switch {
	case strings.HasSuffix(path, "/record/gone/"):
		w.WriteHeader(404)
		return
	case strings.Contains(path, "/table/missing/"):
		answer(404, map[string]string{"status": "error", "error_msg": "table missing does not exist"})
		return
	case strings.Contains(path, "/table/broken/"):
		answer(400, map[string]string{"status": "error", "error_msg": "unknown operator $bogus"})
		return
	case strings.Contains(path, "/table/forbidden/"):
		answer(403, map[string]string{"message": "no permission"})
		return
	case strings.Contains(path, "/table/gateway/"):
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(502)
		_, _ = io.WriteString(w, "<html>bad gateway</html>")
		return
	case strings.Contains(path, "/table/nometa/"):
		answer(200, map[string]any{"objects": []any{}})
		return
	case path == "/hserve/v2.2/server/time/":
		answer(200, map[string]string{"time": "2026-12-02T14:00:00.000000+08:00"})
		return
	case strings.HasPrefix(path, "/hserve/v1/bulk-operation/"):
		answer(200, map[string]any{"id": 7, "operation": "delete", "status": "success", "deleted_count": 3})
		return
	}
	isList := strings.HasSuffix(path, "/record/")
	switch {
	case r.Method == "GET" && isList:
		answer(200, map[string]any{
			"meta":    map[string]any{"limit": 20, "offset": 0, "next": nil, "previous": nil, "total_count": 3},
			"objects": []any{map[string]any{"id": "r1", "_id": "r1", "price": 10}},
		})
	case r.Method == "GET":
		answer(200, map[string]any{"id": "abc", "_id": "abc", "price": 10})
	case r.Method == "POST" && strings.HasPrefix(strings.TrimSpace(string(body)), "["):
		answer(201, map[string]any{"succeed": 2, "total_count": 2, "operation_result": []any{
			map[string]any{"success": map[string]any{"id": "n1", "created_at": 1}},
			map[string]any{"success": map[string]any{"id": "n2", "created_at": 1}}}})
	case r.Method == "POST":
		answer(201, map[string]any{"id": "new1", "price": 1})
	case r.Method == "PUT" && isList:
		answer(200, map[string]any{"succeed": 2, "offset": 0, "limit": 20, "next": nil})
	case r.Method == "PUT":
		answer(200, map[string]any{"id": "abc", "n": 9})
	case r.Method == "DELETE" && isList:
		answer(200, map[string]any{"succeed": 3, "offset": 0, "limit": 20, "next": nil})
	case r.Method == "DELETE":
		w.WriteHeader(204)
	default:
		answer(405, map[string]string{"error_msg": "method not allowed"})
	}
}

const testCallerKey = "caller-key-for-tests"

// dataPool is a one-worker pool whose functions reach p.
func dataPool(t *testing.T, p *platform) *Pool {
	return newPool(t, Config{MaxWorkers: 1, Warm: 1, URL: p.srv.URL, ClientID: "client-1",
		CallerHeader: "X-Mincloud-Emulator-Caller", CallerKey: testCallerKey})
}

// runData runs body as an async main with T = new BaaS.TableObject('product')
// and Q = BaaS.Query in scope, and returns its result as JSON (null for
// undefined). A thrown
// error is returned as {thrown: {code, message, isHError}}.
func runData(t *testing.T, pool *Pool, name, body string) string {
	t.Helper()
	return runDataEvent(t, pool, name, body, `{"data":{}}`)
}

// runDataEvent is runData with the job's event.
func runDataEvent(t *testing.T, pool *Pool, name, body, event string) string {
	t.Helper()
	src := `exports.main = async function (event) {
  const T = new BaaS.TableObject('product')
  const Q = BaaS.Query
  try {
    const r = await (async () => {
` + body + `
    })()
    return r === undefined ? null : r // undefined would leave the job running to its deadline
  } catch (e) {
    return { thrown: { code: e.code, message: e.message, isHError: e instanceof BaaS.HError } }
  }
}`
	f := filepath.Join(pool.Dir(), name+".js")
	require.NoError(t, os.WriteFile(f, []byte(src), 0o600))
	res, err := pool.Run(context.Background(), Job{Name: name, Key: name, File: f, Root: f, Display: name + ".js", Event: []byte(event)})
	require.NoError(t, err)
	require.Equal(t, 0, res.Code, "the function failed: %+v", res.Error)
	return string(res.Data)
}

// wire is a request expected on the wire; Body "" means none.
type wire struct{ Method, URI, Body string }

func assertWire(t *testing.T, want []wire, got []wireRequest) {
	t.Helper()
	var have []wire
	for _, r := range got {
		have = append(have, wire{r.Method, r.URI, r.Body})
	}
	assert.Equal(t, want, have)
}

// enc is a where (or any value) encoded for a path template, as the SDK's
// utils.format does with encodeURIComponent.
func enc(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// axios is a GET parameter value as the SDK's web build (axios 0.21)
// encodes it: encodeURIComponent with : $ , [ ] kept and space as +.
func axios(s string) string {
	e := enc(s)
	for _, r := range [][2]string{{"%3A", ":"}, {"%24", "$"}, {"%2C", ","}, {"%20", "+"}, {"%5B", "["}, {"%5D", "]"}} {
		e = strings.ReplaceAll(e, r[0], r[1])
	}
	return e
}

const (
	listPath = "/hserve/v2.4/table/product/record/"
	onePath  = "/hserve/v2.5/table/product/record/"
)

func TestDataWireGoldenVectors(t *testing.T) {
	p := newPlatform(t)
	pool := dataPool(t, p)
	where := `{"$and":[{"price":{"$gt":1}}]}`
	whereN := `{"$and":[{"n":{"$contains":"a"}}]}`
	cases := []struct {
		name string
		js   string
		want []wire
		out  string // the function's result, when it says something
	}{
		{"find", `return (await T.find()).data`,
			[]wire{{"GET", listPath + "?limit=20&offset=0&where=%7B%7D&return_total_count=0", ""}},
			`{"meta":{"limit":20,"next":null,"offset":0,"previous":null,"total_count":3},"objects":[{"_id":"r1","id":"r1","price":10}]}`},
		{"find_everything", `const r = await T.setQuery(new Q().compare('price','>',1)).orderBy(['-created_at','id']).select('-name').expand('ptr').limit(5).find({withCount:true})
			return {status: r.status, statusCode: r.statusCode, n: r.data.objects.length, total: r.data.meta.total_count}`,
			[]wire{{"GET", listPath + "?limit=5&offset=0&order_by=-created_at,id&keys=-name&expand=ptr&where=" + axios(where) + "&return_total_count=1", ""}},
			`{"status":200,"statusCode":200,"n":1,"total":3}`},
		{"count", `return await T.count()`,
			[]wire{{"GET", listPath + "?limit=1&offset=0&where=%7B%7D&return_total_count=1", ""}}, `3`},
		{"get", `return (await T.get('abc')).data.id`,
			[]wire{{"GET", onePath + "abc/", ""}}, `"abc"`},
		{"save_with_geo", `const r = await T.create().set({a:1}).set('g', new BaaS.GeoPoint(1,2)).save(); return [r.status, r.data.id]`,
			[]wire{{"POST", listPath + "?expand=", `{"a":1,"g":{"type":"Point","coordinates":[1,2]}}`}}, `[201,"new1"]`},
		{"create_many_no_trigger", `const r = await T.createMany([{a:1},{a:2}], {enableTrigger:false}); return r.data.succeed`,
			[]wire{{"POST", listPath + "?enable_trigger=0", `[{"a":1},{"a":2}]`}}, `2`},
		{"update_by_id", `await T.getWithoutData('abc').incrementBy('n',-1).unset('old').update()`,
			[]wire{{"PUT", onePath + "abc/?enable_trigger=1&expand=", `{"$set":{"n":{"$incr_by":-1}},"$unset":{"old":""}}`}}, ``},
		{"update_by_query", `const r = await T.limit(10).getWithoutData(new Q().contains('n','a')).set('s','x').update({withCount:true}); return r.data.succeed`,
			[]wire{{"PUT", listPath + "?limit=10&offset=0&where=" + enc(whereN) + "&enable_trigger=1&return_total_count=1", `{"$set":{"s":"x"},"$unset":{}}`}}, `2`},
		// data-api.md §2.2 says a DELETE has no body; the SDK sends {} (its
		// leftover params, JSON-encoded by axios and wx.request alike).
		{"delete_by_query_no_trigger", `await T.delete(new Q().contains('n','a'), {enableTrigger:false})`,
			[]wire{{"DELETE", listPath + "?&offset=0&where=" + enc(whereN) + "&enable_trigger=0&return_total_count=0", "{}"}}, ``},
		{"delete_by_id", `const r = await T.delete('abc'); return [r.status, r.data]`,
			[]wire{{"DELETE", onePath + "abc/", "{}"}}, `[204,""]`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := runData(t, pool, c.name, c.js)
			assertWire(t, c.want, p.take())
			if c.out != "" {
				assert.JSONEq(t, c.out, out)
			}
		})
	}
}

func TestDataRequestsCarryTheCallerHeaderAndClientID(t *testing.T) {
	p := newPlatform(t)
	pool := dataPool(t, p)
	runData(t, pool, "headers", `await T.find(); await T.create().set('a', 1).save()`)
	reqs := p.take()
	require.Len(t, reqs, 2)
	for _, r := range reqs {
		// The emulator serves a request with this header as a function's:
		// super-admin, no row ACLs.
		assert.Equal(t, testCallerKey, r.Header.Get("X-Mincloud-Emulator-Caller"))
		assert.Equal(t, "client-1", r.Header.Get("X-Hydrogen-Client-ID"))
	}
	assert.Empty(t, reqs[0].Header.Get("Content-Type"), "a GET has no body")
	assert.Equal(t, "application/json;charset=utf-8", reqs[1].Header.Get("Content-Type"))
	assert.Empty(t, reqs[0].Header.Get("X-Hydrogen-Env-ID"), "no env in the event")

	// The job's environment goes with its data calls, as with BaaS.invoke.
	runDataEvent(t, pool, "headers_env", `await T.count()`, `{"data":{},"env":{"id":"env-7"}}`)
	reqs = p.take()
	require.Len(t, reqs, 1)
	assert.Equal(t, "env-7", reqs[0].Header.Get("X-Hydrogen-Env-ID"))
}

// The where JSON of one query built in the function, decoded from the find
// request it sends.
func sentWhere(t *testing.T, pool *Pool, p *platform, name, build string) string {
	t.Helper()
	runData(t, pool, name, `const q = new Q(); `+build+`; await T.setQuery(q).find()`)
	reqs := p.take()
	require.Len(t, reqs, 1)
	u, err := url.ParseRequestURI(reqs[0].URI)
	require.NoError(t, err)
	return u.Query().Get("where")
}

func TestDataQueryOperators(t *testing.T) {
	p := newPlatform(t)
	pool := dataPool(t, p)
	cases := []struct{ name, build, want string }{
		{"eq", `q.compare('a','=','x')`, `{"$and":[{"a":{"$eq":"x"}}]}`},
		{"ne", `q.compare('a','!=',1)`, `{"$and":[{"a":{"$ne":1}}]}`},
		{"lt_lte_gt_gte", `q.compare('a','<',1).compare('a','<=',2).compare('a','>',3).compare('a','>=',4)`,
			`{"$and":[{"a":{"$lt":1}},{"a":{"$lte":2}},{"a":{"$gt":3}},{"a":{"$gte":4}}]}`},
		{"eq_null", `q.compare('a','=',null)`, `{"$and":[{"a":{"$eq":null}}]}`},
		{"eq_record_is_its_id", `q.compare('ptr','=', T.getWithoutData(69147880))`, `{"$and":[{"ptr":{"$eq":"69147880"}}]}`},
		{"eq_new_record_is_empty_id", `q.compare('ptr','=', T.create())`, `{"$and":[{"ptr":{"$eq":""}}]}`},
		{"contains", `q.contains('n','a')`, `{"$and":[{"n":{"$contains":"a"}}]}`},
		{"matches_flags", `q.matches('name', /^foo/i)`, `{"$and":[{"name":{"$regex":"^foo","$options":"i"}}]}`},
		{"matches_no_flags_keeps_escapes", `q.matches('p', /a\/b/)`, `{"$and":[{"p":{"$regex":"a\\/b"}}]}`},
		{"matches_empty", `q.matches('p', new RegExp(''))`, `{"$and":[{"p":{"$regex":"(?:)"}}]}`},
		{"in_maps_records", `q.in('ptr', ['x', T.getWithoutData('r9'), 3])`, `{"$and":[{"ptr":{"$in":["x","r9",3]}}]}`},
		{"notIn", `q.notIn('a', [1,2])`, `{"$and":[{"a":{"$nin":[1,2]}}]}`},
		{"arrayContains", `q.arrayContains('tags', ['a','b'])`, `{"$and":[{"tags":{"$all":["a","b"]}}]}`},
		{"isNull_list", `q.isNull(['a','b'])`, `{"$and":[{"a":{"$isnull":true}},{"b":{"$isnull":true}}]}`},
		{"isNotNull", `q.isNotNull('a')`, `{"$and":[{"a":{"$isnull":false}}]}`},
		{"exists", `q.exists(['a'])`, `{"$and":[{"a":{"$exists":true}}]}`},
		{"notExists", `q.notExists('a')`, `{"$and":[{"a":{"$exists":false}}]}`},
		{"hasKey", `q.hasKey('obj','k')`, `{"$and":[{"obj":{"$has_key":"k"}}]}`},
		{"include", `q.include('area', new BaaS.GeoPoint(1,2))`, `{"$and":[{"area":{"$intersects":{"type":"Point","coordinates":[1,2]}}}]}`},
		{"within", `q.within('loc', new BaaS.GeoPolygon([[0,0],[0,1],new BaaS.GeoPoint(1,1),[0,0]]))`,
			`{"$and":[{"loc":{"$within":{"type":"Polygon","coordinates":[[[0,0],[0,1],[1,1],[0,0]]]}}}]}`},
		{"withinCircle", `q.withinCircle('loc', new BaaS.GeoPoint(1,2), 3)`, `{"$and":[{"loc":{"$center":{"radius":3,"coordinates":[1,2]}}}]}`},
		{"withinRegion", `q.withinRegion('loc', new BaaS.GeoPoint(1,2), 500)`,
			`{"$and":[{"loc":{"$nearsphere":{"geometry":{"type":"Point","coordinates":[1,2]},"min_distance":0,"max_distance":500}}}]}`},
		{"withinRegion_min_no_max", `q.withinRegion('loc', new BaaS.GeoPoint(1,2), 0, 10)`,
			`{"$and":[{"loc":{"$nearsphere":{"geometry":{"type":"Point","coordinates":[1,2]},"min_distance":10}}}]}`},
		{"or", `const q1 = new Q().contains('n','a'), q2 = new Q().isNull('p'); q.queryObject = Q.or(q1, q2).queryObject`,
			`{"$or":[{"$and":[{"n":{"$contains":"a"}}]},{"$and":[{"p":{"$isnull":true}}]}]}`},
		{"nested_and_or", `const a = new Q().compare('x','=',1), b = new Q().compare('y','=',2), c = new Q().isNull('z')
			q.queryObject = Q.and(Q.or(a, Q.and(b, Q.or(c, new Q()))), a).queryObject`,
			`{"$and":[{"$or":[{"$and":[{"x":{"$eq":1}}]},{"$and":[{"$and":[{"y":{"$eq":2}}]},{"$or":[{"$and":[{"z":{"$isnull":true}}]},{}]}]}]},{"$and":[{"x":{"$eq":1}}]}]}`},
		// A condition added to an or-query sits beside it, as in the SDK.
		{"condition_after_or", `const o = Q.or(new Q().compare('x','=',1)); o.compare('y','=',2); q.queryObject = o.queryObject`,
			`{"$or":[{"$and":[{"x":{"$eq":1}}]}],"$and":[{"y":{"$eq":2}}]}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.JSONEq(t, c.want, sentWhere(t, pool, p, c.name, c.build))
		})
	}
}

func TestDataSetQueryCopiesAndBuilderResetsAfterEachCall(t *testing.T) {
	p := newPlatform(t)
	pool := dataPool(t, p)
	runData(t, pool, "reset", `
		const q = new Q().compare('a','=',1)
		T.setQuery(q).limit(3).offset(6).select(['a','b']).expand(['p1','p2']).orderBy('-a')
		q.compare('b','=',2) // after setQuery: not in the request
		await T.find()
		await T.find() // the builder was reset
		await T.expand('p').select('a').get('r1') // get sends expand, then keys
		await T.get('r1')
		await T.offset(2).getWithoutData(new Q()).set('a', 1).update({enableTrigger:false}) // no limit
		await T.delete(7) // an integer id
		await T.getWithoutData(0).set('a', 1).update({expand: ['p', 'q']}) // 0 is an id
		await T.create().set('a', 1).save({expand: 'p'})`)
	where := `{"$and":[{"a":{"$eq":1}}]}`
	assertWire(t, []wire{
		{"GET", listPath + "?limit=3&offset=6&order_by=-a&keys=a,b&expand=p1,p2&where=" + axios(where) + "&return_total_count=0", ""},
		{"GET", listPath + "?limit=20&offset=0&where=%7B%7D&return_total_count=0", ""},
		{"GET", onePath + "r1/?expand=p&keys=a", ""},
		{"GET", onePath + "r1/", ""},
		{"PUT", listPath + "?&offset=2&where=%7B%7D&enable_trigger=0&return_total_count=0", `{"$set":{"a":1},"$unset":{}}`},
		{"DELETE", onePath + "7/", "{}"},
		{"PUT", onePath + "0/?enable_trigger=1&expand=p%2Cq", `{"$set":{"a":1},"$unset":{}}`},
		{"POST", listPath + "?expand=p", `{"a":1}`},
	}, p.take())
}

func TestDataTableRecordOperations(t *testing.T) {
	p := newPlatform(t)
	pool := dataPool(t, p)
	cases := []struct{ name, build, body string }{
		{"set_pair", `r.set('a', 'x').set('b', 2)`, `{"$set":{"a":"x","b":2},"$unset":{}}`},
		{"set_object_replaces", `r.incrementBy('n', 1).set({a: 1, g: new BaaS.GeoPoint(3,4), ptr: T.getWithoutData('p1'), arr: [new BaaS.GeoPoint(5,6), 'x']})`,
			`{"$set":{"a":1,"g":{"type":"Point","coordinates":[3,4]},"ptr":"p1","arr":[{"type":"Point","coordinates":[5,6]},"x"]},"$unset":{}}`},
		{"set_date_is_iso", `r.set('d', new Date(Date.UTC(2026, 0, 2, 3, 4, 5)))`, `{"$set":{"d":"2026-01-02T03:04:05.000Z"},"$unset":{}}`},
		{"unset_string_and_object", `r.unset('a').unset({b: 1, c: 2})`, `{"$set":{},"$unset":{"b":"","c":""}}`},
		{"incrementBy", `r.incrementBy('n', 2.5)`, `{"$set":{"n":{"$incr_by":2.5}},"$unset":{}}`},
		{"append_scalar", `r.append('tags', 'x')`, `{"$set":{"tags":{"$append":["x"]}},"$unset":{}}`},
		{"append_geo", `r.append('locs', [new BaaS.GeoPoint(1,2)])`, `{"$set":{"locs":{"$append":[{"type":"Point","coordinates":[1,2]}]}},"$unset":{}}`},
		{"uAppend", `r.uAppend('tags', ['x','y'])`, `{"$set":{"tags":{"$append_unique":["x","y"]}},"$unset":{}}`},
		{"remove", `r.remove('tags', 'x')`, `{"$set":{"tags":{"$remove":["x"]}},"$unset":{}}`},
		{"patchObject", `r.patchObject('obj', {a: 1, b: {c: 2}})`, `{"$set":{"obj":{"$update":{"a":1,"b":{"c":2}}}},"$unset":{}}`},
		{"pop", `r.pop('tags')`, `{"$set":{"tags":{"$pop":1}},"$unset":{}}`},
		{"shift", `r.shift('tags')`, `{"$set":{"tags":{"$pop":-1}},"$unset":{}}`},
		{"last_call_per_field_wins", `r.set('tags', ['a']).append('tags', 'b').remove('tags', 'c')`, `{"$set":{"tags":{"$remove":["c"]}},"$unset":{}}`},
		// unset then incrementBy puts the field in both maps, as in the SDK.
		{"unset_then_increment", `r.unset('n').incrementBy('n', 1)`, `{"$set":{"n":{"$incr_by":1}},"$unset":{"n":""}}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			runData(t, pool, c.name, `const r = T.getWithoutData('abc'); `+c.build+`; await r.update()`)
			assertWire(t, []wire{{"PUT", onePath + "abc/?enable_trigger=1&expand=", c.body}}, p.take())
		})
	}
	t.Run("save_sends_set_only_and_state_resets", func(t *testing.T) {
		runData(t, pool, "save_twice", `const r = T.create(); r.set('a', 1).unset('b'); const obj = {k: 1}; r.set('o', obj)
			const pending = r.save(); obj.k = 2; await pending; await r.save()`)
		assertWire(t, []wire{
			{"POST", listPath + "?expand=", `{"a":1,"o":{"k":1}}`},
			{"POST", listPath + "?expand=", `{}`},
		}, p.take())
	})
}

func TestDataResultsAndServerCalls(t *testing.T) {
	p := newPlatform(t)
	pool := dataPool(t, p)
	out := runData(t, pool, "server_calls", `
		const time = (await BaaS.getServerDate()).data.time
		const job = (await BaaS.getAsyncJobResult(7)).data
		const bulk = (await T.delete(new Q().compare('a','=',1), {withCount: true})).data
		return {time, job: job.status, bulk: bulk.succeed}`)
	assert.JSONEq(t, `{"time":"2026-12-02T14:00:00.000000+08:00","job":"success","bulk":3}`, out)
	where := `{"$and":[{"a":{"$eq":1}}]}`
	assertWire(t, []wire{
		{"GET", "/hserve/v2.2/server/time/", ""},
		{"GET", "/hserve/v1/bulk-operation/7/", ""},
		{"DELETE", listPath + "?limit=20&offset=0&where=" + enc(where) + "&enable_trigger=1&return_total_count=1", "{}"},
	}, p.take())
}

// Bad arguments throw HError 605 before anything is sent.
func TestDataBadArgumentsThrow605AndSendNothing(t *testing.T) {
	p := newPlatform(t)
	pool := dataPool(t, p)
	cases := []struct{ name, js, mentions string }{
		{"table_without_name", `new BaaS.TableObject()`, "table name or id"},
		{"table_blank_name", `new BaaS.TableObject('  ')`, "table name or id"},
		{"setQuery_not_query", `T.setQuery({a: 1})`, "BaaS.Query"},
		{"limit_not_integer", `T.limit('5')`, "limit needs an integer"},
		{"limit_fraction", `T.limit(1.5)`, "limit needs an integer"},
		{"offset_not_integer", `T.offset(null)`, "offset needs an integer"},
		{"createMany_not_array", `await T.createMany({a: 1})`, "createMany needs an array"},
		{"createMany_bad_item", `await T.createMany([{a: 1}, null])`, "item 1"},
		{"get_without_id", `await T.get()`, "get needs a record id"},
		{"delete_blank_id", `await T.delete('')`, "delete needs a record id or a BaaS.Query"},
		{"delete_object", `await T.delete({a: 1})`, "delete needs a record id or a BaaS.Query"},
		{"getWithoutData_blank", `T.getWithoutData(' ')`, "getWithoutData needs"},
		{"getWithoutData_float", `T.getWithoutData(1.5)`, "getWithoutData needs"},
		{"update_new_record", `await T.create().set('a', 1).update()`, "getWithoutData(id)"},
		{"update_after_bulk_update_reset", `const r = T.getWithoutData(new Q()); r.set('a', 1); await r.update(); await r.update()`, "getWithoutData(id)"},
		{"compare_bad_operator", `new Q().compare('a', '==', 1)`, "compare operator"},
		{"compare_no_value", `new Q().compare('a', '=')`, "needs a value"},
		{"compare_no_field", `new Q().compare(undefined, '=', 1)`, "field name"},
		{"contains_empty", `new Q().contains('a', '')`, "contains needs a non-empty string"},
		{"contains_number", `new Q().contains('a', 1)`, "contains needs a non-empty string"},
		{"matches_string", `new Q().matches('a', '^x')`, "matches needs a RegExp"},
		{"in_not_array", `new Q().in('a', 1)`, "in needs an array"},
		{"notIn_not_array", `new Q().notIn('a', 'x')`, "notIn needs an array"},
		{"arrayContains_not_array", `new Q().arrayContains('a', 'x')`, "arrayContains needs an array"},
		{"isNull_bad_field_in_list", `new Q().isNull(['a', 3])`, "field name"},
		{"hasKey_not_string", `new Q().hasKey('obj', 1)`, "hasKey needs two strings"},
		{"include_not_point", `new Q().include('a', [1, 2])`, "BaaS.GeoPoint"},
		{"within_not_polygon", `new Q().within('a', new BaaS.GeoPoint(1, 2))`, "BaaS.GeoPolygon"},
		{"withinCircle_not_point", `new Q().withinCircle('a', {}, 1)`, "BaaS.GeoPoint"},
		{"withinRegion_not_point", `new Q().withinRegion('a', null, 1)`, "BaaS.GeoPoint"},
		{"or_not_query", `Q.or(new Q(), {})`, "argument 2"},
		{"polygon_too_few", `new BaaS.GeoPolygon([[0,0],[1,1],[0,0]])`, "at least 4 points"},
		{"polygon_not_array", `new BaaS.GeoPolygon('x')`, "array of points"},
		{"polygon_bad_point", `new Q().within('a', new BaaS.GeoPolygon([[0,0],[1],[1,1],[0,0]]))`, "point 1"},
		{"set_unset_field", `T.create().unset('a').set('a', 1)`, "already unset"},
		{"set_object_unset_field", `T.create().unset('a').set({a: 1})`, "already unset"},
		{"unset_set_field", `T.create().set('a', 1).unset('a')`, "already set"},
		{"unset_object_set_field", `T.create().incrementBy('a', 1).unset({a: ''})`, "already set"},
		{"set_no_args", `T.create().set()`, "set takes"},
		{"set_three_args", `T.create().set('a', 1, 2)`, "set takes"},
		{"set_number", `T.create().set(5)`, "set(object)"},
		{"unset_number", `T.create().unset(5)`, "unset needs"},
		{"incrementBy_string", `T.create().incrementBy('n', '1')`, "needs a number"},
		{"patchObject_array", `T.create().patchObject('o', [1])`, "plain object"},
		{"pop_empty_key", `T.create().pop('')`, "field name"},
		{"shift_not_string", `T.create().shift(1)`, "field name"},
		{"append_no_key", `T.create().append(null, 1)`, "field name"},
		{"getAsyncJobResult_no_id", `await BaaS.getAsyncJobResult()`, "operation id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := runData(t, pool, c.name, c.js+`; return 'no error'`)
			var got struct {
				Thrown struct {
					Code     int    `json:"code"`
					Message  string `json:"message"`
					IsHError bool   `json:"isHError"`
				} `json:"thrown"`
			}
			require.NoError(t, json.Unmarshal([]byte(out), &got), out)
			assert.Equal(t, 605, got.Thrown.Code, out)
			assert.True(t, got.Thrown.IsHError, out)
			assert.True(t, strings.HasPrefix(got.Thrown.Message, "605: incorrect parameter type: "), got.Thrown.Message)
			assert.Contains(t, got.Thrown.Message, c.mentions)
			if c.name == "update_after_bulk_update_reset" {
				assert.Len(t, p.take(), 1, "only the first update is sent")
			} else {
				assert.Empty(t, p.take(), "nothing is sent")
			}
		})
	}
}

// Answers outside 2xx reject with the SDK's HError: code = status,
// message "<status>: <text>".
func TestDataErrorAnswersBecomeHErrors(t *testing.T) {
	p := newPlatform(t)
	pool := dataPool(t, p)
	cases := []struct {
		name, js string
		code     int
		message  string
	}{
		// The SDK's "not found", then the emulator's reason (the SDK drops it).
		{"404_is_not_found_with_reason", `await new BaaS.TableObject('missing').find()`, 404, "404: not found: table missing does not exist"},
		{"404_without_body", `await new BaaS.TableObject('product').get('gone')`, 404, "404: not found"},
		{"400_error_msg", `await new BaaS.TableObject('broken').create().set('a', 1).save()`, 400, "400: unknown operator $bogus"},
		{"403_message", `await new BaaS.TableObject('forbidden').delete('x')`, 403, "403: no permission"},
		{"502_html_quoted", `await new BaaS.TableObject('gateway').get('x')`, 502, "502: unexpected answer from the emulator: <html>bad gateway</html>"},
		{"count_without_total", `await new BaaS.TableObject('nometa').count()`, 500, "500: count: the emulator's answer has no meta.total_count: {\"objects\":[]}"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := runData(t, pool, c.name, c.js+`; return 'no error'`)
			want, _ := json.Marshal(map[string]any{"thrown": map[string]any{"code": c.code, "message": c.message, "isHError": true}})
			assert.JSONEq(t, string(want), out)
			assert.Len(t, p.take(), 1)
		})
	}
}

func TestDataUnreachableEmulatorIs600(t *testing.T) {
	p := newPlatform(t)
	pool := dataPool(t, p)
	p.srv.Close() // nothing listens there any more
	out := runData(t, pool, "down", `await T.find(); return 'no error'`)
	var got struct {
		Thrown struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"thrown"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	assert.Equal(t, 600, got.Thrown.Code)
	assert.True(t, strings.HasPrefix(got.Thrown.Message, "600: network disconnected: "), got.Thrown.Message)
}

// The rest of BaaS is still the emulator's 611, naming the API; the
// platform-only TableObject calls too.
func TestDataOtherAPIsStay611(t *testing.T) {
	p := newPlatform(t)
	pool := dataPool(t, p)
	for name, js := range map[string]string{
		"user":      `new BaaS.User()`,
		"file":      `BaaS.File.upload()`,
		"subscribe": `T.subscribe('create', {})`,
		"export":    `T.exportData('csv', 'all')`,
	} {
		out := runData(t, pool, "unsupported_"+name, js+`; return 'no error'`)
		assert.Contains(t, out, `"code":611`, js)
		assert.Contains(t, out, "not provided by the emulator", js)
	}
	assert.Empty(t, p.take())
}

// A function cannot reach the requests by replacing globals or Node's
// http.request: the module kept its own before any function ran.
func TestDataRequestsIgnoreAFunctionsPatches(t *testing.T) {
	p := newPlatform(t)
	pool := dataPool(t, p)
	out := runData(t, pool, "patched", `
		const http = require('http')
		let seen = null
		const orig = http.request
		http.request = function (...args) { seen = JSON.stringify(args[1] && args[1].headers); return orig.apply(this, args) }
		const origStringify = JSON.stringify
		JSON.stringify = () => '"patched"'
		try { await T.create().set('a', 1).save() } finally { http.request = orig; JSON.stringify = origStringify }
		return seen === null ? 'unseen' : 'seen'`)
	assert.Equal(t, `"unseen"`, out)
	assertWire(t, []wire{{"POST", listPath + "?expand=", `{"a":1}`}}, p.take())
}

// An HError's stack points at the function's own line, not at this
// module or Node's stream code, both for a 605 thrown at once and for an
// answer that rejects later.
func TestDataHErrorStacksPointAtTheFunction(t *testing.T) {
	p := newPlatform(t)
	pool := dataPool(t, p)
	out := runData(t, pool, "stacks", `
		const stacks = []
		try { T.limit('x') } catch (e) { stacks.push(e.stack) }
		try { await new BaaS.TableObject('missing').find() } catch (e) { stacks.push(e.stack) }
		try { await new BaaS.TableObject('nometa').count() } catch (e) { stacks.push(e.stack) }
		return stacks`)
	var stacks []string
	require.NoError(t, json.Unmarshal([]byte(out), &stacks))
	require.Len(t, stacks, 3)
	for i, want := range []string{"HError: 605: incorrect parameter type: limit needs an integer", "HError: 404: not found: table missing does not exist", "HError: 500: count:"} {
		assert.True(t, strings.HasPrefix(stacks[i], want), stacks[i])
		assert.Contains(t, stacks[i], "stacks.js:", "the function's own frame")
		assert.NotContains(t, stacks[i], "baas_data.js")
	}
}
