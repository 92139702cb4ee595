package managetests_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mincloud-go/baas"
	"github.com/mincloud-go/baas/emulator"
	"github.com/mincloud-go/baas/function"
	"github.com/mincloud-go/baas/internal/clientinfo"
	"github.com/mincloud-go/baas/manage"
)

// setup starts an emulator and an Open API client for it.
func setup(t *testing.T, opts ...emulator.Option) (*emulator.Server, *baas.Client) {
	t.Helper()
	srv := emulator.New(opts...)
	t.Cleanup(srv.Close)
	srv.Register("helloWorld", func(ctx context.Context, ev *function.Event) (any, error) {
		var p struct {
			Name string `json:"name"`
		}
		if err := ev.Decode(&p); err != nil {
			return nil, err
		}
		log := function.Logger(ctx)
		log.Info("first")
		log.Warn("second")
		log.Error("third")
		return fmt.Sprintf("hello %s from %s", p.Name, ev.EventType), nil
	})
	// Generous deadlines: on a busy machine a call may wait its turn for
	// seconds; the tests that are about deadlines set their own.
	c, err := srv.Client(baas.WithClientSecret(srv.ClientSecret), baas.WithSyncTimeout(2*time.Minute), baas.WithAsyncTimeout(2*time.Minute))
	require.NoError(t, err)
	return srv, c
}

func TestInvokeOverTheOpenAPI(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	assert.True(t, clientinfo.Of(c).OpenAPI)
	res, err := c.Invoke(context.Background(), "helloWorld", map[string]string{"name": "go"}, true)
	require.NoError(t, err)
	assert.Equal(t, `{"code":0,"data":"hello go from open_api","error":{}}`, res.String())

	//lint:ignore SA1019 the deprecated call must keep working over the Open API too
	resp, err := c.InvokeFunction(context.Background(), "helloWorld", nil, false)
	require.NoError(t, err)
	assert.Equal(t, "ok", resp.Data.Status)

	// The v1.3 invoke by path answers the same.
	fns := manage.New(c)
	res, err = fns.Invoke(context.Background(), "helloWorld", map[string]string{"name": "v13"}, true)
	require.NoError(t, err)
	assert.Equal(t, `"hello v13 from open_api"`, string(res.Data))
	_, err = fns.Invoke(context.Background(), "nope", nil, true)
	var he *baas.HError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, 404, he.Code)
	assert.Equal(t, 1, srv.TokensIssued())
}

func TestOneTokenFetchForManyFirstCalls(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	var wg sync.WaitGroup
	errs := make(chan error, 500)
	for i := 0; i < 500; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Invoke(context.Background(), "helloWorld", nil, false); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assert.Equal(t, 1, srv.TokensIssued())
}

// The SDK renews its access token a tenth of its lifetime before it
// expires. The SDK's clock is moved by hand to 91 s of a 100 s token that
// the emulator still holds valid: only early renewal fetches a second
// token there (a client that waited for the 401 would keep the first).
func TestTokenRenewedBeforeExpiry(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, emulator.WithTokenLifetime(100*time.Second))
	var mu sync.Mutex
	now := time.Now()
	clientinfo.Of(c).SetTokenClock(func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	})
	advance := func(d time.Duration) {
		mu.Lock()
		now = now.Add(d)
		mu.Unlock()
	}
	invoke := func() {
		t.Helper()
		_, err := c.Invoke(context.Background(), "helloWorld", nil, true)
		require.NoError(t, err)
	}
	invoke()
	advance(89 * time.Second)
	invoke()
	assert.Equal(t, 1, srv.TokensIssued(), "a token with more than a tenth of its life left is reused")
	advance(2 * time.Second)
	invoke()
	assert.Equal(t, 2, srv.TokensIssued(), "renewed in the last tenth of its life, before the server refuses it")
	assert.Len(t, srv.Jobs(), 3, "every call ran once: none was refused and sent again")
}

func TestUnauthorizedRenewsOnceAndResends(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	_, err := c.Invoke(context.Background(), "helloWorld", nil, true)
	require.NoError(t, err)
	srv.RevokeTokens()
	res, err := c.Invoke(context.Background(), "helloWorld", nil, true)
	require.NoError(t, err)
	assert.Equal(t, 0, res.Code)
	assert.Equal(t, 2, srv.TokensIssued())
	assert.Len(t, srv.Jobs(), 2, "the refused call did not run; the resent one did, once")
}

func TestWrongSecretNamesTheStep(t *testing.T) {
	t.Parallel()
	srv, _ := setup(t)
	var logs bytes.Buffer
	const secret = "definitely-the-wrong-secret"
	c, err := srv.Client(baas.WithClientSecret(secret), baas.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	require.NoError(t, err)
	_, err = c.Invoke(context.Background(), "helloWorld", nil, true)
	var he *baas.HError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, 401, he.Code)
	assert.Contains(t, he.Error(), "authorize step")
	assert.NotContains(t, he.Error(), secret)
	assert.NotContains(t, logs.String(), secret)
	assert.Empty(t, srv.Jobs())

	_, err = manage.New(c).Debug(context.Background(), "helloWorld", nil)
	require.ErrorAs(t, err, &he)
	assert.Contains(t, he.Error(), "authorize step")
}

func TestTokensNeverLogged(t *testing.T) {
	t.Parallel()
	srv, _ := setup(t)
	var logs bytes.Buffer
	c, err := srv.Client(baas.WithClientSecret(srv.ClientSecret), baas.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	require.NoError(t, err)
	_, err = c.Invoke(context.Background(), "helloWorld", nil, true)
	require.NoError(t, err)
	assert.Contains(t, logs.String(), "oauth: authorize")
	assert.Contains(t, logs.String(), "function=helloWorld")
	assert.NotContains(t, logs.String(), srv.ClientSecret)
	assert.NotContains(t, strings.ToLower(logs.String()), "bearer")
}

func TestWebAPIClientCannotManage(t *testing.T) {
	t.Parallel()
	srv, _ := setup(t)
	c, err := srv.Client()
	require.NoError(t, err)
	_, err = manage.New(c).List(context.Background())
	var he *baas.HError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, baas.CodeUninitialized, he.Code)
}

func TestDebug(t *testing.T) {
	t.Parallel()
	_, c := setup(t)
	run, err := manage.New(c).Debug(context.Background(), "helloWorld", map[string]string{"name": "dbg"})
	require.NoError(t, err)
	assert.Equal(t, 0, run.Code)
	assert.Equal(t, `"hello dbg from open_api"`, string(run.Data))
	assert.NotZero(t, run.JobID)
	assert.Greater(t, run.ExecutionTime, 0.0)
	assert.GreaterOrEqual(t, run.BillingTime, run.ExecutionTime)
	lines := run.LogLines()
	require.Len(t, lines, 3)
	for i, want := range []string{"INFO first", "WARN second", "ERROR third"} {
		assert.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z `+want+`$`, lines[i])
	}
	out, err := json.Marshal(run)
	require.NoError(t, err)
	for _, k := range []string{`"job_id":`, `"execution_time":`, `"billing_time":`, `"mem_usage":`, `"log":`, `"code":0`} {
		assert.Contains(t, string(out), k)
	}
}

func TestJobHistoryPagesAndFilters(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	srv.Register("fails", func(ctx context.Context, ev *function.Event) (any, error) {
		return nil, errors.New("no")
	})
	web, err := srv.Client()
	require.NoError(t, err)
	ctx := context.Background()
	// 7 sync sdk calls, 5 async open_api calls, 3 failures.
	for i := 0; i < 7; i++ {
		_, err := web.Invoke(ctx, "helloWorld", nil, true)
		require.NoError(t, err)
	}
	for i := 0; i < 5; i++ {
		_, err := c.Invoke(ctx, "helloWorld", nil, false)
		require.NoError(t, err)
	}
	for i := 0; i < 3; i++ {
		_, err := c.Invoke(ctx, "fails", nil, true)
		require.NoError(t, err)
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	require.NoError(t, srv.Wait(wctx))

	fns := manage.New(c)
	collect := func(name string, f manage.JobFilter) []manage.Job {
		t.Helper()
		var out []manage.Job
		for j, err := range fns.Jobs(ctx, name, f) {
			require.NoError(t, err)
			out = append(out, j)
		}
		return out
	}
	all := collect("helloWorld", manage.JobFilter{PageSize: 3}) // 12 jobs: 4 pages
	require.Len(t, all, 12)
	for i := 1; i < len(all); i++ {
		assert.Greater(t, all[i-1].ID, all[i].ID, "newest first, no job twice")
	}
	assert.Len(t, collect("helloWorld", manage.JobFilter{PageSize: 2, Source: "sdk"}), 7)
	assert.Len(t, collect("helloWorld", manage.JobFilter{PageSize: 2, Source: "open_api"}), 5)
	assert.Len(t, collect("helloWorld", manage.JobFilter{PageSize: 4, ServiceType: "batch"}), 5)
	assert.Len(t, collect("helloWorld", manage.JobFilter{ServiceType: "time_sensitive"}), 7)
	assert.Len(t, collect("helloWorld", manage.JobFilter{PageSize: 5, Status: "fulfilled"}), 12)
	assert.Len(t, collect("fails", manage.JobFilter{PageSize: 1, Status: "execution_failed"}), 3)
	assert.Empty(t, collect("fails", manage.JobFilter{Status: "fulfilled"}))
	assert.Len(t, collect("helloWorld", manage.JobFilter{PageSize: 5, CreatedAfter: time.Now().Add(-time.Minute)}), 12)
	assert.Empty(t, collect("helloWorld", manage.JobFilter{CreatedAfter: time.Now().Add(time.Hour)}))
	assert.Empty(t, collect("helloWorld", manage.JobFilter{CreatedBefore: time.Now().Add(-time.Hour)}))
	assert.Len(t, collect("helloWorld", manage.JobFilter{CreatedBefore: time.Now().Add(time.Minute), PageSize: 7}), 12)

	j := all[0]
	assert.Equal(t, "batch", j.ServiceType)
	assert.Equal(t, "fulfilled", j.Status)
	assert.NotNil(t, j.StartedAt)
	assert.NotNil(t, j.FinishedAt)
	assert.NotEmpty(t, j.UserLogURL)

	// Stopping early stops the paging.
	n := 0
	for range fns.Jobs(ctx, "helloWorld", manage.JobFilter{PageSize: 1}) {
		n++
		if n == 2 {
			break
		}
	}
	assert.Equal(t, 2, n)

	for _, err := range fns.Jobs(ctx, "nope", manage.JobFilter{}) {
		var he *baas.HError
		require.ErrorAs(t, err, &he)
		assert.Equal(t, 404, he.Code)
	}
}

func TestManageFunctions(t *testing.T) {
	t.Parallel()
	_, c := setup(t)
	ctx := context.Background()
	fns := manage.New(c)

	created, err := fns.Create(ctx, manage.Function{Name: "js", Code: "exports.main = (e, cb) => cb(null, 1)", Remark: "from JS"})
	require.NoError(t, err)
	assert.Equal(t, "js", created.Name)
	assert.Equal(t, "from JS", created.Remark)
	_, err = fns.Create(ctx, manage.Function{Name: "js"})
	var he *baas.HError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, 400, he.Code)

	list, err := fns.List(ctx)
	require.NoError(t, err)
	var names []string
	for _, f := range list {
		names = append(names, f.Name)
	}
	assert.Equal(t, []string{"helloWorld", "js"}, names)

	remark := "renamed"
	updated, err := fns.Update(ctx, "js", manage.Update{Remark: &remark})
	require.NoError(t, err)
	assert.Equal(t, "renamed", updated.Remark)
	got, err := fns.Get(ctx, "js")
	require.NoError(t, err)
	assert.Equal(t, "renamed", got.Remark)
	assert.Equal(t, created.Code, got.Code)

	// The emulator runs the code in Node.js; without Node (only outside
	// CI) the call answers what to install, as a function failure.
	res, err := c.Invoke(ctx, "js", nil, true)
	require.NoError(t, err)
	if _, lookErr := exec.LookPath("node"); lookErr == nil || os.Getenv("CI") != "" {
		assert.Equal(t, 0, res.Code, "%+v", res.Error)
		assert.Equal(t, "1", string(res.Data))
	} else {
		assert.Equal(t, 1, res.Code)
		assert.Contains(t, res.Error.Message, "Node.js")
	}

	require.NoError(t, fns.Delete(ctx, "js"))
	_, err = fns.Get(ctx, "js")
	require.ErrorAs(t, err, &he)
	assert.Equal(t, 404, he.Code)
	err = fns.Delete(ctx, "js")
	require.ErrorAs(t, err, &he)
	assert.Equal(t, 404, he.Code)

	_, err = fns.Get(ctx, "")
	require.ErrorAs(t, err, &he)
	assert.Equal(t, baas.CodeBadParameter, he.Code)
}

// A server whose next link never moves must not make the iterator loop.
func TestJobsStopsOnANextThatDoesNotMove(t *testing.T) {
	t.Parallel()
	srv, _ := setup(t)
	mux := http.NewServeMux()
	mux.Handle("/api/", httputil.NewSingleHostReverseProxy(mustParse(t, srv.URL)))
	mux.HandleFunc("/oserve/v1.3/cloud-function/loop/job/", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"meta":{"limit":1,"offset":0,"next":"/oserve/v1.3/cloud-function/loop/job/?limit=1&offset=0","previous":null,"total_count":9},"objects":[{"id":1}]}`)
	})
	front := httptest.NewServer(mux)
	defer front.Close()
	c, err := baas.New(baas.WithClientID(srv.ClientID), baas.WithClientSecret(srv.ClientSecret), baas.WithHost(front.URL))
	require.NoError(t, err)
	n, errs := 0, 0
	for _, err := range manage.New(c).Jobs(context.Background(), "loop", manage.JobFilter{PageSize: 1}) {
		if err != nil {
			errs++
			assert.Contains(t, err.Error(), "same page")
			continue
		}
		n++
		require.Less(t, n, 10, "the iterator loops")
	}
	assert.Equal(t, 2, n)
	assert.Equal(t, 1, errs)
}

func mustParse(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	require.NoError(t, err)
	return u
}

// Not parallel: it sets the environment the default client is built from.
func TestDefaultClientFromSecretInEnvironment(t *testing.T) {
	srv, _ := setup(t)
	t.Setenv(baas.EnvClientID, srv.ClientID)
	t.Setenv(baas.EnvHost, srv.URL)
	t.Setenv(baas.EnvEnvID, "")
	t.Setenv(baas.EnvAuthToken, "")
	t.Setenv(baas.EnvClientSecret, srv.ClientSecret)
	c, err := baas.Default()
	require.NoError(t, err)
	assert.True(t, clientinfo.Of(c).OpenAPI)
	greeting, err := baas.InvokeAs[string](context.Background(), nil, "helloWorld", map[string]string{"name": "env"})
	require.NoError(t, err)
	assert.Equal(t, "hello env from open_api", greeting)
	assert.Equal(t, 1, srv.TokensIssued())
}

// The Open API keeps the Web API's deadlines: a sync call is cut at the
// client's sync timeout with a 601.
func TestOpenAPIDeadline(t *testing.T) {
	t.Parallel()
	// The job may run a minute: only the client's deadline can end the
	// call soon.
	srv, _ := setup(t, emulator.WithSyncTimeout(time.Minute))
	srv.Register("slow", func(ctx context.Context, ev *function.Event) (any, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	c, err := srv.Client(baas.WithClientSecret(srv.ClientSecret), baas.WithSyncTimeout(200*time.Millisecond))
	require.NoError(t, err)
	start := time.Now()
	_, err = c.Invoke(context.Background(), "slow", nil, true)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	var he *baas.HError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, baas.CodeTimeout, he.Code)
	assert.Less(t, time.Since(start), 30*time.Second, "cut at the client's deadline, not the job's minute")
}

// A 2xx management answer that is not the JSON promised is an HError that
// says what came back, with no token in it.
func TestUnexpectedManagementAnswer(t *testing.T) {
	t.Parallel()
	srv, _ := setup(t)
	mux := http.NewServeMux()
	mux.Handle("/api/", httputil.NewSingleHostReverseProxy(mustParse(t, srv.URL)))
	mux.HandleFunc("/oserve/v1.3/cloud-function/f/", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "<html>maintenance, your "+r.Header.Get("Authorization")+"</html>")
	})
	front := httptest.NewServer(mux)
	defer front.Close()
	c, err := baas.New(baas.WithClientID(srv.ClientID), baas.WithClientSecret(srv.ClientSecret), baas.WithHost(front.URL))
	require.NoError(t, err)
	_, err = manage.New(c).Get(context.Background(), "f")
	var he *baas.HError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, 200, he.Code)
	assert.Contains(t, he.Error(), "unexpected response")
	assert.Contains(t, he.Error(), "maintenance")
	assert.Contains(t, he.Error(), "[REDACTED]")
	assert.Regexp(t, `Bearer \[REDACTED\]`, he.Error(), "the access token is cut out")
}
