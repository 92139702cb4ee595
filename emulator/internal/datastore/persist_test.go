package datastore

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFileKeptAcrossReopen: a file database keeps tables, records and
// schemas, and the sqlite3 tool reads it.
func TestFileKeptAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data.db")
	ctx := context.Background()
	s, err := Open(Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateTable(ctx, spec(t, `{"name":"p","schema":{"fields":[{"name":"n","type":"integer"}]}}`), true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, "p", mustObj(t, `{"id":"k1","n":41}`), 1); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err = Open(Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Update(ctx, "p", "k1", mustObj(t, `{"n":{"$incr_by":1}}`)); err != nil {
		t.Fatal(err)
	}
	if !s.Strict() {
		t.Fatal("the schema was not kept")
	}
	if _, _, err := s.Update(ctx, "p", "k1", mustObj(t, `{"n":"x"}`)); StatusOf(err) != 400 {
		t.Fatalf("types not checked after reopen: %v", err)
	}
	s.Close()

	if _, err := exec.LookPath("sqlite3"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("sqlite3 is needed under CI")
		}
		t.Skip("no sqlite3 tool")
	}
	out, err := exec.Command("sqlite3", path, `SELECT json_extract(doc,'$.n') FROM rec_1 WHERE id='k1'`).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "42" {
		t.Fatalf("sqlite3: %s %v", out, err)
	}
}

const killChildEnv = "DATASTORE_KILL_CHILD"

// TestKillDuringBulkWrite kills (SIGKILL) a process in the middle of
// batches of createMany into a file; the file then opens, passes
// integrity_check, and holds whole batches only.
func TestKillDuringBulkWrite(t *testing.T) {
	if path := os.Getenv(killChildEnv); path != "" {
		killChild(path)
		return
	}
	path := filepath.Join(t.TempDir(), "kill.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillDuringBulkWrite$")
	cmd.Env = append(os.Environ(), killChildEnv+"="+path)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	committed := 0
	for lines.Scan() {
		if strings.HasPrefix(lines.Text(), "committed") {
			committed++
			if committed == 3 {
				break // the fourth batch is being written now
			}
		}
	}
	time.Sleep(5 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if committed < 3 {
		t.Fatalf("the child committed %d batches before dying", committed)
	}

	s, err := Open(Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var check string
	if err := s.DB().QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check: %q %v", check, err)
	}
	n, err := s.Count(context.Background(), "bulk", nil)
	if err != nil {
		t.Fatal(err)
	}
	if n < 3000 || n%1000 != 0 {
		t.Fatalf("%d records: a batch is in part (or a committed one lost)", n)
	}
}

// killChild writes batches of 1000 until killed.
func killChild(path string) {
	s, err := Open(Options{Path: path})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	ctx := context.Background()
	for b := 0; b < 1000; b++ {
		items := make([]Doc, 1000)
		for i := range items {
			items[i] = Doc{"batch": b, "i": i, "pad": strings.Repeat("x", 200)}
		}
		if _, err := s.CreateMany(ctx, "bulk", items, 1); err != nil {
			fmt.Println("write:", err)
			os.Exit(2)
		}
		fmt.Println("committed", b)
	}
	os.Exit(0)
}
