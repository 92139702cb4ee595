package baas

import (
	"context"
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
}

// InvokeFunction calls the function as [Client.Invoke] does and returns
// the whole HTTP answer with the Result inside.
//
// Deprecated: use Invoke.
func (c *Client) InvokeFunction(ctx context.Context, name string, params any, sync bool) (*Response, error) {
	res, ans, err := c.invoke(ctx, name, params, sync)
	if err != nil {
		return nil, err
	}
	return &Response{StatusCode: ans.status, Header: ans.header, Body: ans.body, Data: res}, nil
}
