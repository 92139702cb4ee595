// Package jsjson writes JSON as the emulator answers it and stores it:
// as JavaScript's JSON.stringify writes it (no HTML escaping, no newline
// after it), so that a function's result, a record and a data API answer
// carry the bytes a Node function would have produced. One encoder for
// every caller, because the datastore compares stored JSON by its bytes:
// two encoders drifting apart would make equal values unequal.
package jsjson

import (
	"bytes"
	"encoding/json"
	"sync"
)

// Marshal encodes v as encoding/json does, but for two rules that make
// it JSON.stringify's: <, > and & are written as they are, and no newline
// follows. What is left of encoding/json's own rules stays: map keys
// sorted, U+2028 and U+2029 written \u2028 and \u2029, invalid UTF-8
// written as U+FFFD, a json.RawMessage compacted. The bytes returned are
// the caller's own.
func Marshal(v any) ([]byte, error) {
	b := buffers.Get().(*bytes.Buffer)
	defer putBuffer(b)
	b.Reset()
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.Clone(bytes.TrimSuffix(b.Bytes(), []byte("\n"))), nil
}

// maxPooled is the largest buffer kept for reuse: one huge result must
// not stay held by the pool.
const maxPooled = 64 << 10

var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func putBuffer(b *bytes.Buffer) {
	if b.Cap() <= maxPooled {
		buffers.Put(b)
	}
}
