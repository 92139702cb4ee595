package emulator_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mincloud-go/baas/emulator"
)

// authorize runs step one with hc and returns the final status and body,
// and how many redirects were followed.
func authorize(t *testing.T, srv *emulator.Server, hc *http.Client, secret string) (int, string, int) {
	t.Helper()
	hops := 0
	c := *hc
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		hops = len(via)
		return nil
	}
	body, _ := json.Marshal(map[string]string{"client_id": srv.ClientID, "client_secret": secret})
	resp, err := c.Post(srv.URL+"/api/oauth2/hydrogen/openapi/authorize/", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), hops
}

func TestAuthorizeNeedsCookiesAcrossTwoRedirects(t *testing.T) {
	t.Parallel()
	srv, _ := setup(t)
	jar, _ := cookiejar.New(nil)
	status, body, hops := authorize(t, srv, &http.Client{Jar: jar}, srv.ClientSecret)
	assert.Equal(t, 200, status, body)
	assert.Equal(t, 2, hops, "the answer comes through two redirects")
	var code struct {
		Code      string `json:"code"`
		ExpiresIn int    `json:"expires_in"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &code))
	assert.NotEmpty(t, code.Code)
	assert.Positive(t, code.ExpiresIn)

	// Without a cookie jar the dance fails on the way.
	status, body, _ = authorize(t, srv, &http.Client{}, srv.ClientSecret)
	assert.Equal(t, 401, status)
	assert.Contains(t, body, "cookies")

	status, body, hops = authorize(t, srv, &http.Client{Jar: jar}, "wrong")
	assert.Equal(t, 401, status)
	assert.Contains(t, body, `"error_msg"`)
	assert.Zero(t, hops)

	// The hosted CLI sends the code exchange as a multipart form; JSON and
	// urlencoded forms work too. A code is good once.
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	for k, v := range map[string]string{"client_id": srv.ClientID, "client_secret": srv.ClientSecret, "grant_type": "authorization_code", "code": code.Code} {
		mw.WriteField(k, v)
	}
	mw.Close()
	exchange := func(contentType string, body io.Reader) (int, map[string]any) {
		resp, err := http.Post(srv.URL+"/api/oauth2/access_token/", contentType, body)
		require.NoError(t, err)
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	status, tok := exchange(mw.FormDataContentType(), &form)
	require.Equal(t, 200, status, tok)
	for _, k := range []string{"access_token", "token_type", "expires_in", "refresh_token", "scope"} {
		assert.Contains(t, tok, k)
	}
	status, _ = exchange("application/x-www-form-urlencoded", strings.NewReader(url.Values{
		"client_id": {srv.ClientID}, "client_secret": {srv.ClientSecret}, "grant_type": {"authorization_code"}, "code": {code.Code},
	}.Encode()))
	assert.Equal(t, 400, status, "a code is good once")

	// The token opens /oserve/; anything else does not.
	get := func(auth string) int {
		req, _ := http.NewRequest("GET", srv.URL+"/oserve/v1.3/cloud-function/", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, 200, get("Bearer "+tok["access_token"].(string)))
	assert.Equal(t, 401, get("Bearer forged"))
	assert.Equal(t, 401, get(""))
	srv.RevokeTokens()
	assert.Equal(t, 401, get("Bearer "+tok["access_token"].(string)))
	assert.Equal(t, 1, srv.TokensIssued())
}
