// Command helloworld is the seed page's example in Go: it invokes
// helloWorld with {name: 'allen'} and prints what BaaS.invoke resolves
// with, {"code":0,"data":"hello allen","error":{}}.
//
// It runs against an embedded emulator; set MINCLOUD_CLIENT_ID (and
// MINCLOUD_HOST) to call a real app instead.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"

	"github.com/mincloud-go/baas/examples/internal/appsetup"
)

func main() {
	c, _, done, err := appsetup.Client()
	if err != nil {
		log.Fatal(err)
	}
	defer done()

	res, err := c.Invoke(context.Background(), "helloWorld", map[string]any{"name": "allen"}, true)
	if err != nil {
		log.Fatal(err) // an *baas.HError: the call itself failed
	}
	out, err := json.Marshal(res)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(out))
	if res.Code != 0 {
		log.Fatalf("helloWorld failed: %s", res.Error.Message)
	}
}
