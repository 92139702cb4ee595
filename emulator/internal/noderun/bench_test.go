package noderun_test

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/mincloud-go/baas"
	"github.com/mincloud-go/baas/emulator"
	"github.com/mincloud-go/baas/internal/nodetest"
)

// The JavaScript benchmarks live here, not beside the emulator's own, so
// that a run of those with a large fixed -benchtime does not start
// thousands of Node processes.

// seedHelloWorld is the seed page's helloWorld, exactly.
const seedHelloWorld = "exports.main = function helloWorld(event, callback) {\n" +
	"  console.log(event)\n" +
	"  callback(null, `hello ${event.data.name}`)\n" +
	"}\n"

// BenchmarkJSInvoke measures a warm call of the seed page's helloWorld,
// SDK → emulator → Node worker, beside SDK → a bare Node HTTP server
// (testdata/bare_server.js) running the same function per request, in the
// same run; then both again from 64 goroutines for throughput.
func BenchmarkJSInvoke(b *testing.B) {
	nodetest.Need(b)
	bare := startBareServer(b)
	bareClient, err := baas.New(baas.WithClientID("bench"), baas.WithHost(bare))
	if err != nil {
		b.Fatal(err)
	}
	srv := emulator.New()
	defer srv.Close()
	if err := srv.RegisterJS("helloWorld", seedHelloWorld); err != nil {
		b.Fatal(err)
	}
	emuClient, err := srv.Client()
	if err != nil {
		b.Fatal(err)
	}
	params := map[string]any{"name": "allen"}
	once := func(b *testing.B, c *baas.Client) {
		res, err := c.Invoke(context.Background(), "helloWorld", params, true)
		if err != nil || res.Code != 0 || string(res.Data) != `"hello allen"` {
			b.Fatal(res, err)
		}
	}
	serial := func(c *baas.Client) func(b *testing.B) {
		return func(b *testing.B) {
			for range 20 {
				once(b, c) // warm
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				once(b, c)
			}
		}
	}
	parallel := func(c *baas.Client) func(b *testing.B) {
		return func(b *testing.B) {
			// Warm: as many workers as the load needs.
			var wg sync.WaitGroup
			for range 64 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range 5 {
						once(b, c)
					}
				}()
			}
			wg.Wait()
			b.SetParallelism((64 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					once(b, c)
				}
			})
		}
	}
	b.Run("baseline=bare-node", serial(bareClient))
	b.Run("emulator", serial(emuClient))
	b.Run("64goroutines/baseline=bare-node", parallel(bareClient))
	b.Run("64goroutines/emulator", parallel(emuClient))

}

// BenchmarkJSColdStart measures the first call after registering a
// function in a new emulator (Node's start-up included), beside starting
// a bare Node process that runs the same function once.
func BenchmarkJSColdStart(b *testing.B) {
	node := nodetest.Need(b)
	script := "const main = " + strings.TrimPrefix(strings.TrimSpace(seedHelloWorld), "exports.main = ") +
		"\nmain({data: {name: 'allen'}}, (err, data) => process.stdout.write(JSON.stringify({code: 0, data, error: {}})))\n"
	b.Run("baseline=node-process", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			out, err := exec.Command(node, "-e", script).Output()
			if err != nil || !strings.Contains(string(out), "hello allen") {
				b.Fatal(string(out), err)
			}
		}
	})
	b.Run("emulator", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			srv := emulator.New()
			if err := srv.RegisterJS("helloWorld", seedHelloWorld); err != nil {
				b.Fatal(err)
			}
			c, _ := srv.Client()
			res, err := c.Invoke(context.Background(), "helloWorld", map[string]any{"name": "allen"}, true)
			if err != nil || res.Code != 0 {
				b.Fatal(res, err)
			}
			b.StopTimer()
			srv.Close()
			b.StartTimer()
		}
	})
}

// startBareServer starts testdata/bare_server.js and returns its URL.
func startBareServer(b *testing.B) string {
	cmd := exec.Command(nodetest.Need(b), "testdata/bare_server.js")
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	r := bufio.NewReader(out)
	port, err := r.ReadString('\n')
	if err != nil {
		b.Fatal(err)
	}
	go io.Copy(io.Discard, r) // console.log(event) of every request
	return "http://127.0.0.1:" + strings.TrimSpace(port)
}
