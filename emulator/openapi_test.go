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

// accessToken runs the OAuth dance and returns an access token.
func accessToken(t *testing.T, srv *emulator.Server) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	status, body, _ := authorize(t, srv, &http.Client{Jar: jar}, srv.ClientSecret)
	require.Equal(t, 200, status, body)
	var code struct{ Code string }
	require.NoError(t, json.Unmarshal([]byte(body), &code))
	b, _ := json.Marshal(map[string]string{"client_id": srv.ClientID, "client_secret": srv.ClientSecret, "grant_type": "authorization_code", "code": code.Code})
	resp, err := http.Post(srv.URL+"/api/oauth2/access_token/", "application/json", bytes.NewReader(b))
	require.NoError(t, err)
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&tok))
	require.NotEmpty(t, tok.AccessToken)
	return tok.AccessToken
}

// openAPI sends an Open API request with the token ("" for none) and
// returns the status, the headers and the body.
func openAPI(t *testing.T, srv *emulator.Server, token, method, path, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// assertPlatformError checks the platform's error body.
func assertPlatformError(t *testing.T, body, contains string) {
	t.Helper()
	var eb struct {
		Status   string `json:"status"`
		ErrorMsg string `json:"error_msg"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &eb), body)
	assert.Equal(t, "error", eb.Status)
	assert.Contains(t, eb.ErrorMsg, contains)
}

// Creating or updating a function with a body past the cap is 413, as on
// the other endpoints, not 400.
func TestFunctionChangePastBodyCapIs413(t *testing.T) {
	t.Parallel()
	srv, _ := setup(t, emulator.WithMaxBodyBytes(1024))
	tok := accessToken(t, srv)
	big := `{"name":"big","function_code":"` + strings.Repeat("x", 4096) + `"}`
	status, _, body := openAPI(t, srv, tok, "POST", "/oserve/v1.3/cloud-function/", big)
	assert.Equal(t, 413, status, body)
	assertPlatformError(t, body, "too large")

	status, _, body = openAPI(t, srv, tok, "POST", "/oserve/v1.3/cloud-function/", `{"name":"small","function_code":"x"}`)
	require.Equal(t, 201, status, body)
	status, _, body = openAPI(t, srv, tok, "PATCH", "/oserve/v1.3/cloud-function/small/", big)
	assert.Equal(t, 413, status, body)
	assertPlatformError(t, body, "too large")
}

// Wrong methods get the platform's JSON 405 with an Allow header, after
// the token check; unknown paths under /oserve/ need the token too.
func TestOpenAPIMethodsAndPaths(t *testing.T) {
	t.Parallel()
	srv, _ := setup(t)
	srv.Register("helloWorld", hello)
	tok := accessToken(t, srv)
	cases := []struct {
		token, method, path string
		status              int
		allow               string
	}{
		{tok, "PUT", "/oserve/v1.3/cloud-function/helloWorld/job/", 405, "GET, OPTIONS, POST"},
		{tok, "POST", "/oserve/v1.3/cloud-function/helloWorld/", 405, "DELETE, GET, OPTIONS, PATCH"},
		{tok, "GET", "/oserve/v1.3/cloud-function/helloWorld/debug/", 405, "OPTIONS, POST"},
		{tok, "DELETE", "/oserve/v1/cloud-function/job/", 405, "OPTIONS, POST"},
		{"", "PUT", "/oserve/v1.3/cloud-function/helloWorld/job/", 401, ""},
		{"", "GET", "/oserve/v1.3/cloud-function/helloWorld/nothing/", 401, ""},
		{tok, "GET", "/oserve/v1.3/cloud-function/helloWorld/nothing/", 404, ""},
		{tok, "GET", "/oserve/v1.3/cloud-function/helloWorld", 200, ""}, // no trailing slash
		{tok, "GET", "/oserve/v1.3/cloud-function/nope/job/", 404, ""},
		{tok, "GET", "/oserve/v1.3/cloud-function/helloWorld/job/1/log/", 404, ""},
	}
	for _, tc := range cases {
		status, hdr, body := openAPI(t, srv, tc.token, tc.method, tc.path, "")
		assert.Equal(t, tc.status, status, "%s %s: %s", tc.method, tc.path, body)
		assert.Equal(t, "application/json", hdr.Get("Content-Type"), "%s %s", tc.method, tc.path)
		if tc.status != 200 {
			assertPlatformError(t, body, "")
		}
		assert.Equal(t, tc.allow, hdr.Get("Allow"), "%s %s", tc.method, tc.path)
	}
}

// The history and the debug answer are written with the emulator's own
// wire types: the exact keys the platform sends.
func TestOpenAPIWireKeys(t *testing.T) {
	t.Parallel()
	srv, _ := setup(t)
	srv.Register("helloWorld", hello)
	tok := accessToken(t, srv)
	status, _, body := openAPI(t, srv, tok, "POST", "/oserve/v1.3/cloud-function/helloWorld/debug/", `{"data":{"name":"<b>"}}`)
	require.Equal(t, 200, status, body)
	var dbg map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(body), &dbg))
	assert.ElementsMatch(t, []string{"code", "data", "error", "job_id", "execution_time", "billing_time", "mem_usage", "log"}, keys(dbg))
	assert.Equal(t, `"hello <b>"`, string(dbg["data"]), "not HTML-escaped, as JSON.stringify writes it")
	assert.Equal(t, `{}`, string(dbg["error"]))

	status, _, body = openAPI(t, srv, tok, "GET", "/oserve/v1.3/cloud-function/helloWorld/job/", "")
	require.Equal(t, 200, status, body)
	var hist struct {
		Meta    map[string]json.RawMessage   `json:"meta"`
		Objects []map[string]json.RawMessage `json:"objects"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &hist))
	assert.ElementsMatch(t, []string{"limit", "offset", "next", "previous", "total_count"}, keys(hist.Meta))
	require.Len(t, hist.Objects, 1)
	assert.ElementsMatch(t, []string{"id", "created_at", "started_at", "finished_at", "mem_usage", "service_type", "source", "status", "user_log_url"}, keys(hist.Objects[0]))
	assert.Equal(t, `"time_sensitive"`, string(hist.Objects[0]["service_type"]))
	assert.Equal(t, `"fulfilled"`, string(hist.Objects[0]["status"]))
}

func keys(m map[string]json.RawMessage) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// The Open API's create refuses the names RegisterJS, RegisterJSFile, new
// and deploy refuse: one rule (internal/fnroot.CheckName), whose reason
// the 400 carries; nothing is created.
func TestOpenAPICreateRefusesTheNamesTheRuleRefuses(t *testing.T) {
	t.Parallel()
	srv, _ := setup(t)
	tok := accessToken(t, srv)
	for name, why := range map[string]string{
		"a/b":          `may not hold / or \`,
		".hidden":      "may not start with a dot",
		"node_modules": "node_modules holds the functions' packages",
		"tab\there":    "control character 0x09",
		"":             "function name is empty",
	} {
		body, err := json.Marshal(map[string]string{"name": name, "function_code": "exports.main = (e, cb) => cb(null, 1)"})
		require.NoError(t, err)
		status, _, got := openAPI(t, srv, tok, "POST", "/oserve/v1.3/cloud-function/", string(body))
		assert.Equal(t, 400, status, "%q: %s", name, got)
		assertPlatformError(t, got, why)
		assert.NotContains(t, srv.Functions(), name)
	}
	status, _, got := openAPI(t, srv, tok, "POST", "/oserve/v1.3/cloud-function/", `{"function_code":"x"}`)
	assert.Equal(t, 400, status, got)
	assertPlatformError(t, got, "name is required")
}
