package e2e

import (
	"encoding/json"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// TestConsoleExperiment: a real agent and collector run an experiment
// (baseline = the host's topk deployment, candidate = the aggregated
// template on the same receiver) with 1-second samples from the collector's
// own metrics through the server's OTLP ingest. The console lists it,
// shows its charts and verdict live, and its promote button promotes.
func TestConsoleExperiment(t *testing.T) {
	b := newBrowser(t, 1280, 800)
	e := startServer(t, store.Resolution{Step: time.Second, Retention: time.Hour})
	host := "exp-" + strconv.Itoa(os.Getpid())
	e.realAgent(host, nil, time.Second)
	e.sim("exp-sim", nil, "") // a second host, not in the experiment
	waitAPI(t, e, 60*time.Second, func() bool { return e.api("GET", "/api/v1/hosts/"+host, nil, nil) == 200 })
	if c := e.api("POST", "/api/v1/deployments", map[string]any{"name": "exp", "template": "process-topk-v1",
		"params": map[string]any{"k": 20, "collection_interval": "1s"}, "destination": map[string]any{"type": "none"},
		"target": map[string]any{"hosts": []string{host}}}, nil); c != 201 {
		t.Fatalf("deploy: %d", c)
	}
	waitAPI(t, e, 90*time.Second, func() bool {
		var h struct{ Status string }
		e.api("GET", "/api/v1/hosts/"+host, nil, &h)
		return h.Status == "applied"
	})

	b.run(t, "sign in", signIn(e.url, e.srv.APIToken()), chromedp.WaitVisible(`[data-testid=pipelines-table]`, chromedp.ByQuery),
		chromedp.Evaluate(`location.hash = '#/experiments'`, nil),
		waitJS(`document.querySelector('[data-testid=experiment-form]') !== null`, 10*time.Second),
		chromedp.Evaluate(`window.__noReload = 42`, nil))

	// Create it from the form: the candidate rolls processes up by category.
	b.run(t, "create", setInput(`[data-testid=experiment-form] input[name=name]`, "agg"),
		setInput(`[data-testid=experiment-form] input[name=hosts]`, host),
		waitJS(`[...document.querySelectorAll('[data-testid=experiment-form] select[name=candidate] option')].some(o => o.value === 'process-aggregated-v1')`, 10*time.Second),
		setInput(`[data-testid=experiment-form] select[name=candidate]`, "process-aggregated-v1"),
		setInput(`[data-testid=experiment-form] input[name=candidateParams]`, "collection_interval=1s"),
		setInput(`[data-testid=experiment-form] input[name=duration]`, "40s"),
		setInput(`[data-testid=experiment-form] input[name=minSamples]`, "5"),
		setInput(`[data-testid=experiment-form] input[name=warmup]`, "3s"),
		setInput(`[data-testid=experiment-form] input[name=interval]`, "2s"),
		chromedp.Click(`[data-testid=experiment-form] button[type=submit]`, chromedp.ByQuery),
		waitJS(`document.querySelector('[data-testid=experiment-form] [role=status]')?.textContent.includes('agg created')`, 20*time.Second),
		// The list follows the experiment's state from the stream.
		waitJS(`document.querySelector('tr[data-experiment=agg] .badge')?.textContent === 'running'`, 90*time.Second))
	screenshot(t, b, "experiments")

	// The API's own answer, for the record (and to tell a console bug from a server one).
	waitAPI(t, e, 120*time.Second, func() bool {
		var x struct{ Status string }
		e.api("GET", "/api/v1/experiments/agg", nil, &x)
		return x.Status != "running" && x.Status != "warming_up" && x.Status != "deploying" && x.Status != "pending"
	})
	raw := e.raw("GET", "/api/v1/experiments/agg/compare")
	if !json.Valid(raw) {
		t.Fatalf("GET /api/v1/experiments/agg/compare is not JSON (%d bytes): %.300s", len(raw), raw)
	}
	var cmp struct {
		Experiment struct {
			Samples  int
			Criteria struct {
				MinSamples int `json:"min_samples"`
			}
		}
	}
	_ = json.Unmarshal(raw, &cmp)
	t.Logf("experiment: %d sample intervals (min_samples %d)", cmp.Experiment.Samples, cmp.Experiment.Criteria.MinSamples)
	if cmp.Experiment.Samples < 3 || cmp.Experiment.Criteria.MinSamples != 5 {
		t.Fatalf("the experiment took %d samples (min_samples %d): the real collector's figures did not arrive", cmp.Experiment.Samples, cmp.Experiment.Criteria.MinSamples)
	}
	b.run(t, "page", chromedp.Evaluate(`location.hash = '#/experiments/agg'`, nil),
		waitJS(`document.querySelector('main h1 .badge')?.textContent === 'completed'`, 120*time.Second),
		waitJS(`document.querySelectorAll('[data-testid^=verdict-] tbody tr').length > 0`, 20*time.Second),
		waitJS(`document.querySelectorAll('figure.chart canvas').length >= 3`, 10*time.Second))
	var verdict string
	var noReload int
	b.run(t, "verdict", chromedp.Evaluate(`document.querySelector('[data-testid^=verdict-]').textContent`, &verdict), chromedp.Evaluate(`window.__noReload ?? 0`, &noReload))
	t.Logf("verdict: %s", verdict)
	if noReload != 42 {
		t.Fatal("the page was reloaded")
	}
	screenshot(t, b, "experiment")

	var before struct{ Version int }
	e.api("GET", "/api/v1/deployments/exp", nil, &before)
	b.run(t, "promote", chromedp.Click(`[data-testid=promote-candidate]`, chromedp.ByQuery),
		chromedp.WaitVisible(`dialog[open]`, chromedp.ByQuery),
		// Promote against the verdict if the verdict is not promote: the button must work either way.
		chromedp.Evaluate(`(() => { const c = document.querySelector('dialog[open] input[type=checkbox]'); if (!document.querySelector('[data-testid=verdict-candidate] .badge.s-promote') && !c.checked) c.click(); })()`, nil),
		chromedp.Click(`dialog[open] button[type=submit]`, chromedp.ByQuery),
		waitJS(`document.querySelector('[data-testid=promoted]')?.textContent.includes('Promoted candidate into exp')`, 30*time.Second))
	var after struct {
		Version  int
		Template string
	}
	e.api("GET", "/api/v1/deployments/exp", nil, &after)
	if after.Version != before.Version+1 || after.Template != "process-aggregated-v1" {
		t.Fatalf("after promote the deployment is version %d template %s (was version %d)", after.Version, after.Template, before.Version)
	}
	if len(b.Dialogs()) > 0 || len(b.Problems()) > 0 {
		t.Fatalf("dialogs %v, problems %v", b.Dialogs(), b.Problems())
	}
}
