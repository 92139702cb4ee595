// Command chain invokes the function chain, which itself invokes
// helloWorld from inside with the function's own credentials, as
// BaaS.invoke does inside a cloud function.
package main

import (
	"context"
	"fmt"
	"log"

	"github.com/mincloud-go/baas"
	"github.com/mincloud-go/baas/examples/internal/appsetup"
)

func main() {
	c, srv, done, err := appsetup.Client()
	if err != nil {
		log.Fatal(err)
	}
	defer done()

	said, err := baas.InvokeAs[string](context.Background(), c, "chain", map[string]string{"name": "allen"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(said)

	if srv != nil { // the emulator shows who called whom
		for _, j := range srv.Jobs() {
			fmt.Printf("job %s: source %s, %s\n", j.Function, j.Source, j.Status)
		}
	}
}
