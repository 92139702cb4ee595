// Command async queues a job with an async call, which answers at once
// with {"status":"ok"}, then waits for the job and prints its outcome and
// log, as the emulator recorded them.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/mincloud-go/baas/examples/internal/appsetup"
)

func main() {
	c, srv, done, err := appsetup.Client()
	if err != nil {
		log.Fatal(err)
	}
	defer done()
	ctx := context.Background()

	res, err := c.Invoke(ctx, "slow", map[string]int{"ms": 200}, false)
	if err != nil {
		log.Fatal(err)
	}
	ack, _ := json.Marshal(res)
	fmt.Println("invoke answered:", string(ack))

	if srv == nil {
		fmt.Println("the job runs on the platform: see its log in the console")
		return
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := srv.Wait(wctx); err != nil {
		log.Fatal(err)
	}
	for _, j := range srv.Jobs() {
		data, _ := json.Marshal(j.Result)
		fmt.Printf("job %s (sync=%v): %s, result %s\n", j.Function, j.Sync, j.Status, data)
		for _, line := range j.Log {
			// Drop the timestamp so that the output is the same each run.
			_, rest, _ := strings.Cut(line, " ")
			fmt.Println("  log:", rest)
		}
	}
}
