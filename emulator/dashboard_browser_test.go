package emulator_test

// The dashboard in a real browser: Debian's chromium, headless, driven by
// chromedp over the DevTools protocol.

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mincloud-go/baas/emulator"
	"github.com/mincloud-go/baas/function"
)

// browserWait bounds each wait for the page: generous, for a loaded 2-core
// machine where chromium takes seconds to start.
const browserWait = 60 * time.Second

// needChromium returns chromium's path. Without it the test skips, unless
// CI is set: CI installs chromium, so there its absence is a failure.
func needChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is needed and CI is set: apt-get install -y chromium")
	}
	t.Skip("chromium not found; set CI to make this a failure")
	return ""
}

// browser starts a headless chromium with a fresh profile and returns a
// tab's context. The flags keep it off the network: a closed network
// would refuse its background connections.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := needChromium(t)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // tests may run as root, where the sandbox will not start
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
	)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	// Started here, on a context without a deadline: the browser lives as
	// long as the first context it runs on, and each step gets its own.
	require.NoError(t, chromedp.Do(ctx))
	return ctx
}

// do runs browser steps, each batch bounded: a step waiting for an
// element that never shows fails the test instead of hanging it.
func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, browserWait)
	defer cancel()
	require.NoError(t, chromedp.Do(ctx, steps...))
}

// waitFor polls a JavaScript predicate on the page until it holds.
func waitFor(t *testing.T, ctx context.Context, what, predicate string) {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](predicate, chromedp.WithPollingTimeout(browserWait)))
	if err != nil {
		text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("waiting for %s: %v\npage:\n%s", what, err, text)
	}
}

func textOf(t *testing.T, ctx context.Context, id string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.ID(id)))
	require.NoError(t, err)
	return s
}

// Open the page, invoke through the form, see the job appear with its
// result and log; then a job started elsewhere appears without a reload.
func TestDashboardInABrowser(t *testing.T) {
	ctx := browser(t)
	srv := emulator.New()
	defer srv.Close()
	srv.Register("greet", func(ctx context.Context, ev *function.Event) (any, error) {
		var p struct{ Name string }
		if err := ev.Decode(&p); err != nil {
			return nil, err
		}
		function.Logger(ctx).Info("greeting " + p.Name)
		return "hi " + p.Name, nil
	})
	srv.Register("other", hello)

	do(t, ctx, chromedp.Navigate(srv.URL+emulator.DashboardPath))
	waitFor(t, ctx, "the stream to open", `document.getElementById("conn").textContent === "live"`)
	waitFor(t, ctx, "the functions", `[...document.querySelectorAll("#fn option")].map(o => o.value).join() === "greet,other"`)

	// Bad params: said on the page, nothing sent.
	do(t, ctx,
		chromedp.SetValue(chromedp.ID("fn"), "greet"),
		chromedp.SetValue(chromedp.ID("params"), `{"name": `),
		chromedp.Click(chromedp.ID("invoke-button")),
	)
	waitFor(t, ctx, "the JSON error", `document.getElementById("answer").textContent.includes("not valid JSON")`)
	assert.Empty(t, srv.Jobs(), "nothing was sent")

	// A sync call through the form: the answer, then the job with its log.
	do(t, ctx,
		chromedp.SetValue(chromedp.ID("params"), `{"name": "browser"}`),
		chromedp.Click(chromedp.ID("invoke-button")),
	)
	waitFor(t, ctx, "the answer", `document.getElementById("answer").textContent.includes('"hi browser"')`)
	waitFor(t, ctx, "the job's log", `document.getElementById("job-log").textContent.includes("INFO greeting browser")`)
	jobs := srv.Jobs()
	require.Len(t, jobs, 1)
	assert.Equal(t, emulator.SourceSDK, jobs[0].Source)
	assert.Equal(t, "#"+strconv.FormatInt(jobs[0].ID, 10), textOf(t, ctx, "job-id"))
	waitFor(t, ctx, "the job's status", `document.getElementById("job-status").textContent === "fulfilled"`)
	assert.Contains(t, textOf(t, ctx, "job-result"), `"data": "hi browser"`)
	assert.Equal(t, "sdk, sync", textOf(t, ctx, "job-source"))
	waitFor(t, ctx, "the job in the table", fmt.Sprintf(
		`[...document.querySelectorAll("#jobs tbody tr")].some(tr => tr.dataset.id === "%d" && tr.textContent.includes("fulfilled"))`, jobs[0].ID))

	// An async job from another client shows up live, newest first; its
	// row opens its details and log.
	c, err := srv.Client()
	require.NoError(t, err)
	_, err = c.Invoke(context.Background(), "greet", map[string]any{"name": "live"}, false)
	require.NoError(t, err)
	require.NoError(t, srv.Wait(context.Background()))
	jobs = srv.Jobs()
	require.Len(t, jobs, 2)
	newest := jobs[1].ID
	waitFor(t, ctx, "the new job, first and fulfilled", fmt.Sprintf(
		`(r => r && r.dataset.id === "%d" && r.textContent.includes("fulfilled") && r.textContent.includes("async"))(document.querySelector("#jobs tbody tr"))`, newest))
	do(t, ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`#jobs tr[data-id="%d"]`, newest))))
	waitFor(t, ctx, "the new job's log", `document.getElementById("job-log").textContent.includes("INFO greeting live")`)
	assert.Equal(t, "#"+strconv.FormatInt(newest, 10), textOf(t, ctx, "job-id"))

	// The page holds no secret.
	html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	require.NoError(t, err)
	assert.NotContains(t, html, srv.ClientSecret)
}

// recordNames is a page expression: the name column of the records shown,
// comma-separated.
const recordNames = `(() => {
	const i = [...document.querySelectorAll("#records thead th")].map(th => th.textContent).indexOf("name");
	return [...document.querySelectorAll("#records tbody tr")].map(tr => i < 0 ? "" : tr.cells[i].textContent).join();
})()`

// Seed a table from Go, open the Tables tab, page through it newest
// first, filter with a where, see a bad where's message with the rows
// kept, open a record, and see records written meanwhile (from Go, the
// data API, another environment) appear live, without a reload or a
// click.
func TestDashboardTablesInABrowser(t *testing.T) {
	ctx := browser(t)
	srv := emulator.New()
	defer srv.Close()
	var seed []any
	for i := range 25 {
		seed = append(seed, map[string]any{"name": fmt.Sprintf("p%02d", i), "price": i})
	}
	_, err := srv.Table("product").Insert(seed...)
	require.NoError(t, err)
	_, err = srv.Table("basket").Insert(map[string]any{"name": "b"})
	require.NoError(t, err)

	do(t, ctx, chromedp.Navigate(srv.URL+emulator.DashboardPath))
	waitFor(t, ctx, "the stream to open", `document.getElementById("conn").textContent === "live"`)
	do(t, ctx, chromedp.Click(chromedp.ID("tab-tables")))
	waitFor(t, ctx, "the tables with their counts", `[...document.querySelectorAll("#table-list li")].map(li => li.textContent).join() === "basket1 record,product25 records"`)
	assert.True(t, evalBool(t, ctx, `document.getElementById("functions-tab").hidden`), "the functions are on the other tab")

	// Newest first, a page of 20; the next page holds the rest.
	do(t, ctx, chromedp.Click(chromedp.CSS(`#table-list li[data-name="product"]`)))
	waitFor(t, ctx, "the first page", `document.getElementById("page-info").textContent === "1–20 of 25"`)
	assert.True(t, evalBool(t, ctx, recordNames+`.startsWith("p24,p23,p22,")`), "newest first")
	do(t, ctx, chromedp.Click(chromedp.ID("older")))
	waitFor(t, ctx, "the second page", recordNames+` === "p04,p03,p02,p01,p00"`)
	assert.Equal(t, "21–25 of 25", textOf(t, ctx, "page-info"))

	// A where, as the data API takes it: the matches, from the first page.
	do(t, ctx,
		chromedp.SetValue(chromedp.ID("where"), `{"price":{"$gte":20}}`),
		chromedp.Click(chromedp.ID("where-button")),
	)
	waitFor(t, ctx, "the filtered rows", recordNames+` === "p24,p23,p22,p21,p20"`)
	assert.Equal(t, "1–5 of 5", textOf(t, ctx, "page-info"))

	// A bad where: the emulator's 400 message, and the rows stay.
	do(t, ctx,
		chromedp.SetValue(chromedp.ID("where"), `{"price":{"$nope":1}}`),
		chromedp.Click(chromedp.ID("where-button")),
	)
	waitFor(t, ctx, "the where's error", `!document.getElementById("records-error").hidden && document.getElementById("records-error").textContent.includes("$nope")`)
	require.True(t, evalBool(t, ctx, recordNames+` === "p24,p23,p22,p21,p20"`), "the previous rows are kept")

	// A record's JSON, as stored.
	recs, err := srv.Table("product").Find(`{"name":"p22"}`)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	do(t, ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`#records tr[data-id="%s"]`, recs[0]["id"]))))
	waitFor(t, ctx, "the record", `document.getElementById("record-json").textContent.includes('"name": "p22"')`)
	assert.Contains(t, textOf(t, ctx, "record-json"), `"price": 22`)

	// A record written meanwhile shows by itself (the stream's "table"
	// event), under the where that was last applied, and the count
	// follows; the record shown stays selected.
	_, err = srv.Table("product").Insert(map[string]any{"name": "p25", "price": 25})
	require.NoError(t, err)
	waitFor(t, ctx, "the new record", recordNames+` === "p25,p24,p23,p22,p21,p20"`)
	waitFor(t, ctx, "the new count", `document.querySelector('#table-list li[data-name="product"]').textContent.includes("26 records")`)
	assert.True(t, evalBool(t, ctx, `document.getElementById("records-error").hidden`), "a good query clears the error")
	assert.True(t, evalBool(t, ctx, fmt.Sprintf(`document.querySelector('#records tr[data-id="%s"]').className === "selected"`, recs[0]["id"])))

	// A bulk write through the data API: one refresh shows its end.
	code, body := web(t, srv, "POST", "/hserve/v2.4/table/basket/record/", `[{"name":"b2"},{"name":"b3"},{"name":"b4"}]`)
	require.Equal(t, http.StatusCreated, code, body)
	waitFor(t, ctx, "the basket's new count", `document.querySelector('#table-list li[data-name="basket"]').textContent.includes("4 records")`)
	// The Refresh button still reads them again.
	do(t, ctx, chromedp.Click(chromedp.ID("tables-refresh")))
	waitFor(t, ctx, "the rows after Refresh", recordNames+` === "p25,p24,p23,p22,p21,p20"`)

	// An environment's tables, once a call has named it: picked from a
	// list that shows only then.
	assert.True(t, evalBool(t, ctx, `document.getElementById("env-label").hidden`), "no environment yet")
	code, body = webAs(t, srv, "", "staging", "POST", "/hserve/v2.4/table/product/record/", `{"name":"in-staging","price":1}`)
	require.Equal(t, http.StatusCreated, code, body)
	waitFor(t, ctx, "the environment list, live", `!document.getElementById("env-label").hidden`)
	require.True(t, evalBool(t, ctx, `(s => { s.value = "staging"; s.dispatchEvent(new Event("change")); return true })(document.getElementById("env"))`))
	waitFor(t, ctx, "the environment's tables", `[...document.querySelectorAll("#table-list li")].map(li => li.textContent).join() === "product1 record"`)
	do(t, ctx, chromedp.Click(chromedp.CSS(`#table-list li[data-name="product"]`)))
	waitFor(t, ctx, "the environment's record", recordNames+` === "in-staging"`)
	code, body = webAs(t, srv, "", "staging", "POST", "/hserve/v2.4/table/product/record/", `{"name":"staging-2","price":2}`)
	require.Equal(t, http.StatusCreated, code, body)
	waitFor(t, ctx, "the environment's new record, live", recordNames+` === "staging-2,in-staging"`)
}

func evalBool(t *testing.T, ctx context.Context, expr string) bool {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
	require.NoError(t, err)
	return v
}
