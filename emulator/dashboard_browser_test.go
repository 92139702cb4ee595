package emulator_test

// The dashboard in a real browser: Debian's chromium, headless, driven by
// chromedp over the DevTools protocol.

import (
	"context"
	"fmt"
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
	return ctx
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

	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL+emulator.DashboardPath)))
	waitFor(t, ctx, "the stream to open", `document.getElementById("conn").textContent === "live"`)
	waitFor(t, ctx, "the functions", `[...document.querySelectorAll("#fn option")].map(o => o.value).join() === "greet,other"`)

	// Bad params: said on the page, nothing sent.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("fn"), "greet"),
		chromedp.SetValue(chromedp.ID("params"), `{"name": `),
		chromedp.Click(chromedp.ID("invoke-button")),
	))
	waitFor(t, ctx, "the JSON error", `document.getElementById("answer").textContent.includes("not valid JSON")`)
	assert.Empty(t, srv.Jobs(), "nothing was sent")

	// A sync call through the form: the answer, then the job with its log.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("params"), `{"name": "browser"}`),
		chromedp.Click(chromedp.ID("invoke-button")),
	))
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
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`#jobs tr[data-id="%d"]`, newest)))))
	waitFor(t, ctx, "the new job's log", `document.getElementById("job-log").textContent.includes("INFO greeting live")`)
	assert.Equal(t, "#"+strconv.FormatInt(newest, 10), textOf(t, ctx, "job-id"))

	// The page holds no secret.
	html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	require.NoError(t, err)
	assert.NotContains(t, html, srv.ClientSecret)
}
