package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/phoenix-otel/phoenix/agent"
	"github.com/phoenix-otel/phoenix/internal/testutil"
	"github.com/phoenix-otel/phoenix/internal/testutil/browser"
	"github.com/phoenix-otel/phoenix/opamp-server/agentsim"
	"github.com/phoenix-otel/phoenix/opamp-server/console"
	"github.com/phoenix-otel/phoenix/opamp-server/server"
	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// chromium returns the system browser, or skips (fails under CI=true);
// likewise when the console is not built into this binary.
func chromium(t *testing.T) string {
	t.Helper()
	p := browser.Require(t)
	if !console.Built() {
		browser.SkipOrFail(t, "the console is not built into this test binary: run `make build` (npm ci + npm run build in console/) first")
	}
	return p
}

type env struct {
	t   *testing.T
	srv *server.Server
	url string
	ctx context.Context
	log *slog.Logger
}

func startServer(t *testing.T, res ...store.Resolution) *env {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("PHOENIX_E2E_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	ctx := context.Background()
	srv, err := server.New(ctx, server.Config{OpAMPAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", DataDir: filepath.Join(t.TempDir(), "server"), ServerID: "console-e2e", Logger: logger, MetricResolutions: res})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		_ = srv.Stop(c)
	})
	return &env{t: t, srv: srv, url: srv.APIURL(), ctx: ctx, log: logger}
}

// api calls the REST API with the real token; out may be nil.
func (e *env) api(method, path string, body, out any) int {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.url+path, rd)
	req.Header.Set("Authorization", "Bearer "+e.srv.APIToken())
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatalf("%s %s: %v\n%s", method, path, err, b)
		}
	}
	if resp.StatusCode >= 300 {
		e.t.Logf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return resp.StatusCode
}

func (e *env) sim(host string, labels map[string]string, fail string) *agentsim.Agent {
	e.t.Helper()
	opts := agentsim.Options{URL: e.srv.OpAMPURL(), Token: e.srv.EnrollmentToken(), Host: host, Labels: labels, Heartbeat: 2 * time.Second}
	if fail != "" {
		opts.Fail = func([]byte) string { return fail }
	}
	a, err := agentsim.Start(e.ctx, opts)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { stopSim(a) })
	return a
}

// stopSim stops a simulated agent once, however often it is called
// (opamp-go's Stop blocks when called twice).
func stopSim(a *agentsim.Agent) {
	if _, done := stopped.LoadOrStore(a, true); done {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = a.Stop(ctx)
}

var stopped sync.Map

// tab is one headless Chromium (internal/testutil/browser) with the
// dialogs and problems its page recorded.
type tab struct{ *browser.Browser }

func newBrowser(t *testing.T, width, height int) *tab {
	t.Helper()
	chromium(t)
	return &tab{browser.New(t, browser.Options{Width: width, Height: height})}
}

func (b *tab) run(t *testing.T, what string, actions ...chromedp.Action) {
	t.Helper()
	b.runFor(t, 90*time.Second, what, actions...)
}

// runFor is run with a longer bound, for the scale test.
func (b *tab) runFor(t *testing.T, d time.Duration, what string, actions ...chromedp.Action) {
	t.Helper()
	if err := b.Run(d, actions...); err != nil {
		var html string
		_ = b.Run(10*time.Second, chromedp.OuterHTML("main", &html, chromedp.ByQuery))
		if len(html) > 4000 {
			html = html[:4000]
		}
		t.Fatalf("%s: %v\npage main:\n%s", what, err, html)
	}
}

var (
	waitJS   = browser.WaitJS
	signIn   = browser.SignIn
	jsString = browser.JSString
	setInput = browser.SetInput
)

// screenshot captures the viewport; with PHOENIX_UPDATE_SCREENSHOTS=1 it
// also writes docs/screenshots/<name>.png (the README shows them).
func screenshot(t *testing.T, b *tab, name string) {
	t.Helper()
	var png []byte
	b.run(t, "screenshot "+name, chromedp.Evaluate(`document.activeElement?.blur(); document.querySelectorAll('.table-wrap').forEach(w => w.scrollLeft = 0)`, nil),
		chromedp.Sleep(300*time.Millisecond), chromedp.CaptureScreenshot(&png))
	if len(png) < 1000 || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("screenshot %s: %d bytes, not a PNG", name, len(png))
	}
	dir := t.TempDir()
	if os.Getenv("PHOENIX_UPDATE_SCREENSHOTS") == "1" {
		dir = filepath.Join("..", "..", "docs", "screenshots")
		_ = os.MkdirAll(dir, 0o755)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// realAgent runs a phoenix-agent supervising the built collector, offering
// the collector's own metrics every period (0: the agent's default).
func (e *env) realAgent(host string, labels map[string]string, period time.Duration) {
	e.t.Helper()
	bin := testutil.OtelcolBinary(e.t)
	a, err := agent.New(agent.Config{
		ServerURL: e.srv.OpAMPURL(), Token: e.srv.EnrollmentToken(), DataDir: e.t.TempDir(), CollectorPath: bin,
		HostName: host, HealthInterval: 500 * time.Millisecond, HeartbeatInterval: time.Second, ApplyTimeout: 60 * time.Second,
		Labels: labels, Logger: e.log,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	if period > 0 {
		a.SetOwnMetricsPeriod(period)
	}
	actx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(actx) }()
	e.t.Cleanup(func() {
		stop()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			e.t.Error("the agent did not stop")
		}
	})
}

// raw returns the body of an API call, whatever its status.
func (e *env) raw(method, path string) []byte {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+e.srv.APIToken())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return b
}
