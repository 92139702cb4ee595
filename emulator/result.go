package emulator

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/mincloud-go/baas/emulator/internal/jsjson"
)

// Result is how a job ended, as the emulator records it. It is the
// emulator's own type, not the client's baas.Result, so that the fake
// never shares the types of the client it tests.
type Result struct {
	// Code is 0 when the function succeeded and 1 when it failed.
	Code int
	// Data is what the function returned, as JSON; nil when it failed.
	Data json.RawMessage
	// Error says why the function failed; nil on success.
	Error *FunctionError
}

// FunctionError is why a function failed, as the platform reports it.
type FunctionError struct {
	Type    string // "Error", "TypeError", "TimeoutError", ...
	Message string
	Stack   string // at least "<Type>: <Message>"
}

// String returns the result as a sync call's answer carries it:
// {"code":0,"data":...,"error":{}}.
func (r *Result) String() string {
	b, err := r.MarshalJSON()
	if err != nil { // cannot happen: Data was encoded by the emulator
		return fmt.Sprintf("<invalid Result: %v>", err)
	}
	return string(b)
}

// MarshalJSON writes the result as a sync call's answer carries it.
func (r Result) MarshalJSON() ([]byte, error) { return jsjson.Marshal(resultOf(&r)) }

// size is the bytes the result holds, counted against the records' cap.
func (r *Result) size() int64 {
	if r == nil {
		return 0
	}
	n := int64(len(r.Data))
	if e := r.Error; e != nil {
		n += int64(len(e.Type) + len(e.Message) + len(e.Stack))
	}
	return n
}

// failure is a code-1 result. A missing stack is given the first line a
// JS stack has, "<type>: <message>".
func failure(typ, msg, stack string) *Result {
	if stack == "" {
		stack = typ + ": " + msg
	}
	return &Result{Code: 1, Error: &FunctionError{Message: msg, Type: typ, Stack: stack}}
}

func timedOut(limit time.Duration) *Result {
	return failure("TimeoutError", fmt.Sprintf("function timed out after %d ms", limit.Milliseconds()), "")
}
