package emulator_test

import (
	"context"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/mincloud-go/baas"
	"github.com/mincloud-go/baas/emulator"
	"github.com/mincloud-go/baas/function"
)

func Example() {
	srv := emulator.New()
	defer srv.Close()
	srv.Register("helloWorld", func(ctx context.Context, ev *function.Event) (any, error) {
		var p struct {
			Name string `json:"name"`
		}
		if err := ev.Decode(&p); err != nil {
			return nil, err
		}
		return "hello " + p.Name, nil
	})

	c, err := srv.Client()
	if err != nil {
		log.Fatal(err)
	}
	res, err := c.Invoke(context.Background(), "helloWorld", map[string]any{"name": "allen"}, true)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res)
	// Output: {"code":0,"data":"hello allen","error":{}}
}

func ExampleServer_Jobs() {
	srv := emulator.New()
	defer srv.Close()
	srv.Register("report", func(ctx context.Context, ev *function.Event) (any, error) {
		function.Logger(ctx).Info("building the report", "rows", 3)
		return "done", nil
	})
	c, _ := srv.Client()
	if _, err := c.Invoke(context.Background(), "report", nil, false); err != nil {
		log.Fatal(err)
	}

	// An async call answers at once; wait for the job, then read it.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Wait(ctx); err != nil {
		log.Fatal(err)
	}
	for _, j := range srv.Jobs() {
		_, line, _ := strings.Cut(j.Log[0], " ") // drop the time
		fmt.Println(j.Function, j.Source, j.Status, j.Result)
		fmt.Println(line)
	}
	// Output:
	// report sdk fulfilled {"code":0,"data":"done","error":{}}
	// INFO building the report rows=3
}

func ExampleServer_IssueUserToken() {
	srv := emulator.New()
	defer srv.Close()
	srv.Register("whoami", func(ctx context.Context, ev *function.Event) (any, error) {
		return ev.Request.User.Nickname, nil
	})
	token := srv.IssueUserToken(function.User{ID: 42, Nickname: "allen"})
	c, _ := srv.Client(baas.WithAuthToken(token))
	name, err := baas.InvokeAs[string](context.Background(), c, "whoami", nil)
	fmt.Println(name, err)
	// Output: allen <nil>
}
