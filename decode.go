package baas

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// decodeResult fills r from an answer in one pass over its top-level
// members: code, data, error and status are taken straight from their
// bytes in the common forms, anything unusual goes through encoding/json,
// and unknown keys are kept in Extra. The answer must be a JSON object
// with a code or a status.
//
// With owned, b belongs to r from now on (a body nothing else holds): Data
// and Extra point into it instead of copying out of it, which for a large
// answer halves the memory. Without, they are copies, as json.Unmarshaler
// requires.
func decodeResult(b []byte, r *Result, owned bool) error {
	*r = Result{}
	if !json.Valid(b) {
		var v any
		return json.Unmarshal(b, &v) // says where and why
	}
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 || b[0] != '{' {
		return errors.New("answer is not a JSON object")
	}
	var hasCode, hasStatus bool
	err := eachMember(b, func(rawKey, val []byte) error {
		key, err := memberKey(rawKey)
		if err != nil {
			return err
		}
		switch key {
		case "code":
			hasCode = true
			if n, err := strconv.Atoi(string(val)); err == nil {
				r.Code = n
				return nil
			}
			return keyError(key, json.Unmarshal(val, &r.Code))
		case "data":
			if string(val) == "null" {
				r.Data = nil
			} else {
				r.Data = keep(val, owned)
			}
		case "error":
			switch string(val) {
			case "{}":
				r.Error = &FunctionError{}
			case "null":
				r.Error = nil
			default:
				return keyError(key, json.Unmarshal(val, &r.Error))
			}
		case "status":
			hasStatus = true
			return keyError(key, json.Unmarshal(val, &r.Status))
		default:
			if r.Extra == nil {
				r.Extra = make(map[string]json.RawMessage)
			}
			r.Extra[key] = keep(val, owned)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !hasCode && !hasStatus {
		return errors.New(`answer has neither "code" nor "status"`)
	}
	return nil
}

// keep returns v itself when the answer is owned (capped, so that an
// append cannot write over the rest of the body), else a copy.
func keep(v []byte, owned bool) []byte {
	if owned {
		return v[:len(v):len(v)]
	}
	return bytes.Clone(v)
}

func keyError(key string, err error) error {
	if err != nil {
		return fmt.Errorf("key %q: %w", key, err)
	}
	return nil
}

// memberKey returns a member's key from its quoted bytes, through
// encoding/json only when it has an escape or invalid UTF-8 to mend.
func memberKey(quoted []byte) (string, error) {
	inner := quoted[1 : len(quoted)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner), nil
	}
	var k string
	err := json.Unmarshal(quoted, &k)
	return k, err
}

// eachMember calls fn with each top-level member of the object b: its key
// as quoted bytes and its value's bytes. b must be valid JSON (the caller
// checks) starting with '{'.
func eachMember(b []byte, fn func(key, val []byte) error) error {
	i := skipSpace(b, 1)
	for i < len(b) && b[i] != '}' {
		ks := i
		i = skipString(b, i)
		key := b[ks:i]
		i = skipSpace(b, i)
		i = skipSpace(b, i+1) // past ':'
		vs := i
		i = skipValue(b, i)
		if err := fn(key, b[vs:i]); err != nil {
			return err
		}
		i = skipSpace(b, i)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index just past the string starting at b[i].
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}

// skipValue returns the index just past the value starting at b[i].
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return i
	}
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' &&
		b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
		i++
	}
	return i
}
