package baas

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// referenceDecode is the plain encoding/json reading of an answer that
// decodeResult's one-pass scan must agree with.
func referenceDecode(b []byte) (*Result, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return nil, err
	}
	if fields == nil {
		return nil, errNull
	}
	r := &Result{}
	_, hasCode := fields["code"]
	_, hasStatus := fields["status"]
	for k, v := range fields {
		var err error
		switch k {
		case "code":
			err = json.Unmarshal(v, &r.Code)
		case "data":
			if !bytes.Equal(v, []byte("null")) {
				r.Data = v
			}
		case "error":
			err = json.Unmarshal(v, &r.Error)
		case "status":
			err = json.Unmarshal(v, &r.Status)
		default:
			if r.Extra == nil {
				r.Extra = map[string]json.RawMessage{}
			}
			r.Extra[k] = v
		}
		if err != nil {
			return nil, err
		}
	}
	if !hasCode && !hasStatus {
		return nil, errNull
	}
	return r, nil
}

var errNull = assert.AnError

var decodeSeeds = []string{
	`{"code":0,"data":"hello allen","error":{}}`,
	`{"code":1,"data":null,"error":{"message":"boom","type":"Error","stack":"a\nb"}}`,
	`{"status":"ok"}`,
	` { "code" : 0 , "data" : { "a" : [1, {"b": "}"}] } , "error" : { } } `,
	`{"code":0,"data":"a\"b\\","error":{},"job_id":12,"nested":{"x":[1,2]}}`,
	`{"c\u006fde":3,"data":true}`,
	`{"code":1.5}`,
	`{"code":"0"}`,
	`{"code":0,"error":"plain"}`,
	`{"code":0,"code":2}`,
	`{"status":1}`,
	`{"data":1}`,
	`[1,2]`,
	`null`,
	`{"code":0,"data":12345678901234567890,"error":null}`,
	`{"code":-3,"data":[],"error":{"message":1}}`,
	`{}`,
	`{"code":0,"data":"\u4f60\u597d","error":{}}`,
}

func checkDecode(t *testing.T, in []byte) {
	for _, owned := range []bool{false, true} {
		checkDecodeMode(t, bytes.Clone(in), owned)
	}
}

func checkDecodeMode(t *testing.T, in []byte, owned bool) {
	want, wantErr := referenceDecode(in)
	var got Result
	gotErr := decodeResult(in, &got, owned)
	if wantErr != nil {
		require.Error(t, gotErr, "%s", in)
		return
	}
	require.NoError(t, gotErr, "%s", in)
	assert.Equal(t, want.Code, got.Code, "%s", in)
	assert.Equal(t, string(want.Data), string(got.Data), "%s", in)
	assert.Equal(t, want.Error, got.Error, "%s", in)
	assert.Equal(t, want.Status, got.Status, "%s", in)
	assert.Equal(t, len(want.Extra), len(got.Extra), "%s", in)
	for k, v := range want.Extra {
		assert.Equal(t, string(v), string(got.Extra[k]), "%s", in)
	}
}

func TestDecodeAgreesWithEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, s := range decodeSeeds {
		checkDecode(t, []byte(s))
	}
}

func FuzzDecodeResult(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkDecode(t, in)
	})
}
