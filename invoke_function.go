package baas

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
)

// Response is the whole HTTP answer to a call, as the deprecated
// invokeFunction resolved with it: the status, the headers, the body as
// received, and the decoded Result in Data (the JS response's .data).
type Response struct {
	StatusCode int         `json:"status"`
	Header     http.Header `json:"headers"`
	Body       []byte      `json:"-"`
	Data       *Result     `json:"data"`

	secrets []string // what Unmarshal's errors must not quote
}

// Unmarshal decodes the body as JSON into v. A body that does not fit is
// an *HError saying what came back, as for any unexpected answer.
func (r *Response) Unmarshal(v any) error {
	if err := json.Unmarshal(r.Body, v); err != nil {
		return unexpectedBody(r.StatusCode, r.Header, r.Body, r.secrets, err)
	}
	return nil
}

// InvokeFunction calls the function as [Client.Invoke] does and returns
// the whole HTTP answer with the Result inside.
//
// Deprecated: use Invoke.
func (c *Client) InvokeFunction(ctx context.Context, name string, params any, sync bool) (*Response, error) {
	res, ans, err := c.invoke(ctx, OpInvokeFunction, name, params, sync)
	if err != nil {
		return nil, err
	}
	// Data's fields may point into the body as read: Body gets a copy of
	// its own, so that changing one never changes the other.
	return &Response{StatusCode: ans.status, Header: ans.header, Body: bytes.Clone(ans.body), Data: res, secrets: c.redactions()}, nil
}
