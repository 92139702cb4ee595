package datastore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
)

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestUpdateOperators applies each operator of §4 to a stored record.
func TestUpdateOperators(t *testing.T) {
	s := openMem(t)
	ctx := context.Background()
	rec, err := s.Create(ctx, "t", mustObj(t, `{"n":1,"f":1.5,"arr":[1,2,3],"obj":{"a":1,"b":{"c":1}},"old":"x","s":"str"}`), 7)
	if err != nil {
		t.Fatal(err)
	}
	id := rec["id"].(string)
	cases := []struct{ body, field, want string }{
		{`{"$set":{"n":{"$incr_by":-3}}}`, "n", `-2`},
		{`{"f":{"$incr_by":1}}`, "f", `2.5`},                    // the flat form (Open API)
		{`{"$set":{"missing":{"$incr_by":5}}}`, "missing", `5`}, // missing counts as 0 (§10.14)
		{`{"$set":{"arr":{"$append":[3,4]}}}`, "arr", `[1,2,3,3,4]`},
		{`{"$set":{"arr":{"$append_unique":[4,5,5]}}}`, "arr", `[1,2,3,3,4,5]`},
		{`{"$set":{"arr":{"$remove":[3,1]}}}`, "arr", `[2,4,5]`},
		{`{"$set":{"arr":{"$pop":1}}}`, "arr", `[2,4]`},
		{`{"$set":{"arr":{"$pop":-1}}}`, "arr", `[4]`},
		{`{"$set":{"obj":{"$update":{"b":{"d":2},"e":3}}}}`, "obj", `{"a":1,"b":{"d":2},"e":3}`}, // shallow
		{`{"$set":{"obj.a":{"$incr_by":10}}}`, "obj", `{"a":11,"b":{"d":2},"e":3}`},
		{`{"$set":{"s":"new"},"$unset":{"old":""}}`, "old", `null`},   // key removed (§10.13)
		{`{"$set":{"s":{"$incr_by":1}},"$unset":{"s":""}}`, "s", `1`}, // unset then set (§10.16)
	}
	for _, c := range cases {
		_, doc, err := s.Update(ctx, "t", id, mustObj(t, c.body))
		if err != nil {
			t.Fatalf("%s: %v", c.body, err)
		}
		if got := jsonOf(t, doc[c.field]); got != c.want {
			t.Errorf("%s: %s = %s, want %s", c.body, c.field, got, c.want)
		}
		if _, has := doc["old"]; has && c.field == "old" {
			t.Errorf("$unset kept the key old")
		}
	}
	// The stored record is what the update answered.
	_, doc, _ := s.Get(ctx, "t", id)
	if jsonOf(t, doc["arr"]) != `[4]` || jsonOf(t, doc["n"]) != `-2` || doc["created_by"].(json.Number) != "7" {
		t.Fatalf("stored %v", doc)
	}
}

// TestUpdateErrorsChangeNothing: a bad body or a bad operator is 400
// naming the fault, and the record is as it was.
func TestUpdateErrorsChangeNothing(t *testing.T) {
	s := openMem(t)
	ctx := context.Background()
	rec, _ := s.Create(ctx, "t", mustObj(t, `{"n":1,"s":"x","arr":[1]}`), 1)
	id := rec["id"].(string)
	cases := map[string]string{
		`{"$set":{"n":{"$mul":2}}}`:                        "operator $mul is not supported",
		`{"$inc":{"n":1}}`:                                 "operator $inc is not supported",
		`{"$set":{"n":{"$incr_by":"1"}}}`:                  "$incr_by needs a number",
		`{"$set":{"n":{"$incr_by":1},"s":{"$incr_by":1}}}`: "Cannot $incr_by s",
		`{"$set":{"n":2,"arr":{"$pop":2}}}`:                "$pop takes 1",
		`{"$set":{"s":{"$append":[1]}}}`:                   "not an array",
		`{"$set":{"bad name":1}}`:                          "Invalid field name",
		`{"$set":"x"}`:                                     "$set must be an object",
		`{"$set":{"id":"other"}}`:                          "cannot be changed",
		`{"$set":{"read_perm":["everyone"]}}`:              "Invalid read_perm entry",
	}
	for body, msg := range cases {
		_, _, err := s.Update(ctx, "t", id, mustObj(t, body))
		if StatusOf(err) != 400 || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: %v, want 400 %q", body, err, msg)
		}
	}
	_, doc, _ := s.Get(ctx, "t", id)
	if jsonOf(t, doc["n"]) != "1" || doc["s"] != "x" {
		t.Fatalf("a failed update changed the record: %v", doc)
	}
	if _, _, err := s.Update(ctx, "t", "nope", mustObj(t, `{"n":1}`)); StatusOf(err) != 404 {
		t.Fatalf("unknown record: %v", err)
	}
}

// TestConcurrentIncrements: 100 concurrent $incr_by 1 leave n+100.
func TestConcurrentIncrements(t *testing.T) {
	s := openMem(t)
	ctx := context.Background()
	rec, _ := s.Create(ctx, "t", mustObj(t, `{"n":5}`), 1)
	id := rec["id"].(string)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := s.Update(ctx, "t", id, mustObj(t, `{"$set":{"n":{"$incr_by":1}},"$unset":{}}`)); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	_, doc, _ := s.Get(ctx, "t", id)
	if jsonOf(t, doc["n"]) != "105" {
		t.Fatalf("n = %v, want 105", doc["n"])
	}
}

// TestSchemaTypes: §6 on a declared table.
func TestSchemaTypes(t *testing.T) {
	s := openMem(t)
	ctx := context.Background()
	if _, err := s.CreateTable(ctx, spec(t, `{"name":"p","schema":{"fields":[
		{"name":"name","type":"string","constraints":{"required":true}},
		{"name":"price","type":"integer","default":9},
		{"name":"rate","type":"number"},{"name":"when","type":"date"},
		{"name":"tags","type":"array","items":{"type":"string"}},
		{"name":"pic","type":"file"},{"name":"loc","type":"geojson"},{"name":"meta","type":"object"}]}}`), true); err != nil {
		t.Fatal(err)
	}
	rec, err := s.Create(ctx, "p", mustObj(t, `{"name":"a","rate":2,"when":"2024-01-02T08:00:00+08:00"}`), 1)
	if err != nil {
		t.Fatal(err)
	}
	if jsonOf(t, rec["price"]) != "9" || rec["when"] != "2024-01-02T00:00:00.000000+00:00" {
		t.Fatalf("default or date: %v", rec)
	}
	id := rec["id"].(string)
	// One field, wrong type: 400 naming it (§6.2); no coercion.
	for body, msg := range map[string]string{
		`{"price":"1"}`:                      "type conflict on fields: price (integer)",
		`{"price":1.5}`:                      "price (integer)",
		`{"tags":["a",1]}`:                   "tags (array of string)",
		`{"pic":{"id":"x"}}`:                 "pic (file)",
		`{"loc":{"type":"Point"}}`:           "loc (geojson)",
		`{"meta":{"$x":1}}`:                  "operator $x is not supported",
		`{"meta":{"bad key":1}}`:             "meta (object)",
		`{"when":"yesterday"}`:               "when (date)",
		`{"nope":1}`:                         "nope (not a field of the table)",
		`{"$set":{"price":{"$append":[1]}}}`: "not an array",
	} {
		_, _, err := s.Update(ctx, "p", id, mustObj(t, body))
		if StatusOf(err) != 400 || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: %v, want 400 %q", body, err, msg)
		}
	}
	// Several fields, one wrong: the others are written, it is dropped.
	_, doc, err := s.Update(ctx, "p", id, mustObj(t, `{"price":"x","rate":3.5,"nope":1}`))
	if err != nil || jsonOf(t, doc["price"]) != "9" || jsonOf(t, doc["rate"]) != "3.5" || doc["nope"] != nil {
		t.Fatalf("%v %v", doc, err)
	}
	if _, err := s.Create(ctx, "p", mustObj(t, `{"price":1}`), 1); StatusOf(err) != 400 || !strings.Contains(err.Error(), "name is required") {
		t.Fatalf("required: %v", err)
	}
	// With a schema, an unknown table is 404 rather than made.
	if _, err := s.Create(ctx, "other", mustObj(t, `{"a":1}`), 1); StatusOf(err) != 404 {
		t.Fatalf("unknown table: %v", err)
	}
}

func TestCreateManyAndBulk(t *testing.T) {
	s := openMem(t)
	ctx := context.Background()
	var made []string
	s.OnNewTable = func(n string) { made = append(made, n) }
	items := []Doc{mustObj(t, `{"id":"r1","n":1}`), mustObj(t, `{"id":"r1","n":2}`), mustObj(t, `{"n":3,"s":"x"}`), mustObj(t, `{"n":4}`)}
	res, err := s.CreateMany(ctx, "b", items, 1)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err != nil || res[1].Err == nil || res[2].Err != nil || res[0].ID != "r1" {
		t.Fatalf("results %+v", res)
	}
	if strings.Join(made, ",") != "b" {
		t.Fatalf("tables made %v", made)
	}
	// $incr_by fails on the record whose n is... every n is a number; s
	// makes one item fail.
	br, err := s.UpdateWhere(ctx, "b", Bulk{Where: []byte(`{"n":{"$gte":1}}`), Limit: -1}, mustObj(t, `{"$set":{"s":{"$append":["y"]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if br.Matched != 3 || br.Succeed != 2 || len(br.Results) != 3 {
		t.Fatalf("bulk update %+v", br)
	}
	// A malformed where changes nothing.
	if _, err := s.UpdateWhere(ctx, "b", Bulk{Where: []byte(`{"n":{"$bad":1}}`), Limit: -1}, mustObj(t, `{"n":0}`)); StatusOf(err) != 400 {
		t.Fatal(err)
	}
	br, err = s.UpdateWhere(ctx, "b", Bulk{Where: []byte(`{}`), Limit: 2, Offset: 0}, mustObj(t, `{"k":1}`))
	if err != nil || br.Succeed != 2 || br.Matched != 3 {
		t.Fatalf("%+v %v", br, err)
	}
	if n, _ := s.Count(ctx, "b", []byte(`{"k":1}`)); n != 2 {
		t.Fatalf("limit: %d updated", n)
	}
	dr, err := s.DeleteWhere(ctx, "b", Bulk{Where: []byte(`{"n":{"$lt":4}}`), Limit: -1})
	if err != nil || dr.Succeed != 2 {
		t.Fatalf("%+v %v", dr, err)
	}
	if n, _ := s.Count(ctx, "b", nil); n != 1 {
		t.Fatalf("left %d", n)
	}
	if _, err := s.CreateMany(ctx, "b", make([]Doc, 1001), 1); StatusOf(err) != 400 {
		t.Fatalf("1001 items: %v", err)
	}
}

func TestPresentKeysExpand(t *testing.T) {
	s := openMem(t)
	ctx := context.Background()
	if _, err := s.CreateTable(ctx, spec(t, `{"name":"author","schema":{"fields":[{"name":"nick","type":"string"},{"name":"age","type":"integer"}]}}`), true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateTable(ctx, spec(t, `{"name":"book","schema":{"fields":[{"name":"title","type":"string"},{"name":"by","type":"reference","schema_name":"author"}]}}`), true); err != nil {
		t.Fatal(err)
	}
	a, _ := s.Create(ctx, "author", mustObj(t, `{"nick":"ann","age":30}`), 1)
	b, err := s.Create(ctx, "book", mustObj(t, fmt.Sprintf(`{"title":"t","by":%q}`, a["id"])), 1)
	if err != nil {
		t.Fatal(err)
	}
	tbl, _ := s.Lookup("book")
	show := func(v View) string {
		out, err := s.Present(ctx, tbl, []Doc{b}, v)
		if err != nil {
			return "error: " + err.Error()
		}
		delete(out[0], "created_at")
		delete(out[0], "updated_at")
		return jsonOf(t, out[0])
	}
	aid := a["id"].(string)
	if got := show(View{Keys: "title,by"}); got != fmt.Sprintf(`{"by":{"_table":"author","id":%q},"title":"t"}`, aid) {
		t.Errorf("pointer: %s", got)
	}
	got := show(View{Keys: "by", Expand: "by"})
	if !strings.Contains(got, `"nick":"ann"`) || !strings.Contains(got, `"_table":"author"`) {
		t.Errorf("expand: %s", got)
	}
	if got := show(View{Keys: "title,by.nick", Expand: "by"}); got != `{"by":{"_table":"author","nick":"ann"},"title":"t"}` {
		t.Errorf("sub-keys: %s", got)
	}
	if got := show(View{Keys: "-id,-by,-created_by,-read_perm,-write_perm"}); got != `{"title":"t"}` {
		t.Errorf("exclude: %s", got)
	}
	if got := show(View{Keys: "id"}); got != fmt.Sprintf(`{"_id":%q,"id":%q}`, b["id"], b["id"]) {
		t.Errorf("id: %s", got)
	}
	if got := show(View{Keys: "title,-by"}); !strings.Contains(got, `"_table"`) {
		t.Errorf("mixed keys are ignored: %s", got)
	}
	if got := show(View{Keys: "nope"}); !strings.Contains(got, `no field "nope"`) {
		t.Errorf("unknown key: %s", got)
	}
	if got := show(View{Expand: "title"}); !strings.Contains(got, "not a reference field") {
		t.Errorf("expand non-pointer: %s", got)
	}
	// A pointer is queried by the target's id.
	_, docs, _, err := s.Find(ctx, "book", Query{Where: []byte(fmt.Sprintf(`{"by":{"$eq":%q}}`, aid)), Limit: 5})
	if err != nil || len(docs) != 1 {
		t.Fatalf("%v %v", docs, err)
	}
	if err := s.DeleteTable(ctx, "author"); StatusOf(err) != 400 {
		t.Fatalf("deleting a pointed-to table: %v", err)
	}
}

// TestUnwrittenTableReadsEmpty: without a schema, a table not written yet
// reads as empty (not 404), still checks its input, and is not made.
func TestUnwrittenTableReadsEmpty(t *testing.T) {
	s := openMem(t)
	ctx := context.Background()
	_, docs, total, err := s.Find(ctx, "later", Query{Limit: 5, WithCount: true})
	if err != nil || len(docs) != 0 || total != 0 {
		t.Fatalf("%v %d %v", docs, total, err)
	}
	if _, _, _, err := s.Find(ctx, "later", Query{Where: []byte(`{"a":{"$nope":1}}`), Limit: 5}); StatusOf(err) != 400 {
		t.Fatalf("bad where: %v", err)
	}
	if _, _, err := s.Get(ctx, "later", "x"); StatusOf(err) != 404 || !strings.Contains(err.Error(), "Record") {
		t.Fatalf("get: %v", err)
	}
	if r, err := s.DeleteWhere(ctx, "later", Bulk{Limit: -1}); err != nil || r.Succeed != 0 {
		t.Fatalf("bulk delete: %+v %v", r, err)
	}
	if _, err := s.UpdateWhere(ctx, "later", Bulk{Limit: -1}, mustObj(t, `{"$set":{"a":{"$bad":1}}}`)); StatusOf(err) != 400 {
		t.Fatalf("bad update body: %v", err)
	}
	if _, ok := s.Lookup("later"); ok {
		t.Fatal("a read made the table")
	}
	if _, _, _, err := s.Find(ctx, "bad-name", Query{Limit: 5}); StatusOf(err) != 404 {
		t.Fatalf("an invalid name: %v", err)
	}
}
