package baas_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/mincloud-go/baas"
)

// platform starts a server answering as the platform does for helloWorld,
// so that the examples run offline.
func platform() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		switch string(body) {
		case `{"function_name":"helloWorld","sync":true,"data":{"name":"allen"}}`:
			io.WriteString(w, `{"code":0,"data":"hello allen","error":{}}`)
		case `{"function_name":"helloWorld","sync":false,"data":{"name":"allen"}}`:
			io.WriteString(w, `{"status":"ok"}`)
		case `{"function_name":"divide","sync":true,"data":{"a":1,"b":0}}`:
			io.WriteString(w, `{"code":1,"data":null,"error":{"message":"division by zero","type":"RangeError"}}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"status":"error","error_msg":"function not found"}`)
		}
	}))
}

func ExampleClient_Invoke() {
	srv := platform()
	defer srv.Close()

	c, err := baas.New(baas.WithClientID("your-client-id"), baas.WithHost(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	res, err := c.Invoke(context.Background(), "helloWorld", map[string]any{"name": "allen"}, true)
	if err != nil {
		log.Fatal(err) // the call failed: an *baas.HError
	}
	if res.Code != 0 {
		log.Fatal(res.Error.Message) // the function failed
	}
	fmt.Println(res)
	// Output: {"code":0,"data":"hello allen","error":{}}
}

func ExampleClient_Invoke_async() {
	srv := platform()
	defer srv.Close()

	c, _ := baas.New(baas.WithClientID("your-client-id"), baas.WithHost(srv.URL))
	res, err := c.Invoke(context.Background(), "helloWorld", map[string]any{"name": "allen"}, false)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res, res.IsAck())
	// Output: {"status":"ok"} true
}

func ExampleInvokeAs() {
	srv := platform()
	defer srv.Close()

	c, _ := baas.New(baas.WithClientID("your-client-id"), baas.WithHost(srv.URL))
	greeting, err := baas.InvokeAs[string](context.Background(), c, "helloWorld", map[string]any{"name": "allen"})
	fmt.Println(greeting, err)

	// A function failure comes back as a *baas.FunctionError.
	_, err = baas.InvokeAs[float64](context.Background(), c, "divide", map[string]int{"a": 1, "b": 0})
	var fe *baas.FunctionError
	if errors.As(err, &fe) {
		fmt.Println(fe.Code, fe.Type, fe.Message)
	}
	// Output:
	// hello allen <nil>
	// 1 RangeError division by zero
}

func ExampleInvoke() {
	srv := platform()
	defer srv.Close()

	// BaaS.init, then BaaS.invoke. Inside a cloud function neither Init
	// nor any set-up is needed: the context carries the client.
	if err := baas.Init(baas.WithClientID("your-client-id"), baas.WithHost(srv.URL)); err != nil {
		log.Fatal(err)
	}
	res, err := baas.Invoke(context.Background(), "helloWorld", map[string]any{"name": "allen"}, true)
	if err != nil {
		log.Fatal(err)
	}
	var greeting string
	if err := res.Decode(&greeting); err != nil {
		log.Fatal(err)
	}
	fmt.Println(greeting)
	// Output: hello allen
}

func ExampleHError() {
	srv := platform()
	defer srv.Close()

	c, _ := baas.New(baas.WithClientID("your-client-id"), baas.WithHost(srv.URL))
	_, err := c.Invoke(context.Background(), "doesNotExist", nil, true)
	var he *baas.HError
	if errors.As(err, &he) {
		fmt.Println(he.Code, he.Message)
		fmt.Println(err)
	}

	_, err = c.Invoke(context.Background(), "", nil, true)
	fmt.Println(err)
	// Output:
	// 404 function not found
	// 404: function not found
	// 605: incorrect parameter type: function name is empty
}
