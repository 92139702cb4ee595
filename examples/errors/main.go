// Command errors shows the two ways a call can go wrong and how to tell
// them apart: a function that failed is a Result with a non-zero code (the
// call worked), while an *baas.HError means the call itself failed, here
// an unknown function (404) and a timeout (601).
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/mincloud-go/baas"
	"github.com/mincloud-go/baas/examples/internal/appsetup"
)

func main() {
	c, _, done, err := appsetup.Client(baas.WithSyncTimeout(500 * time.Millisecond))
	if err != nil {
		log.Fatal(err)
	}
	defer done()
	ctx := context.Background()

	for _, call := range []struct {
		name   string
		params any
	}{
		{"fail", map[string]string{"message": "no such user"}},
		{"doesNotExist", nil},
		{"slow", map[string]int{"ms": 3000}},
	} {
		res, err := c.Invoke(ctx, call.name, call.params, true)
		var he *baas.HError
		switch {
		case errors.As(err, &he):
			fmt.Printf("%s: HError %d, %q\n", call.name, he.Code, he.Error())
			if errors.Is(err, context.DeadlineExceeded) {
				fmt.Printf("%s: the call ran out of time\n", call.name)
			}
		case err != nil:
			log.Fatal(err)
		case res.Code != 0:
			fmt.Printf("%s: function failed with code %d: %s (%s)\n", call.name, res.Code, res.Error.Message, res.Error.Type)
		default:
			fmt.Printf("%s: ok, %s\n", call.name, res.Data)
		}
	}
}
