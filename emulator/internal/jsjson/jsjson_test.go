package jsjson

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// failing is a value whose encoding fails.
type failing struct{}

func (failing) MarshalJSON() ([]byte, error) { return nil, errors.New("no JSON here") }

func TestMarshalWritesAsJSONStringifyDoes(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		// JSON.stringify('<a href="x">&</a>') leaves them as they are;
		// encoding/json alone would write \u003c, \u003e and \u0026.
		{"HTML characters unescaped", `<a href="x">&</a>`, `"<a href=\"x\">&</a>"`},
		{"no newline after it", map[string]int{"n": 1}, `{"n":1}`},
		{"map keys sorted", map[string]int{"b": 2, "a": 1}, `{"a":1,"b":2}`},
		// Both parse to the same string; the stored records hold the
		// escaped form, so it must stay.
		{"line and paragraph separators escaped", "a\u2028b\u2029c", `"a\u2028b\u2029c"`},
		{"invalid UTF-8 replaced", "a\xffb", `"a\ufffdb"`},
		{"raw JSON compacted", json.RawMessage("{ \"a\" : [1, 2] }"), `{"a":[1,2]}`},
		{"null", nil, `null`},
		{"struct fields by tag", struct {
			A string `json:"a"`
			B int    `json:"b,omitempty"`
		}{A: "x"}, `{"a":"x"}`},
	} {
		got, err := Marshal(tc.v)
		require.NoError(t, err, tc.name)
		assert.Equal(t, tc.want, string(got), tc.name)
	}
}

func TestMarshalErrors(t *testing.T) {
	_, err := Marshal(failing{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no JSON here")
	_, err = Marshal(func() {})
	assert.Error(t, err, "a func has no JSON")
}

// The buffer is reused: a result must not change when the next call
// writes into it.
func TestMarshalResultIsTheCallersOwn(t *testing.T) {
	first, err := Marshal("first")
	require.NoError(t, err)
	_, err = Marshal(strings.Repeat("x", 100))
	require.NoError(t, err)
	assert.Equal(t, `"first"`, string(first))
}
