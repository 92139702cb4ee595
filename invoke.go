package baas

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"sync"
)

// Result is what BaaS.invoke resolves with: the function's outcome, or for
// an async call the acknowledgement that the job was queued.
//
// It marshals back to the JSON the platform sent: {"code","data","error"}
// for a sync call, {"status":"ok"} for an async one, with any other keys
// the platform added.
type Result struct {
	// Code is 0 when the function ran and succeeded; non-zero (1 in
	// practice) when the function itself failed.
	Code int `json:"code"`
	// Data is what the function returned, kept as raw JSON so that nothing
	// is lost (big numbers, key order). Use [Result.Decode] to read it.
	Data json.RawMessage `json:"data"`
	// Error says why the function failed; it is empty ({} on the wire) on
	// success and nil when the platform sent none.
	Error *FunctionError `json:"error"`
	// Status is "ok" for an async call's acknowledgement, else empty.
	Status string `json:"status,omitempty"`
	// Extra holds any other top-level keys of the answer (job_id, ...).
	Extra map[string]json.RawMessage `json:"-"`
}

// IsAck reports whether r is an async call's acknowledgement, not a
// function's outcome.
func (r *Result) IsAck() bool {
	return r.Status != "" && r.Code == 0 && r.Data == nil && r.Error == nil
}

// Err returns nil when the function succeeded, else a *FunctionError
// holding the platform's error and the code.
func (r *Result) Err() error {
	if r.Code == 0 {
		return nil
	}
	fe := FunctionError{}
	if r.Error != nil {
		fe = *r.Error
	}
	fe.Code = r.Code
	return &fe
}

// Decode unmarshals the function's data into v. Data that is absent or
// null leaves v as it is. Data that does not fit v is a *DecodeError, not
// an HError: the call worked and the function ran.
func (r *Result) Decode(v any) error {
	if len(r.Data) == 0 {
		return nil
	}
	if err := json.Unmarshal(r.Data, v); err != nil {
		return &DecodeError{Type: fmt.Sprintf("%T", v), Err: err}
	}
	return nil
}

// String returns r as JSON, as JSON.stringify would print what BaaS.invoke
// resolved with. Unlike json.Marshal, it leaves <, > and & unescaped.
func (r *Result) String() string {
	b, err := r.MarshalJSON()
	if err != nil {
		return fmt.Sprintf("<invalid Result: %v>", err)
	}
	return string(b)
}

// MarshalJSON writes r as the platform sent it.
func (r Result) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.Grow(len(r.Data) + 48)
	b.WriteByte('{')
	if r.IsAck() {
		b.WriteString(`"status":`)
		writeJSON(&b, r.Status)
	} else {
		b.WriteString(`"code":`)
		b.WriteString(strconv.Itoa(r.Code))
		b.WriteString(`,"data":`)
		if len(r.Data) == 0 {
			b.WriteString("null")
		} else if err := json.Compact(&b, r.Data); err != nil {
			return nil, err
		}
		b.WriteString(`,"error":`)
		if r.Error.IsZero() {
			b.WriteString("{}")
		} else if err := writeJSON(&b, r.Error); err != nil {
			return nil, err
		}
		if r.Status != "" {
			b.WriteString(`,"status":`)
			writeJSON(&b, r.Status)
		}
	}
	if err := writeExtra(&b, r.Extra, true); err != nil {
		return nil, err
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads an answer: a JSON object with code (and data,
// error) or status; other keys go to Extra.
func (r *Result) UnmarshalJSON(b []byte) error {
	return decodeResult(b, r, false)
}

// FunctionError is a function's own failure, as the platform reports it in
// Result.Error. It is not an [HError]: the call itself worked.
type FunctionError struct {
	// Code is the Result's code; set by [Result.Err], not sent by the
	// platform inside the error.
	Code int `json:"-"`
	// Message is the error's text (an Error's message, or the string the
	// function passed to callback).
	Message string `json:"message,omitempty"`
	// Type is the JS error's class, e.g. "SyntaxError".
	Type string `json:"type,omitempty"`
	// Stack is the JS stack trace, when sent.
	Stack string `json:"stack,omitempty"`
	// Extra holds any other keys the platform sent.
	Extra map[string]json.RawMessage `json:"-"`
}

// Error returns the function's message.
func (e *FunctionError) Error() string {
	switch {
	case e.Message != "":
		return e.Message
	case e.Type != "":
		return e.Type
	}
	return "cloud function failed with code " + strconv.Itoa(e.Code)
}

// IsZero reports whether e carries nothing, as the {} sent on success.
func (e *FunctionError) IsZero() bool {
	return e == nil || (e.Message == "" && e.Type == "" && e.Stack == "" && len(e.Extra) == 0)
}

// MarshalJSON writes e with its extra keys.
func (e FunctionError) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	for _, kv := range [...]struct{ k, v string }{{"message", e.Message}, {"type", e.Type}, {"stack", e.Stack}} {
		if kv.v == "" {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		writeJSON(&b, kv.k)
		b.WriteByte(':')
		writeJSON(&b, kv.v)
	}
	if err := writeExtra(&b, e.Extra, !first); err != nil {
		return nil, err
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads the platform's error object; a bare string, which a
// function may pass to its callback, becomes the message.
func (e *FunctionError) UnmarshalJSON(b []byte) error {
	*e = FunctionError{}
	if bytes.Equal(b, []byte("{}")) { // success, the common case
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &e.Message)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return err
	}
	for k, v := range fields {
		var dst *string
		switch k {
		case "message":
			dst = &e.Message
		case "type":
			dst = &e.Type
		case "stack":
			dst = &e.Stack
		}
		if dst != nil && json.Unmarshal(v, dst) == nil {
			continue
		}
		// A key that is not a string where one is expected is kept as sent.
		if e.Extra == nil {
			e.Extra = make(map[string]json.RawMessage)
		}
		e.Extra[k] = v
	}
	return nil
}

// writeJSON appends v as JSON without HTML escaping, as JSON.stringify
// writes it.
func writeJSON(b *bytes.Buffer, v any) error {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	b.Truncate(b.Len() - 1) // Encode's newline
	return nil
}

// writeString appends s as a JSON string, directly when it needs no
// escaping (a function name, nearly always).
func writeString(b *bytes.Buffer, s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
			writeJSON(b, s)
			return
		}
	}
	b.WriteByte('"')
	b.WriteString(s)
	b.WriteByte('"')
}

// writeExtra appends extra's keys in sorted order, each preceded by a comma
// when comma is set or it is not the first.
func writeExtra(b *bytes.Buffer, extra map[string]json.RawMessage, comma bool) error {
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if comma {
			b.WriteByte(',')
		}
		comma = true
		writeJSON(b, k)
		b.WriteByte(':')
		if err := json.Compact(b, extra[k]); err != nil {
			return err
		}
	}
	return nil
}

// scratch recycles the buffers bodies are encoded in. A body itself is
// never recycled: net/http may still be writing it after the call returned
// (a server that answers before reading it), so each call sends a copy of
// its own.
var scratch = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// scratchCap is the largest buffer kept for reuse: a rare huge body must
// not stay in the pool.
const scratchCap = 64 << 10

// jobBody returns the body of a call, in memory of its own.
func jobBody(name string, params any, sync bool) ([]byte, error) {
	buf := scratch.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= scratchCap {
			scratch.Put(buf)
		}
	}()
	if err := encodeJob(buf, name, params, sync); err != nil {
		return nil, err
	}
	return bytes.Clone(buf.Bytes()), nil
}

// encodeJob writes the body BaaS.invoke sends, keys in its order:
// {"function_name":name,"sync":sync,"data":params}, data left out when
// params is nil as the official SDK leaves it out for undefined.
func encodeJob(b *bytes.Buffer, name string, params any, sync bool) error {
	b.WriteString(`{"function_name":`)
	writeString(b, name)
	b.WriteString(`,"sync":`)
	b.WriteString(strconv.FormatBool(sync))
	if params != nil {
		b.WriteString(`,"data":`)
		if err := writeJSON(b, params); err != nil {
			return badParam("params cannot be encoded as JSON: %w", err)
		}
	}
	b.WriteByte('}')
	return nil
}

// Invoke calls the cloud function name with params, as BaaS.invoke does,
// and returns what it answered.
//
// With sync true it waits for the function (5 s at most by default) and
// the Result holds its code, data and error; a failed function is a Result
// with a non-zero Code, not an error. With sync false the job is only
// queued (300 s deadline) and the Result has Status "ok".
//
// params may be nil (no data is sent), any value encoding/json accepts, or
// a json.RawMessage sent as it is. An empty name, params JSON cannot
// encode or a nil ctx fail with 605 and send nothing.
func (c *Client) Invoke(ctx context.Context, name string, params any, sync bool) (*Result, error) {
	res, _, err := c.invoke(ctx, OpInvoke, name, params, sync)
	return res, err
}

// invoke is Invoke, also returning the answer it decoded; op names the
// method called, for the Observer.
func (c *Client) invoke(ctx context.Context, op Operation, name string, params any, sync bool) (*Result, *answer, error) {
	if name == "" {
		return nil, nil, errEmptyName()
	}
	if ctx == nil {
		return nil, nil, errNilContext()
	}
	body, err := jobBody(name, params, sync)
	if err != nil {
		return nil, nil, err
	}
	res := new(Result)
	ex := exchange{fn: name, op: op, sync: sync, method: "POST", url: c.invokeURL, body: body, into: res, timeout: c.cfg.syncTimeout,
		limit: "the sync call limit, WithSyncTimeout", bearer: c.tokens != nil}
	if !sync {
		ex.timeout, ex.limit = c.cfg.asyncTimeout, "the async call limit, WithAsyncTimeout"
	}
	ans, err := c.send(ctx, ex)
	if err != nil {
		return nil, nil, err
	}
	return res, ans, nil
}

// InvokeAs calls the function synchronously and decodes its data into a T.
// A function failure (code non-zero) is returned as a *FunctionError, so a
// nil error means the function ran and succeeded; data that does not fit a
// T is a *DecodeError (the function ran, and succeeded). A nil client means
// the default client, as the package-level [Invoke].
func InvokeAs[T any](ctx context.Context, c *Client, name string, params any) (T, error) {
	var out T
	var res *Result
	var err error
	if c == nil {
		res, err = Invoke(ctx, name, params, true)
	} else {
		res, err = c.Invoke(ctx, name, params, true)
	}
	if err != nil {
		return out, err
	}
	if err := res.Err(); err != nil {
		return out, err
	}
	err = res.Decode(&out)
	return out, err
}
