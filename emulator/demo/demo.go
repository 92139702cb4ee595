// Package demo holds the example cloud functions the examples and
// `mincloud serve` register: helloWorld (the seed page's), echo, slow,
// fail and chain.
package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/mincloud-go/baas"
	"github.com/mincloud-go/baas/emulator"
	"github.com/mincloud-go/baas/function"
)

// Register registers every demo function on srv.
func Register(srv *emulator.Server) {
	srv.Register("helloWorld", HelloWorld)
	srv.Register("echo", Echo)
	srv.Register("slow", Slow)
	srv.Register("fail", Fail)
	srv.Register("chain", Chain)
}

// HelloWorld is the seed page's function: it logs the event and answers
// "hello <name>".
func HelloWorld(ctx context.Context, ev *function.Event) (any, error) {
	function.Logger(ctx).Info("event", "eventType", ev.EventType, "jobId", ev.JobID)
	var p struct {
		Name string `json:"name"`
	}
	if err := ev.Decode(&p); err != nil {
		return nil, &function.Error{Type: "TypeError", Message: "params must be an object: " + err.Error()}
	}
	return "hello " + p.Name, nil
}

// Echo answers with the params it was given, or null without any.
func Echo(ctx context.Context, ev *function.Event) (any, error) {
	if !ev.HasData() {
		return nil, nil
	}
	return ev.Data, nil
}

// Slow waits {"ms": n} milliseconds (1000 by default), or until its
// deadline, and answers "done".
func Slow(ctx context.Context, ev *function.Event) (any, error) {
	p := struct {
		MS int `json:"ms"`
	}{MS: 1000}
	if err := ev.Decode(&p); err != nil {
		return nil, err
	}
	function.Logger(ctx).Info(fmt.Sprintf("sleeping %d ms", p.MS))
	select {
	case <-time.After(time.Duration(p.MS) * time.Millisecond):
		function.Logger(ctx).Info("woke up")
		return "done", nil
	case <-ctx.Done():
		function.Logger(ctx).Warn("deadline reached")
		return nil, ctx.Err()
	}
}

// Fail always fails, with {"message": text} or a default message.
func Fail(ctx context.Context, ev *function.Event) (any, error) {
	p := struct {
		Message string `json:"message"`
	}{Message: "something went wrong"}
	_ = ev.Decode(&p)
	function.Logger(ctx).Error(p.Message)
	return nil, &function.Error{Type: "Error", Message: p.Message}
}

// Chain calls helloWorld from inside a function, with the function's own
// credentials, and passes its answer on.
func Chain(ctx context.Context, ev *function.Event) (any, error) {
	params := json.RawMessage(`{"name":"chain"}`)
	if ev.HasData() {
		params = ev.Data
	}
	res, err := baas.Invoke(ctx, "helloWorld", params, true)
	if err != nil {
		return nil, err
	}
	if err := res.Err(); err != nil {
		return nil, err
	}
	var greeting string
	if err := res.Decode(&greeting); err != nil {
		return nil, err
	}
	function.Logger(ctx).Info("helloWorld answered " + greeting)
	return "helloWorld said: " + greeting, nil
}
