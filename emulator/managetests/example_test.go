package managetests_test

import (
	"context"
	"fmt"
	"log"

	"github.com/mincloud-go/baas"
	"github.com/mincloud-go/baas/emulator"
	"github.com/mincloud-go/baas/function"
	"github.com/mincloud-go/baas/manage"
)

// openAPI starts an emulator with one function and returns an Open API
// client for it, so that the examples run offline.
func openAPI() (*emulator.Server, *baas.Client) {
	srv := emulator.New()
	srv.Register("helloWorld", func(ctx context.Context, ev *function.Event) (any, error) {
		var p struct {
			Name string `json:"name"`
		}
		_ = ev.Decode(&p)
		function.Logger(ctx).Info("greeting " + p.Name)
		return "hello " + p.Name, nil
	})
	c, err := srv.Client(baas.WithClientSecret(srv.ClientSecret))
	if err != nil {
		log.Fatal(err)
	}
	return srv, c
}

func ExampleService_Debug() {
	srv, c := openAPI()
	defer srv.Close()

	run, err := manage.New(c).Debug(context.Background(), "helloWorld", map[string]string{"name": "allen"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(run.Result.String())
	fmt.Println(len(run.LogLines()), "log line; job id set:", run.JobID != 0)
	// Output:
	// {"code":0,"data":"hello allen","error":{}}
	// 1 log line; job id set: true
}

func ExampleService_Jobs() {
	srv, c := openAPI()
	defer srv.Close()
	ctx := context.Background()
	for _, name := range []string{"a", "b", "c"} {
		if _, err := c.Invoke(ctx, "helloWorld", map[string]string{"name": name}, true); err != nil {
			log.Fatal(err)
		}
	}

	// The history comes newest first, page after page as the loop reads.
	n := 0
	for job, err := range manage.New(c).Jobs(ctx, "helloWorld", manage.JobFilter{Source: "open_api", PageSize: 2}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(job.Status, job.ServiceType)
		n++
	}
	fmt.Println(n, "jobs")
	// Output:
	// fulfilled time_sensitive
	// fulfilled time_sensitive
	// fulfilled time_sensitive
	// 3 jobs
}

func ExampleService_Create() {
	srv, c := openAPI()
	defer srv.Close()
	ctx := context.Background()
	fns := manage.New(c)

	f, err := fns.Create(ctx, manage.Function{Name: "fromJS", Code: "exports.main = (event, cb) => cb(null, 1)"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("created", f.Name)
	if err := fns.Delete(ctx, "fromJS"); err != nil {
		log.Fatal(err)
	}
	_, err = fns.Get(ctx, "fromJS")
	fmt.Println(err)
	// Output:
	// created fromJS
	// 404: Cloud function "fromJS" not found.
}
