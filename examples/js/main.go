// Command js runs the seed page's JavaScript functions, unchanged, in an
// embedded emulator: it serves the functions folder (helloWorld.js and
// callHelloWorld.js, which calls helloWorld with BaaS.invoke), invokes
// callHelloWorld and prints {"code":0,"data":"hello allen","error":{}};
// then it calls productCounter twice, a function that keeps a count in
// the table "product" of the emulator's own database, and prints its
// answers, views 1 then views 2.
//
// It needs Node.js (node on PATH, or MINCLOUD_NODE). The folder is the
// first argument, else functions/ beside this file's folder as seen from
// the working directory.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"

	"github.com/mincloud-go/baas"
	"github.com/mincloud-go/baas/emulator"
)

func main() {
	if err := run(); err != nil {
		log.Fatal(err) // after run's deferred Close has stopped the Node workers
	}
}

func run() error {
	dir, err := functionsDir()
	if err != nil {
		return err
	}
	srv := emulator.New()
	defer srv.Close()
	if _, err := srv.LoadDir(dir); err != nil {
		return err // e.g. Node.js is not installed
	}
	c, err := srv.Client()
	if err != nil {
		return err
	}
	if err := invokeAndPrint(c, "callHelloWorld", nil); err != nil {
		return err
	}
	for range 2 {
		if err := invokeAndPrint(c, "productCounter", map[string]string{"name": "pen"}); err != nil {
			return err
		}
	}
	return nil
}

// invokeAndPrint calls a function synchronously and prints its answer as
// the platform sent it.
func invokeAndPrint(c *baas.Client, name string, params any) error {
	res, err := c.Invoke(context.Background(), name, params, true)
	if err != nil {
		return err
	}
	out, err := json.Marshal(res)
	if err != nil {
		return err
	}
	fmt.Println(string(out))
	return nil
}

// functionsDir finds the functions folder whether the program runs from
// the module's root, from examples/ or from examples/js/.
func functionsDir() (string, error) {
	if len(os.Args) > 1 {
		return os.Args[1], nil
	}
	for _, d := range []string{"functions", "js/functions", "examples/js/functions"} {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d, nil
		}
	}
	return "", fmt.Errorf("no functions folder found: give its path, e.g. %s examples/js/functions", os.Args[0])
}
