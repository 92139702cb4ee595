package datastore

import (
	"context"
	"reflect"
	"testing"
)

// Every committed write tells OnWrite which table and how many records,
// with or without triggers; a write that changed nothing or failed tells
// nothing.
func TestOnWriteTellsEveryWrite(t *testing.T) {
	s := openMem(t)
	var got []Write
	s.OnWrite = func(w Write) { got = append(got, w) }
	ctx := WithoutTriggers(context.Background()) // tells all the same
	expect := func(what string, want ...Write) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: told %+v, want %+v", what, got, want)
		}
		got = nil
	}

	rec, err := s.Create(ctx, "t", mustObj(t, `{"n":1}`), 0)
	if err != nil {
		t.Fatal(err)
	}
	expect("a first write", Write{Table: "t", Op: "table"}, Write{Table: "t", Op: "create", Count: 1})
	id := rec["id"].(string)

	if _, err := s.CreateMany(ctx, "t", []Doc{mustObj(t, `{"n":2}`), mustObj(t, `{"id":"`+id+`"}`)}, 0); err != nil {
		t.Fatal(err)
	}
	expect("a bulk create with a duplicate id", Write{Table: "t", Op: "create", Count: 1})
	if _, err := s.CreateAll(ctx, "t", []Doc{mustObj(t, `{"n":3}`), mustObj(t, `{"n":4}`)}, 0); err != nil {
		t.Fatal(err)
	}
	expect("CreateAll", Write{Table: "t", Op: "create", Count: 2})

	if _, _, err := s.Update(ctx, "t", id, mustObj(t, `{"$set":{"n":{"$incr_by":1}}}`)); err != nil {
		t.Fatal(err)
	}
	expect("an update", Write{Table: "t", Op: "update", Count: 1})
	if _, _, err := s.Update(ctx, "t", "nope", mustObj(t, `{"$set":{"n":1}}`)); err == nil {
		t.Fatal("updated a missing record")
	}
	expect("a failed update")
	if _, err := s.UpdateWhere(ctx, "t", Bulk{Where: []byte(`{"n":{"$gte":3}}`), Limit: -1}, mustObj(t, `{"$set":{"m":1}}`)); err != nil {
		t.Fatal(err)
	}
	expect("a bulk update", Write{Table: "t", Op: "update", Count: 2})
	if _, err := s.UpdateWhere(ctx, "t", Bulk{Where: []byte(`{"n":{"$gte":100}}`), Limit: -1}, mustObj(t, `{"$set":{"m":1}}`)); err != nil {
		t.Fatal(err)
	}
	expect("a bulk update matching nothing")

	if err := s.Delete(ctx, "t", id); err != nil {
		t.Fatal(err)
	}
	expect("a delete", Write{Table: "t", Op: "delete", Count: 1})
	if _, err := s.DeleteWhere(ctx, "t", Bulk{Where: []byte(`{"n":3}`), Limit: -1}); err != nil {
		t.Fatal(err)
	}
	expect("a bulk delete", Write{Table: "t", Op: "delete", Count: 1})
	if err := s.Reset(ctx, "t"); err != nil {
		t.Fatal(err)
	}
	expect("a reset", Write{Table: "t", Op: "reset"})

	name := "u"
	if _, err := s.UpdateTable(ctx, "t", TableSpec{Name: &name}); err != nil {
		t.Fatal(err)
	}
	expect("a rename", Write{Table: "t", Op: "drop"}, Write{Table: "u", Op: "table"})
	if err := s.DeleteTable(ctx, "u"); err != nil {
		t.Fatal(err)
	}
	expect("a drop", Write{Table: "u", Op: "drop"})
}
