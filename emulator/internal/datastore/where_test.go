package datastore

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

func openMem(t *testing.T) *Store {
	t.Helper()
	s, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustObj(t *testing.T, s string) Doc {
	t.Helper()
	d, err := ParseObject([]byte(s))
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return d
}

// seedFruit makes an undeclared table of five records, named n1…n5.
func seedFruit(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	for _, r := range []string{
		`{"name":"n1","price":1,"tags":["a","b"],"desc":"apple pie","ok":true,"obj":{"k":1,"amount":5},"loc":{"type":"Point","coordinates":[10,10]},"p":null}`,
		`{"name":"n2","price":2.5,"tags":["b","c"],"desc":"Apple","ok":false,"obj":{"j":2},"loc":{"type":"Point","coordinates":[10.001,10]}}`,
		`{"name":"n3","price":3,"tags":["c"],"desc":"banana","ok":true,"loc":{"type":"Point","coordinates":[50,50]},"area":{"type":"Polygon","coordinates":[[[0,0],[0,20],[20,20],[20,0],[0,0]]]}}`,
		`{"name":"n4","price":"4","tags":[],"desc":"apple123"}`,
		`{"name":"n5","price":5,"tags":["a","b","c"],"created_by":69147880}`,
	} {
		if _, err := s.Create(ctx, "fruit", mustObj(t, r), 1); err != nil {
			t.Fatal(err)
		}
	}
}

func names(t *testing.T, s *Store, where string) string {
	t.Helper()
	_, docs, _, err := s.Find(context.Background(), "fruit", Query{Where: []byte(where), Limit: 100})
	if err != nil {
		t.Fatalf("where %s: %v", where, err)
	}
	var out []string
	for _, d := range docs {
		out = append(out, d["name"].(string))
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// TestWhereOperators runs every operator of §3.2 through SQLite.
func TestWhereOperators(t *testing.T) {
	s := openMem(t)
	seedFruit(t, s)
	cases := []struct{ where, want string }{
		{`{}`, "n1,n2,n3,n4,n5"},
		{`{"$and":[{}]}`, "n1,n2,n3,n4,n5"},
		{`{"price":{"$eq":1}}`, "n1"},
		{`{"price":1}`, "n1"},           // a bare value is $eq
		{`{"price":{"$eq":"4"}}`, "n4"}, // types do not mix: "4" is not 4
		{`{"price":{"$ne":1}}`, "n2,n3,n4,n5"},
		{`{"price":{"$gt":2}}`, "n2,n3,n5"},
		{`{"price":{"$gte":3,"$lt":5}}`, "n3"},
		{`{"price":{"$lte":2.5}}`, "n1,n2"},
		{`{"price":{"$in":[1,3,"4"]}}`, "n1,n3,n4"},
		{`{"price":{"$nin":[1,3]}}`, "n2,n4,n5"},
		{`{"tags":{"$in":["a"]}}`, "n1,n5"},   // an array field shares an element
		{`{"tags":{"$nin":["a","c"]}}`, "n4"}, // shares none
		{`{"tags":{"$all":["b","c"]}}`, "n2,n5"},
		{`{"tags":{"$eq":["b","c"]}}`, "n2"}, // exact, ordered (§10.7)
		{`{"tags":{"$eq":["c","b"]}}`, ""},
		{`{"desc":{"$contains":"apple"}}`, "n1,n4"}, // case-sensitive
		{`{"desc":{"$icontains":"APPLE"}}`, "n1,n2,n4"},
		{`{"desc":{"$regex":"^apple"}}`, "n1,n4"},
		{`{"desc":{"$regex":"^apple$","$options":"i"}}`, "n2"},
		{`{"desc":{"$regex":"^APP","$options":"gi"}}`, "n1,n2,n4"}, // g is ignored (§10.9)
		{`{"ok":{"$eq":true}}`, "n1,n3"},
		{`{"ok":false}`, "n2"},
		{`{"ok":{"$eq":1}}`, ""},       // true is not 1
		{`{"ok":{"$gte":1}}`, "n1,n3"}, // but ranges and order count it as 1
		{`{"desc":{"$eq":"[1]"}}`, ""},
		{`{"price":{"$lt":-1}}`, ""},
		{`{"desc":{"$gt":"b"}}`, "n3"},               // strings compare as strings
		{`{"p":{"$isnull":true}}`, "n1,n2,n3,n4,n5"}, // missing counts as null (§10.6)
		{`{"ok":{"$isnull":false}}`, "n1,n2,n3"},
		{`{"p":{"$exists":true}}`, "n1"}, // key presence (§10.5)
		{`{"desc":{"$exists":false}}`, "n5"},
		{`{"obj":{"$has_key":"k"}}`, "n1"},
		{`{"obj":{"$eq":{"j":2}}}`, "n2"},
		{`{"obj.amount":{"$gte":5}}`, "n1"},
		{`{"price":{"$range":[1,3]}}`, "n1,n2"},     // end excluded
		{`{"created_by":{"$eq":"69147880"}}`, "n5"}, // pointer ids compare loosely (§3.4)
		{`{"created_by":{"$in":["69147880",1]}}`, "n1,n2,n3,n4,n5"},
		{`{"area":{"$intersects":{"type":"Point","coordinates":[10,10]}}}`, "n3"},
		{`{"area":{"$intersects":{"type":"Point","coordinates":[30,10]}}}`, ""},
		{`{"loc":{"$within":{"type":"Polygon","coordinates":[[[0,0],[0,20],[20,20],[20,0],[0,0]]]}}}`, "n1,n2"},
		{`{"loc":{"$center":{"radius":1,"coordinates":[10,10]}}}`, "n1,n2"},
		{`{"loc":{"$center":{"radius":0.05,"coordinates":[10,10]}}}`, "n1"},
		{`{"loc":{"$nearsphere":{"geometry":{"type":"Point","coordinates":[10,10]},"min_distance":50,"max_distance":500}}}`, "n2"},
		{`{"$or":[{"$and":[{"price":{"$lt":2}}]},{"$and":[{"name":{"$eq":"n5"}}]}]}`, "n1,n5"},
		// Several keys in one object are ANDed (§10.17).
		{`{"$or":[{"price":1},{"price":3}],"$and":[{"ok":true}]}`, "n1,n3"},
		{`{"$and":[{"$or":[{"$and":[{"$or":[{"name":"n1"},{"name":"n2"}]}]},{"name":"n3"}]},{"price":{"$ne":2.5}}]}`, "n1,n3"},
	}
	for _, c := range cases {
		if got := names(t, s, c.where); got != c.want {
			t.Errorf("where %s: got [%s], want [%s]", c.where, got, c.want)
		}
	}
}

func TestNearsphereSortsNearestFirst(t *testing.T) {
	s := openMem(t)
	seedFruit(t, s)
	_, docs, _, err := s.Find(context.Background(), "fruit", Query{Limit: 10,
		Where: []byte(`{"loc":{"$nearsphere":{"geometry":{"type":"Point","coordinates":[10.002,10]},"min_distance":0}}}`)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range docs {
		got = append(got, d["name"].(string))
	}
	if strings.Join(got, ",") != "n2,n1,n3" {
		t.Fatalf("order %v, want n2,n1,n3", got)
	}
}

// TestWhereErrors: a malformed where is 400 naming what was wrong.
func TestWhereErrors(t *testing.T) {
	s := openMem(t)
	seedFruit(t, s)
	cases := []struct{ where, msg string }{
		{`{"price":{"$gt":1}`, "not JSON"},
		{`[]`, "must be an object"},
		{`{"price":{"$foo":1}}`, "unknown operator $foo"},
		{`{"$nor":[]}`, "unknown operator $nor"},
		{`{"bad-name":1}`, `"bad-name" is not a field name`},
		{`{"$and":{"a":1}}`, "$and needs an array"},
		{`{"price":{"$in":3}}`, "$in needs an array"},
		{`{"desc":{"$contains":""}}`, "$contains needs a non-empty string"},
		{`{"desc":{"$regex":"("}}`, "does not compile"},
		{`{"desc":{"$regex":"a","$options":"q"}}`, "unknown flag"},
		{`{"desc":{"$options":"i"}}`, "$options goes with $regex"},
		{`{"p":{"$isnull":"yes"}}`, "$isnull needs true or false"},
		{`{"obj":{"$has_key":"a.b"}}`, "$has_key needs a key name"},
		{`{"price":{"$gt":[1]}}`, "$gt needs a number or a string"},
		{`{"loc":{"$within":{"type":"Polygon","coordinates":[[[0,0],[1,1]]]}}}`, "closed polygon"},
	}
	for _, c := range cases {
		_, _, _, err := s.Find(context.Background(), "fruit", Query{Where: []byte(c.where), Limit: 10})
		if StatusOf(err) != 400 || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("where %s: err %v (status %d), want 400 with %q", c.where, err, StatusOf(err), c.msg)
		}
	}
	for _, q := range []Query{{Limit: 1001}, {Limit: 5, Offset: -1}, {Limit: 5, OrderBy: "-bad name"}} {
		if _, _, _, err := s.Find(context.Background(), "fruit", q); StatusOf(err) != 400 {
			t.Errorf("%+v: err %v, want 400", q, err)
		}
	}
}

// TestOperatorTypeRules: with a schema, an operator on a type §3.3 does
// not allow is 400; arrays of objects answer empty.
func TestOperatorTypeRules(t *testing.T) {
	s := openMem(t)
	ctx := context.Background()
	if _, err := s.CreateTable(ctx, spec(t, `{"name":"fruit","schema":{"fields":[
		{"name":"name","type":"string"},{"name":"price","type":"integer"},{"name":"ok","type":"boolean"},
		{"name":"objs","type":"array","items":{"type":"object"}}]}}`), true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, "fruit", mustObj(t, `{"name":"a","price":1,"ok":true,"objs":[{"a":1}]}`), 1); err != nil {
		t.Fatal(err)
	}
	for where, msg := range map[string]string{
		`{"price":{"$contains":"1"}}`: "operator $contains is not supported on integer field price",
		`{"ok":{"$gt":1}}`:            "operator $gt is not supported on boolean field ok",
		`{"name":{"$all":["a"]}}`:     "operator $all is not supported on string field name",
		`{"nope":{"$eq":1}}`:          `has no field "nope"`,
	} {
		_, _, _, err := s.Find(ctx, "fruit", Query{Where: []byte(where), Limit: 5})
		if StatusOf(err) != 400 || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: %v, want 400 %q", where, err, msg)
		}
	}
	if got := names(t, s, `{"objs":{"$eq":[{"a":1}]}}`); got != "" {
		t.Errorf("array of objects queried: %q, want nothing (§3.3)", got)
	}
	if got := names(t, s, `{"price":{"$gte":1}}`); got != "a" {
		t.Errorf("got %q", got)
	}
}

func spec(t *testing.T, s string) TableSpec {
	t.Helper()
	var sp TableSpec
	if err := json.Unmarshal([]byte(s), &sp); err != nil {
		t.Fatal(err)
	}
	return sp
}

func TestOrderPageCount(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	s, err := Open(Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	seedFruit(t, s)
	ctx := context.Background()
	_, docs, total, err := s.Find(ctx, "fruit", Query{Where: []byte(`{"price":{"$gte":1}}`), OrderBy: "-price", Limit: 2, Offset: 1, WithCount: true})
	if err != nil {
		t.Fatal(err)
	}
	if total != 4 || len(docs) != 2 || docs[0]["name"] != "n3" || docs[1]["name"] != "n2" {
		t.Fatalf("total %d docs %v", total, docs)
	}
	// Same created_at: the default order falls back to newest first.
	_, docs, _, _ = s.Find(ctx, "fruit", Query{Limit: -1})
	if len(docs) != 5 || docs[0]["name"] != "n5" || docs[4]["name"] != "n1" {
		t.Fatalf("default order: %v", docs)
	}
	n, err := s.Count(ctx, "fruit", []byte(`{"ok":true}`))
	if err != nil || n != 2 {
		t.Fatalf("count %d %v", n, err)
	}
}

// TestFindUsesAnIndexForFilterAndOrder: an equality plus an order gets
// one index on both, so SQLite reads in order and sorts nothing.
func TestFindUsesAnIndexForFilterAndOrder(t *testing.T) {
	s := openMem(t)
	seedFruit(t, s)
	ctx := context.Background()
	tbl, _ := s.Lookup("fruit")
	for _, c := range []struct{ where, order string }{
		{`{"$and":[{"desc":{"$eq":"banana"}},{"price":{"$gt":1}}]}`, ""},
		{`{"desc":"banana"}`, "-price"},
	} {
		q := Query{Where: []byte(c.where), OrderBy: c.order, Limit: 20}
		if _, _, _, err := s.Find(ctx, "fruit", q); err != nil {
			t.Fatal(err)
		}
		cq, err := s.compile(ctx, tbl, q)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := s.db.QueryContext(ctx, fmt.Sprintf(`EXPLAIN QUERY PLAN SELECT id, doc FROM %s WHERE %s ORDER BY %s LIMIT 20`,
			SQLTable(tbl.ID), cq.w.expr, cq.order), cq.w.args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			rows.Scan(&id, &parent, &unused, &detail)
			plan = append(plan, detail)
		}
		rows.Close()
		all := strings.Join(plan, "; ")
		if !strings.Contains(all, "USING INDEX") || strings.Contains(all, "TEMP B-TREE") {
			t.Errorf("%s order %q: plan %s", c.where, c.order, all)
		}
	}
}

// TestQueryIndexesAreCapped: field names come from callers, so a table
// gets at most maxAutoIndexes indexes from queries.
func TestQueryIndexesAreCapped(t *testing.T) {
	s := openMem(t)
	seedFruit(t, s)
	ctx := context.Background()
	for i := range maxAutoIndexes + 10 {
		if _, _, _, err := s.Find(ctx, "fruit", Query{Where: []byte(fmt.Sprintf(`{"f%d":1}`, i)), Limit: 1}); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := s.db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'rec_1' AND sql IS NOT NULL`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	// created_at's own index, plus the capped ones.
	if n != maxAutoIndexes+1 {
		t.Fatalf("%d indexes", n)
	}
}
