package emulator_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mincloud-go/baas"
	"github.com/mincloud-go/baas/emulator"
	"github.com/mincloud-go/baas/internal/nodetest"
)

// BenchmarkJSBurst sends 100 sync calls at once to a JavaScript function
// that takes one second, inside the emulator's 100-job cap, and reports
// how many answered, how many failed, and the peak resident memory of
// the emulator's Node workers (sampled from /proc every 20 ms).
func BenchmarkJSBurst(b *testing.B) {
	nodetest.Need(b)
	if runtime.GOOS != "linux" {
		b.Skip("reads /proc")
	}
	for i := 0; i < b.N; i++ {
		srv := emulator.New(emulator.WithMaxJobs(100))
		if err := srv.RegisterJS("second", "exports.main = (event, cb) => setTimeout(() => cb(null, 'ok'), 1000)"); err != nil {
			b.Fatal(err)
		}
		c, err := srv.Client(baas.WithRetry(0))
		if err != nil {
			b.Fatal(err)
		}
		var peak atomic.Int64
		stop := make(chan struct{})
		sampled := make(chan struct{})
		go func() {
			defer close(sampled)
			for {
				if n := workersRSS(); n > peak.Load() {
					peak.Store(n)
				}
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		}()
		var ok, failed atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for k := 0; k < 100; k++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := c.Invoke(context.Background(), "second", nil, true)
				if err == nil && res.Code == 0 {
					ok.Add(1)
				} else {
					failed.Add(1)
				}
			}()
		}
		wg.Wait()
		total := time.Since(start)
		close(stop)
		<-sampled
		srv.Close()
		b.ReportMetric(float64(ok.Load()), "ok")
		b.ReportMetric(float64(failed.Load()), "failed")
		b.ReportMetric(total.Seconds(), "s-total")
		b.ReportMetric(float64(peak.Load())/(1<<20), "MiB-peak-rss")
	}
}

// workersRSS sums the resident memory of this process's child processes.
func workersRSS() int64 {
	me := strconv.Itoa(os.Getpid())
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var sum int64
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		if len(f) < 22 || f[1] != me {
			continue
		}
		pages, _ := strconv.ParseInt(f[21], 10, 64)
		sum += pages * int64(os.Getpagesize())
	}
	return sum
}
