// Package e2e drives the web console in a real Chromium (Debian's
// chromium, through chromedp) against a real phoenix-server on loopback,
// with simulated agents (agentsim, real OpAMP over sockets) and one real
// phoenix-agent supervising the built phoenix-otelcol.
package e2e

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/phoenix-otel/phoenix/loadgen"
)

func TestMain(m *testing.M) {
	loadgen.RunChildIfRequested()
	os.Exit(m.Run())
}

const (
	xssHost   = `<img src=x onerror=alert(1)>`
	xssLabel  = `<script>alert(2)</script>`
	failError = `failed to build pipelines: processor "topk" has invalid configuration: k must be positive`
)

func TestConsole(t *testing.T) {
	b := newBrowser(t, 1280, 800)
	e := startServer(t)

	// Simulated agents: two healthy, one whose collector refuses every
	// config, one with a hostile host name and label.
	sims := map[string]map[string]string{"sim-1": {"fleet": "sim", "env": "prod"}, "sim-2": {"fleet": "sim", "env": "dev"}}
	for h, l := range sims {
		e.sim(h, l, "")
	}
	e.sim("sim-bad", map[string]string{"fleet": "sim"}, failError)
	e.sim(xssHost, map[string]string{"fleet": "sim", "note": xssLabel}, "")

	// One real phoenix-agent with the built collector.
	realHost := "real-" + strconv.Itoa(os.Getpid())
	e.realAgent(realHost, map[string]string{"env": "e2e"}, 0)

	if c := e.api("POST", "/api/v1/deployments", map[string]any{"name": "sims", "template": "process-topk-v1", "params": map[string]any{"k": 5},
		"destination": map[string]any{"type": "none"}, "target": map[string]any{"selector": map[string]string{"fleet": "sim"}},
		"rollout": map[string]any{"strategy": "all-at-once"}}, nil); c != 201 {
		t.Fatalf("deploy sims: %d", c)
	}
	if c := e.api("POST", "/api/v1/deployments", map[string]any{"name": "real", "template": "process-topk-v1",
		"params": map[string]any{"k": 5, "collection_interval": "1s"}, "destination": map[string]any{"type": "none"},
		"target": map[string]any{"hosts": []string{realHost}}}, nil); c != 201 {
		t.Fatalf("deploy real: %d", c)
	}

	// A wrong token is refused and not kept.
	t.Run("wrong token refused", func(t *testing.T) {
		var stored string
		b.run(t, "wrong token", signIn(e.url, "not-the-token"),
			waitJS(`document.querySelector('[role=alert]')?.textContent.includes('refused this token')`, 10*time.Second),
			chromedp.Evaluate(`sessionStorage.getItem('phoenix.token') ?? ''`, &stored))
		if stored != "" {
			t.Fatalf("the refused token was stored: %q", stored)
		}
		screenshot(t, b, "sign-in")
	})

	b.run(t, "sign in", signIn(e.url, e.srv.APIToken()),
		chromedp.WaitVisible(`[data-testid=pipelines-table]`, chromedp.ByQuery))
	var href string
	b.run(t, "url", chromedp.Location(&href))
	if strings.Contains(href, e.srv.APIToken()) {
		t.Fatal("the token is in the URL")
	}
	// A marker that a reload would lose: every later check proves "without reload".
	b.run(t, "marker", chromedp.Evaluate(`window.__noReload = 42`, nil))
	noReload := func(t *testing.T) {
		t.Helper()
		var v int
		b.run(t, "marker", chromedp.Evaluate(`window.__noReload ?? 0`, &v))
		if v != 42 {
			t.Fatal("the page was reloaded")
		}
	}
	row := func(host string) string {
		return `document.querySelector('tr[data-host=' + CSS.escape(` + jsString(host) + `) + ']')`
	}

	t.Run("deployed pipelines show real state", func(t *testing.T) {
		b.run(t, "rows", waitJS(row("sim-1")+`?.querySelector('.badge')?.textContent === 'applied'`, 30*time.Second),
			waitJS(row("sim-2")+`?.textContent.includes('sims v1')`, 30*time.Second),
			waitJS(row(realHost)+`?.querySelector('.badge')?.textContent === 'applied'`, 90*time.Second))
	})

	t.Run("failed host shows the collector's error", func(t *testing.T) {
		b.run(t, "failed", waitJS(row("sim-bad")+`?.querySelector('.badge')?.textContent === 'failed'`, 30*time.Second),
			waitJS(row("sim-bad")+`?.querySelector('[data-testid=host-error]')?.textContent.includes(`+jsString(failError)+`)`, 10*time.Second))
	})

	t.Run("hostile host name runs no script", func(t *testing.T) {
		var imgs, scripts int
		var text string
		b.run(t, "xss", waitJS(row(xssHost)+` !== null`, 30*time.Second),
			chromedp.Evaluate(row(xssHost)+`.querySelector('th').textContent`, &text),
			chromedp.Evaluate(`document.querySelectorAll('main img').length`, &imgs),
			chromedp.Evaluate(`document.querySelectorAll('main script').length`, &scripts))
		if text != xssHost || imgs != 0 || scripts != 0 {
			t.Fatalf("host cell %q, %d img and %d script elements in main", text, imgs, scripts)
		}
	})

	t.Run("real agent's figures", func(t *testing.T) {
		// The real collector's own metrics reach the table: input processes,
		// output series and a reduction.
		b.run(t, "figures", waitJS(row(realHost)+`?.querySelectorAll('td.num')[0]?.textContent !== '–' && `+row(realHost)+`?.querySelectorAll('td.num')[2]?.textContent.endsWith('%')`, 120*time.Second))
		var cells []string
		b.run(t, "cells", chromedp.Evaluate(`[...`+row(realHost)+`.querySelectorAll('td.num')].map(c => c.textContent)`, &cells))
		t.Logf("real host figures: %v", cells)
		screenshot(t, b, "deployed-pipelines")
	})

	t.Run("sort and filter, by keyboard", func(t *testing.T) {
		// Tab from the top reaches the skip link, the views and the sort buttons.
		var seen []string
		b.run(t, "focus start", chromedp.Evaluate(`document.activeElement.blur(); window.scrollTo(0,0)`, nil))
		for i := 0; i < 12; i++ {
			var s string
			b.run(t, "tab", chromedp.KeyEvent(kb.Tab), chromedp.Evaluate(`document.activeElement.tagName + ':' + document.activeElement.textContent.trim()`, &s))
			seen = append(seen, s)
		}
		all := strings.Join(seen, "|")
		for _, want := range []string{"A:Skip to content", "A:Catalog", "A:Fleet and load", "INPUT:"} {
			if !strings.Contains(all, want) {
				t.Fatalf("Tab order %v does not reach %q", seen, want)
			}
		}
		var sortState string
		b.run(t, "sort by host with Enter", chromedp.Focus(`th button.sort`, chromedp.ByQuery), chromedp.KeyEvent(kb.Enter),
			waitJS(`document.querySelector('th[aria-sort=ascending]')?.textContent.startsWith('Host')`, 5*time.Second),
			chromedp.Evaluate(`[...document.querySelectorAll('tbody tr')].map(r => r.dataset.host).join(',')`, &sortState))
		if !strings.HasPrefix(sortState, xssHost+",real-") {
			t.Fatalf("sorted by host: %s", sortState)
		}
		b.run(t, "filter", chromedp.SendKeys(`[data-testid=filter]`, "env=dev", chromedp.ByQuery),
			waitJS(`document.querySelectorAll('tbody tr').length === 1 && document.querySelector('tbody tr').dataset.host === 'sim-2'`, 5*time.Second),
			setInput(`[data-testid=filter]`, ""),
			waitJS(`document.querySelectorAll('tbody tr').length === 5`, 5*time.Second))
	})

	t.Run("a change on an agent appears without reload", func(t *testing.T) {
		e.sim("sim-live", map[string]string{"fleet": "sim"}, "")
		b.run(t, "new agent", waitJS(row("sim-live")+`?.querySelector('.badge')?.textContent === 'applied'`, 30*time.Second))
		noReload(t)
	})

	t.Run("rollback with confirmation", func(t *testing.T) {
		if c := e.api("PATCH", "/api/v1/deployments/sims", map[string]any{"params": map[string]any{"k": 7}}, nil); c != 200 {
			t.Fatalf("update: %d", c)
		}
		b.run(t, "v2 shows", waitJS(row("sim-1")+`?.textContent.includes('sims v2')`, 30*time.Second))
		b.run(t, "rollback", chromedp.Click(`tr[data-host="sim-1"] .row-actions button:nth-of-type(1)`, chromedp.ByQuery),
			chromedp.WaitVisible(`dialog[open]`, chromedp.ByQuery),
			waitJS(`document.querySelector('dialog[open]').textContent.includes('Roll deployment sims')`, 5*time.Second))
		// Cancel first: nothing changes.
		b.run(t, "cancel", chromedp.Click(`dialog[open] .actions button:first-child`, chromedp.ByQuery), waitJS(`!document.querySelector('dialog[open]')`, 5*time.Second))
		var d struct{ Version int }
		e.api("GET", "/api/v1/deployments/sims", nil, &d)
		if d.Version != 2 {
			t.Fatalf("cancel changed the deployment: version %d", d.Version)
		}
		b.run(t, "confirm", chromedp.Click(`tr[data-host="sim-1"] .row-actions button:nth-of-type(1)`, chromedp.ByQuery),
			chromedp.WaitVisible(`dialog[open]`, chromedp.ByQuery),
			chromedp.Click(`dialog[open] button[type=submit]`, chromedp.ByQuery),
			waitJS(row("sim-1")+`?.textContent.includes('sims v3')`, 30*time.Second))
		var v struct {
			Version    int `json:"version"`
			RollbackOf int `json:"rollback_of"`
		}
		e.api("GET", "/api/v1/deployments/sims", nil, &v)
		if v.Version != 3 || v.RollbackOf != 1 {
			t.Fatalf("after rollback: %+v", v)
		}
	})

	t.Run("retry a failed host", func(t *testing.T) {
		b.run(t, "retry", chromedp.Click(`tr[data-host="sim-bad"] .row-actions button`, chromedp.ByQuery),
			chromedp.WaitVisible(`dialog[open]`, chromedp.ByQuery),
			waitJS(`document.querySelector('dialog[open]').textContent.includes('sim-bad')`, 5*time.Second),
			chromedp.Click(`dialog[open] button[type=submit]`, chromedp.ByQuery),
			waitJS(`!document.querySelector('dialog[open]')`, 10*time.Second),
			// The collector refuses again: failed, with its error.
			waitJS(row("sim-bad")+`?.querySelector('.badge')?.textContent === 'failed'`, 30*time.Second))
	})

	t.Run("host page", func(t *testing.T) {
		b.run(t, "host page", chromedp.Evaluate(`location.hash = '#/hosts/' + encodeURIComponent(`+jsString(realHost)+`)`, nil),
			waitJS(`document.querySelector('[data-testid=active-config]')?.textContent.includes('topk')`, 30*time.Second),
			waitJS(`document.querySelectorAll('[data-testid=versions] tbody tr').length === 1`, 10*time.Second),
			waitJS(`document.querySelectorAll('figure.chart canvas').length >= 4`, 10*time.Second))
		noReload(t)
		screenshot(t, b, "host")
		b.run(t, "failed host page", chromedp.Evaluate(`location.hash = '#/hosts/sim-bad'`, nil),
			waitJS(`document.querySelector('[data-testid=host-page-error]')?.textContent.includes(`+jsString(failError)+`)`, 10*time.Second))
		b.run(t, "xss host page", chromedp.Evaluate(`location.hash = '#/hosts/' + encodeURIComponent(`+jsString(xssHost)+`)`, nil),
			waitJS(`document.querySelector('[data-testid=host-name]')?.textContent === `+jsString(xssHost), 10*time.Second),
			waitJS(`document.querySelector('main').textContent.includes(`+jsString("note="+xssLabel)+`)`, 10*time.Second))
	})

	t.Run("catalog renders YAML live and deploys", func(t *testing.T) {
		b.run(t, "catalog", chromedp.Evaluate(`location.hash = '#/catalog'`, nil),
			waitJS(`[...document.querySelectorAll('[data-testid=catalog-table] tbody tr')].some(r => r.textContent.includes('process-topk-v1'))`, 10*time.Second))
		screenshot(t, b, "catalog")
		b.run(t, "template", chromedp.Evaluate(`location.hash = '#/catalog/process-topk-v1'`, nil),
			waitJS(`document.querySelector('[data-testid=rendered-yaml]')?.textContent.includes('topk')`, 10*time.Second),
			setInput(`#param-k`, "17"),
			waitJS(`document.querySelector('[data-testid=rendered-yaml]').textContent.includes('top_k: 17')`, 10*time.Second),
			waitJS(`document.querySelector('[data-testid=cli-command]').textContent.includes('--param k=17')`, 5*time.Second),
			// Out of bounds: the server's validation message is shown.
			setInput(`#param-k`, "0"),
			waitJS(`document.querySelector('main [role=alert]')?.textContent.includes('params.k')`, 10*time.Second),
			setInput(`#param-k`, "9"),
			waitJS(`document.querySelector('[data-testid=rendered-yaml]').textContent.includes('top_k: 9')`, 10*time.Second))
		screenshot(t, b, "catalog-template")
		e.sim("sim-form", map[string]string{"role": "form"}, "")
		b.run(t, "deploy form", chromedp.SendKeys(`[data-testid=deploy-form] input[name=name]`, "from-console", chromedp.ByQuery),
			chromedp.SendKeys(`[data-testid=deploy-form] input[name=hosts]`, "sim-form", chromedp.ByQuery),
			chromedp.Click(`[data-testid=deploy-form] button[type=submit]`, chromedp.ByQuery),
			waitJS(`document.querySelector('[data-testid=deploy-form] [role=status]')?.textContent.includes('from-console version 1')`, 10*time.Second))
		var d struct {
			Params map[string]any `json:"params"`
		}
		if c := e.api("GET", "/api/v1/deployments/from-console", nil, &d); c != 200 || d.Params["k"] != float64(9) {
			t.Fatalf("deployment from the form: %d %+v", c, d)
		}
	})

	t.Run("fleet and load", func(t *testing.T) {
		b.run(t, "fleet", chromedp.Evaluate(`location.hash = '#/fleet'`, nil),
			waitJS(`document.querySelectorAll('[data-testid=agents-table] tbody tr').length === 7`, 10*time.Second),
			waitJS(`document.querySelector('[data-testid=agents-table] tr[data-host=`+jsString(realHost)+`]')?.textContent.includes('healthy')`, 10*time.Second),
			waitJS(`document.querySelectorAll('[data-testid=event-feed] li').length > 0`, 10*time.Second))
		// A change on an agent appears without reload: it goes away.
		gone := e.sim("sim-gone", map[string]string{"x": "y"}, "")
		b.run(t, "appears", waitJS(`document.querySelector('[data-testid=agents-table] tr[data-host="sim-gone"]')?.textContent.includes('online')`, 20*time.Second))
		stopSim(gone)
		b.run(t, "goes offline", waitJS(`document.querySelector('[data-testid=agents-table] tr[data-host="sim-gone"]')?.textContent.includes('offline')`, 20*time.Second),
			waitJS(`document.querySelector('[data-testid=event-feed]').textContent.includes('agent sim-gone disconnected')`, 10*time.Second))
		noReload(t)
		// Start a synthetic load simulation on a simulated host; it is listed.
		b.run(t, "loadsim", setInput(`[data-testid=loadsim-form] select[name=target_host]`, "sim-2"),
			chromedp.Click(`[data-testid=loadsim-form] button[type=submit]`, chromedp.ByQuery),
			waitJS(`document.querySelector('[data-testid=loadsim-table] tbody tr')?.textContent.includes('sim-2')`, 10*time.Second))
		screenshot(t, b, "fleet")
	})

	t.Run("narrow window", func(t *testing.T) {
		var over bool
		b.run(t, "narrow", chromedp.EmulateViewport(390, 844), chromedp.Evaluate(`location.hash = '#/'`, nil),
			waitJS(`document.querySelectorAll('tbody tr').length >= 5`, 10*time.Second),
			chromedp.Evaluate(`document.documentElement.scrollWidth > window.innerWidth + 1`, &over),
			chromedp.Evaluate(`window.scrollTo(0, 0)`, nil))
		if over {
			t.Fatal("at 390px the page scrolls sideways (only tables may, inside their frame)")
		}
		screenshot(t, b, "narrow")
		b.run(t, "wide again", chromedp.EmulateViewport(1280, 800))
	})

	if len(b.Dialogs()) > 0 {
		t.Fatalf("the page opened dialogs (script ran): %v", b.Dialogs())
	}
	if len(b.Problems()) > 0 {
		t.Fatalf("the page logged problems: %v", b.Problems())
	}
}
