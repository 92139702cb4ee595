package datastore

import (
	"context"
	"fmt"
	"sync"
	"testing"
)

// TestPreparedPastTheCap: more query shapes than maxStmts, found at once
// from many goroutines, all succeed: a statement handed to one find is
// never closed under it when the cache is full or a table goes.
func TestPreparedPastTheCap(t *testing.T) {
	s := openMem(t)
	ctx := context.Background()
	if _, err := s.Create(ctx, "t", mustObj(t, `{"n":1}`), 0); err != nil {
		t.Fatal(err)
	}
	shapes := maxStmts + 72
	const workers, rounds = 8, 2
	doc := mustObj(t, `{"n":1}`)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < rounds; r++ {
				for i := 0; i < shapes; i++ {
					k := (i*7 + w*31 + r) % shapes // each worker in its own order
					_, _, _, err := s.Find(ctx, "t", Query{Where: []byte(fmt.Sprintf(`{"f%d":{"$eq":%d}}`, k, k)), Limit: 10})
					if err != nil {
						errs <- fmt.Errorf("shape %d: %w", k, err)
						return
					}
				}
			}
		}()
	}
	// A table going drops the kept statements while finds use them.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 20; i++ {
			name := fmt.Sprintf("gone%d", i)
			if _, err := s.Create(ctx, name, doc, 0); err != nil {
				errs <- err
				return
			}
			if err := s.DeleteTable(ctx, name); err != nil {
				errs <- err
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	if len(s.stmts) > maxStmts {
		t.Errorf("%d statements kept, more than the cap %d", len(s.stmts), maxStmts)
	}
}
