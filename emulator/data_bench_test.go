package emulator

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mincloud-go/baas/emulator/internal/datastore"
)

// The data API's benchmarks (BENCHMARKS.md, "Emulator: tables"). Each
// reports p50 in ms beside its baseline, measured in the same run on the
// same SQLite database.

const benchRecords = 100_000

// benchRecord is the i-th record of the benchmark table: ten categories,
// prices 0…999, distinct creation times.
func benchRecord(i int) map[string]any {
	return map[string]any{
		"name": fmt.Sprintf("item-%06d", i), "category": fmt.Sprintf("c%d", i%10), "price": (i * 7919) % 1000,
		"created_at": 1_700_000_000 + i, "tags": []string{"t" + strconv.Itoa(i%7), "t" + strconv.Itoa(i%3)},
		"desc": "a record of the benchmark table, about as long as a real one",
	}
}

// webGet sends a Web API GET and reads the answer.
func webGet(b *testing.B, hc *http.Client, srv *Server, path string) []byte {
	req, _ := http.NewRequest("GET", srv.URL+path, nil)
	req.Header.Set("X-Hydrogen-Client-ID", srv.ClientID)
	resp, err := hc.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("%s: %d %s", path, resp.StatusCode, body)
	}
	return body
}

// createMany posts one createMany batch through the Web API.
func createMany(hc *http.Client, srv *Server, table string, batch []map[string]any) error {
	body, _ := json.Marshal(batch)
	req, _ := http.NewRequest("POST", srv.URL+"/hserve/v2.4/table/"+table+"/record/?enable_trigger=0", bytes.NewReader(body))
	req.Header.Set("X-Hydrogen-Client-ID", srv.ClientID)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 || !bytes.Contains(out, []byte(fmt.Sprintf(`"succeed":%d,`, len(batch)))) {
		return fmt.Errorf("createMany: %d %.200s", resp.StatusCode, out)
	}
	return nil
}

func p50ms(d []time.Duration) float64 {
	slices.Sort(d)
	return float64(d[len(d)/2].Microseconds()) / 1000
}

// BenchmarkDataFind: a filtered, ordered find of 20 among 100,000
// records through HTTP (the SDK's find request), beside the same query
// as bare SQL on the same database, and beside one HTTP round trip (the
// server time).
func BenchmarkDataFind(b *testing.B) {
	srv := New(WithDataFile(filepath.Join(b.TempDir(), "bench.db")))
	defer srv.Close()
	hc := &http.Client{}
	for start := 0; start < benchRecords; start += 1000 {
		batch := make([]map[string]any, 1000)
		for i := range batch {
			batch[i] = benchRecord(start + i)
		}
		if err := createMany(hc, srv, "bench", batch); err != nil {
			b.Fatal(err)
		}
	}
	where := `{"$and":[{"category":{"$eq":"c3"}},{"price":{"$gt":500}}]}`
	path := "/hserve/v2.4/table/bench/record/?limit=20&offset=0&order_by=-created_at&where=" + url.QueryEscape(where) + "&return_total_count=0"
	// One call first: it makes the indexes the query uses, as a first
	// query would.
	if got := webGet(b, hc, srv, path); !bytes.Contains(got, []byte(`"category":"c3"`)) {
		b.Fatalf("find: %.300s", got)
	}
	t, _ := srv.data.store.Lookup("bench")
	db := srv.data.store.DB()
	query := fmt.Sprintf(`SELECT doc FROM %s WHERE json_extract(doc, '$.category') = ? AND json_extract(doc, '$.price') > ?
		ORDER BY json_extract(doc, '$.created_at') DESC LIMIT 20`, datastore.SQLTable(t.ID))

	bare := func() {
		rows, err := db.QueryContext(context.Background(), query, "c3", 500)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for rows.Next() {
			var doc string
			rows.Scan(&doc)
			n++
		}
		rows.Close()
		if n != 20 {
			b.Fatalf("%d rows", n)
		}
	}
	// The three alternate, so that the shared machine's load falls on
	// each alike.
	var find, sql, rtt []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		webGet(b, hc, srv, path)
		t1 := time.Now()
		bare()
		t2 := time.Now()
		webGet(b, hc, srv, "/hserve/v2.2/server/time/")
		t3 := time.Now()
		find, sql, rtt = append(find, t1.Sub(t0)), append(sql, t2.Sub(t1)), append(rtt, t3.Sub(t2))
	}
	b.StopTimer()
	f, q, r := p50ms(find), p50ms(sql), p50ms(rtt)
	b.ReportMetric(f, "find-p50-ms")
	b.ReportMetric(q, "sql-p50-ms")
	b.ReportMetric(r, "rtt-p50-ms")
	// The goal: find ≤ 2 × SQL + one round trip, i.e. this ≤ 1.
	b.ReportMetric(f/(2*q+r), "find/(2sql+rtt)")
}

// BenchmarkDataSeed: 100,000 records with createMany in batches of 1,000
// through HTTP into a file database, beside the same documents inserted
// with bare SQL in transactions of 1,000 on a database of the same kind.
func BenchmarkDataSeed(b *testing.B) {
	batches := make([][]map[string]any, benchRecords/1000)
	for k := range batches {
		batches[k] = make([]map[string]any, 1000)
		for i := range batches[k] {
			batches[k][i] = benchRecord(k*1000 + i)
		}
	}
	b.Run("http-createMany", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			srv := New(WithDataFile(filepath.Join(b.TempDir(), "seed.db")))
			hc := &http.Client{}
			t0 := time.Now()
			for _, batch := range batches {
				if err := createMany(hc, srv, "bench", batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(time.Since(t0).Seconds(), "s/100k")
			srv.Close()
		}
	})
	b.Run("bare-sql", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			st, err := datastore.Open(datastore.Options{Path: filepath.Join(b.TempDir(), "seed.db")})
			if err != nil {
				b.Fatal(err)
			}
			db := st.DB()
			ctx := context.Background()
			db.ExecContext(ctx, `CREATE TABLE t (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, doc TEXT NOT NULL)`)
			db.ExecContext(ctx, `CREATE INDEX t_c ON t(json_extract(doc, '$.created_at'))`)
			t0 := time.Now()
			n := 0
			for _, batch := range batches {
				tx, _ := db.BeginTx(ctx, nil)
				stmt, _ := tx.PrepareContext(ctx, `INSERT INTO t(id, doc) VALUES (?, ?)`)
				for _, r := range batch {
					n++
					doc, _ := json.Marshal(r)
					if _, err := stmt.ExecContext(ctx, fmt.Sprintf("%024x", n), string(doc)); err != nil {
						b.Fatal(err)
					}
				}
				stmt.Close()
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(time.Since(t0).Seconds(), "s/100k")
			st.Close()
		}
	})
}

const rssChildEnv = "MINCLOUD_BENCH_RSS_CHILD"

// BenchmarkDataRSS: the resident memory of an emulator process (this
// test binary, run again as a child that only serves) after 100,000
// records were seeded into a file database through HTTP, beside its
// resident memory when it had just started.
func BenchmarkDataRSS(b *testing.B) {
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcessDataRSS$")
		cmd.Env = append(os.Environ(), rssChildEnv+"="+filepath.Join(b.TempDir(), "rss.db"))
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(stdout)
		var base, id string
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "url "); ok {
				base, id, _ = strings.Cut(u, " ")
				break
			}
		}
		srv := &Server{URL: base, ClientID: id}
		startRSS := vmRSS(b, cmd.Process.Pid)
		hc := &http.Client{}
		for start := 0; start < benchRecords; start += 1000 {
			batch := make([]map[string]any, 1000)
			for j := range batch {
				batch[j] = benchRecord(start + j)
			}
			if err := createMany(hc, srv, "bench", batch); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(startRSS, "start-MB")
		b.ReportMetric(vmRSS(b, cmd.Process.Pid), "seeded-MB")
		stdin.Close()
		cmd.Wait()
	}
}

// TestHelperProcessDataRSS is BenchmarkDataRSS's emulator process, as
// os/exec's TestHelperProcess: it does nothing unless run as that child.
func TestHelperProcessDataRSS(t *testing.T) {
	path := os.Getenv(rssChildEnv)
	if path == "" {
		return
	}
	srv := New(WithDataFile(path))
	defer srv.Close()
	fmt.Printf("url %s %s\n", srv.URL, srv.ClientID)
	io.Copy(io.Discard, os.Stdin) // until the parent closes it
}

// vmRSS reads a process's resident set size in MB.
func vmRSS(b *testing.B, pid int) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return float64(kb) / 1024
		}
	}
	b.Fatal("no VmRSS")
	return 0
}
