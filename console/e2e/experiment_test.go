package e2e

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// TestConsoleExperiment: two simulated hosts run the topk deployment; an
// experiment created from the console's form compares it with the
// aggregated template. Their own metrics reach the server's real OTLP
// ingest with each agent's credential, at the server's 1-second
// resolution, every 200 ms (a real collector's cardinality figures come
// once a minute: cli/e2e covers that path). The page follows the
// experiment live to a real promote verdict, shows its charts and verdict
// table, and its Promote button (no force) moves both hosts to the new
// deployment version.
func TestConsoleExperiment(t *testing.T) {
	b := newBrowser(t, 1280, 800)
	e := startServer(t, store.Resolution{Step: time.Second, Retention: time.Hour})
	hosts := []string{"exp-1", "exp-2"}
	variants := map[string]variantFigures{"baseline": {"process-topk-v1", 0.6}, "candidate": {"process-aggregated-v1", 0.15}}
	for i, h := range hosts {
		a := e.sim(h, map[string]string{"role": "exp"}, "")
		feedOwnMetrics(t, a, uint64(i+1), variants)
	}
	e.sim("exp-other", nil, "") // a third host, not in the experiment
	if c := e.api("POST", "/api/v1/deployments", map[string]any{"name": "exp", "template": "process-topk-v1",
		"params": map[string]any{"k": 20, "collection_interval": "10s"}, "destination": map[string]any{"type": "none"},
		"target": map[string]any{"hosts": hosts}, "rollout": map[string]any{"strategy": "all-at-once"}}, nil); c != 201 {
		t.Fatalf("deploy: %d", c)
	}
	waitAPI(t, e, 60*time.Second, func() bool {
		var s struct{ Status string }
		e.api("GET", "/api/v1/deployments/exp/status", nil, &s)
		return s.Status == "applied"
	})

	b.run(t, "sign in", signIn(e.url, e.srv.APIToken()), chromedp.WaitVisible(`[data-testid=pipelines-table]`, chromedp.ByQuery),
		chromedp.Evaluate(`location.hash = '#/experiments'`, nil),
		waitJS(`document.querySelector('[data-testid=experiment-form]') !== null`, 10*time.Second),
		chromedp.Evaluate(`window.__noReload = 42`, nil))

	// Create it from the form: the candidate rolls processes up by category.
	b.run(t, "create", setInput(`[data-testid=experiment-form] input[name=name]`, "agg"),
		setInput(`[data-testid=experiment-form] input[name=hosts]`, strings.Join(hosts, ", ")),
		waitJS(`[...document.querySelectorAll('[data-testid=experiment-form] select[name=candidate] option')].some(o => o.value === 'process-aggregated-v1')`, 10*time.Second),
		setInput(`[data-testid=experiment-form] select[name=candidate]`, "process-aggregated-v1"),
		setInput(`[data-testid=experiment-form] input[name=candidateParams]`, "collection_interval=10s"),
		setInput(`[data-testid=experiment-form] input[name=duration]`, "30s"),
		setInput(`[data-testid=experiment-form] input[name=minSamples]`, "5"),
		setInput(`[data-testid=experiment-form] input[name=warmup]`, "2s"),
		setInput(`[data-testid=experiment-form] input[name=interval]`, "2s"),
		chromedp.Click(`[data-testid=experiment-form] button[type=submit]`, chromedp.ByQuery),
		waitJS(`document.querySelector('[data-testid=experiment-form] [role=status]')?.textContent.includes('agg created')`, 20*time.Second),
		// The list follows the experiment's state from the stream.
		waitJS(`document.querySelector('tr[data-experiment=agg] .badge')?.textContent === 'running'`, 60*time.Second))

	// Its page, while it runs: the charts fill from the stream.
	b.run(t, "page", chromedp.Evaluate(`location.hash = '#/experiments/agg'`, nil),
		waitJS(`document.querySelectorAll('figure.chart canvas').length >= 3`, 30*time.Second))
	b.run(t, "back to the list", chromedp.Evaluate(`location.hash = '#/experiments'`, nil),
		waitJS(`document.querySelector('tr[data-experiment=agg] .badge') !== null`, 10*time.Second))
	screenshot(t, b, "experiments")

	b.run(t, "verdict", chromedp.Evaluate(`location.hash = '#/experiments/agg'`, nil),
		waitJS(`document.querySelector('main h1 .badge')?.textContent === 'completed'`, 90*time.Second),
		waitJS(`document.querySelectorAll('[data-testid=verdict-candidate] tbody tr').length > 0`, 20*time.Second),
		waitJS(`document.querySelectorAll('figure.chart canvas').length >= 3`, 10*time.Second))
	var page struct {
		Badge, Text string
		NoReload    int
	}
	var raw string
	b.run(t, "read verdict", chromedp.Evaluate(`JSON.stringify({Badge: document.querySelector('[data-testid=verdict-candidate] .badge')?.textContent ?? '',
		Text: document.querySelector('[data-testid=verdict-candidate]').textContent, NoReload: window.__noReload ?? 0})`, &raw))
	_ = json.Unmarshal([]byte(raw), &page)
	t.Logf("verdict: %s", page.Text)
	if page.NoReload != 42 {
		t.Fatal("the page was reloaded")
	}
	// The server's own verdict, and the page's, must be promote: the button
	// below then promotes a winner, with no force.
	var cmp struct {
		Results []struct{ Variant, Verdict, Criterion string }
	}
	e.api("GET", "/api/v1/experiments/agg/compare", nil, &cmp)
	if len(cmp.Results) != 1 || cmp.Results[0].Verdict != "promote" || page.Badge != "promote" {
		t.Fatalf("verdict: the server says %+v, the page shows %q", cmp.Results, page.Badge)
	}
	screenshot(t, b, "experiment")

	var before struct{ Version int }
	e.api("GET", "/api/v1/deployments/exp", nil, &before)
	var forced bool
	b.run(t, "promote", chromedp.Click(`[data-testid=promote-candidate]`, chromedp.ByQuery),
		chromedp.WaitVisible(`dialog[open]`, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelector('dialog[open] input[type=checkbox]')?.checked ?? false`, &forced),
		chromedp.Click(`dialog[open] button[type=submit]`, chromedp.ByQuery),
		waitJS(`document.querySelector('[data-testid=promoted]')?.textContent.includes('Promoted candidate into exp')`, 30*time.Second))
	if forced {
		t.Fatal("the promote dialog had force ticked")
	}
	var after struct {
		Version  int
		Template string
	}
	e.api("GET", "/api/v1/deployments/exp", nil, &after)
	if after.Version != before.Version+1 || after.Template != "process-aggregated-v1" {
		t.Fatalf("after promote the deployment is version %d template %s (was version %d)", after.Version, after.Template, before.Version)
	}
	// The hosts move to the new version: the deployed-pipelines view shows it.
	want := "exp v" + strconv.Itoa(after.Version)
	row := func(h string) string { return `document.querySelector('tr[data-host=` + jsString(h) + `]')` }
	b.run(t, "hosts on the promoted version", chromedp.Evaluate(`location.hash = '#/'`, nil),
		waitJS(row(hosts[0])+`?.textContent.includes(`+jsString(want)+`) && `+row(hosts[0])+`.querySelector('.badge').textContent === 'applied' && `+
			row(hosts[1])+`?.textContent.includes(`+jsString(want)+`) && `+row(hosts[1])+`.querySelector('.badge').textContent === 'applied'`, 30*time.Second))
	if d, p := b.Dialogs(), b.Problems(); len(d) > 0 || len(p) > 0 {
		t.Fatalf("dialogs %v, problems %v", d, p)
	}
}
