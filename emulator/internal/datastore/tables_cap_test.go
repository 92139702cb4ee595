package datastore

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// TestAutoTablesCapped: a write makes a new table only while the database
// has fewer than its cap (MaxAutoTables, lowered here to keep the test
// short); past it the write is a 400 saying why, and writes to the
// existing tables still work.
func TestAutoTablesCapped(t *testing.T) {
	s := openMem(t)
	if s.maxAutoTables != MaxAutoTables {
		t.Fatalf("the cap is %d, want MaxAutoTables", s.maxAutoTables)
	}
	s.maxAutoTables = 20
	ctx := context.Background()
	doc := mustObj(t, `{"n":1}`)
	for i := 0; i < s.maxAutoTables; i++ {
		if _, err := s.Create(ctx, fmt.Sprintf("t%d", i), doc, 0); err != nil {
			t.Fatalf("table %d: %v", i, err)
		}
	}
	_, err := s.Create(ctx, "onetoomany", doc, 0)
	if StatusOf(err) != 400 || !strings.Contains(err.Error(), fmt.Sprint(s.maxAutoTables)) {
		t.Fatalf("a write past the cap: %v (status %d), want a 400 naming the cap", err, StatusOf(err))
	}
	if _, ok := s.Lookup("onetoomany"); ok {
		t.Fatal("the table was made")
	}
	if _, err := s.Create(ctx, "t0", doc, 0); err != nil {
		t.Fatalf("a write to an existing table: %v", err)
	}
}
