// Package browser runs the system Chromium headless for Phoenix's browser
// tests (the console's e2e tests, the acceptance suite, the experiment
// report), driven with chromedp. It never downloads a browser: it finds
// Debian's chromium package (which .ci/run installs) or $PHOENIX_CHROMIUM,
// and a test without one skips with the reason, except under CI=true where
// it fails.
package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// debianChromium is where Debian's chromium package installs the browser.
const debianChromium = "/usr/bin/chromium"

// Path returns the system browser: $PHOENIX_CHROMIUM, else chromium on
// $PATH, else Debian's /usr/bin/chromium; an error says how to get one.
func Path() (string, error) {
	p := os.Getenv("PHOENIX_CHROMIUM")
	if p == "" {
		if lp, err := exec.LookPath("chromium"); err == nil {
			return lp, nil
		}
		p = debianChromium
	}
	if st, err := os.Stat(p); err != nil || st.IsDir() {
		return "", fmt.Errorf("no Chromium at %s (Debian package chromium: apt-get install chromium; .ci/run installs it; PHOENIX_CHROMIUM names another)", p)
	}
	return p, nil
}

// Require returns Path, or skips the test with the reason (fails it under
// CI=true, where the browser is a prerequisite).
func Require(t testing.TB) string {
	t.Helper()
	p, err := Path()
	if err != nil {
		SkipOrFail(t, err.Error())
	}
	return p
}

// SkipOrFail skips the test with msg, or fails it under CI=true. Browser
// tests use it for their other prerequisites too (a built console).
func SkipOrFail(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// Options shape the browser; zero values take the defaults.
type Options struct {
	Width, Height int // viewport; 1280×800 by default
	// ProfileDir holds the browser profile; by default a fresh temporary
	// directory, removed by Close.
	ProfileDir string
	// Logf receives chromedp's errors (not the DOM events it does not
	// model, which newer Chromium sends); nil drops them.
	Logf func(format string, args ...any)
}

// Browser is one headless Chromium with one tab. It records the
// JavaScript dialogs the page opened (and accepts them) and the problems
// it logged: uncaught exceptions and Content-Security-Policy violations.
type Browser struct {
	ctx     context.Context
	cancel  func()
	profile string // removed on Close when we made it

	mu       sync.Mutex
	dialogs  []string
	problems []string
}

// Start launches Chromium at exe.
func Start(exe string, o Options) (*Browser, error) {
	if o.Width == 0 || o.Height == 0 {
		o.Width, o.Height = 1280, 800
	}
	b := &Browser{}
	profile := o.ProfileDir
	if profile == "" {
		dir, err := os.MkdirTemp("", "phoenix-chromium-")
		if err != nil {
			return nil, err
		}
		profile, b.profile = dir, dir
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(o.Width, o.Height),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithErrorf(func(f string, args ...any) {
		if msg := fmt.Sprintf(f, args...); o.Logf != nil && !strings.Contains(msg, "unhandled node event") {
			o.Logf("chromedp: %s", msg)
		}
	}))
	b.ctx, b.cancel = ctx, func() { cancel(); cancelA() }
	chromedp.ListenTarget(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *page.EventJavascriptDialogOpening:
			b.record(&b.dialogs, ev.Message)
			go func() { _ = chromedp.Run(ctx, page.HandleJavaScriptDialog(true)) }()
		case *runtime.EventExceptionThrown:
			b.record(&b.problems, "exception: "+ev.ExceptionDetails.Error())
		case *cdplog.EventEntryAdded:
			// Chromium reports a blocked load or inline script here.
			if e := ev.Entry; e != nil && strings.Contains(e.Text, "Content Security Policy") {
				b.record(&b.problems, "csp: "+e.Text)
			}
		case *runtime.EventConsoleAPICalled:
			for _, a := range ev.Args {
				if strings.Contains(string(a.Value), "Content Security Policy") {
					b.record(&b.problems, "console: "+string(a.Value))
				}
			}
		}
	})
	if err := chromedp.Run(ctx, chromedp.EmulateViewport(int64(o.Width), int64(o.Height))); err != nil {
		b.Close()
		return nil, fmt.Errorf("start chromium %s: %w", exe, err)
	}
	return b, nil
}

// New is Require and Start, with Close at the end of the test; chromedp's
// errors go to the test log.
func New(t testing.TB, o Options) *Browser {
	t.Helper()
	exe := Require(t)
	if o.Logf == nil {
		o.Logf = t.Logf
	}
	b, err := Start(exe, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

func (b *Browser) record(to *[]string, s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	*to = append(*to, s)
}

// Context is the tab's chromedp context.
func (b *Browser) Context() context.Context { return b.ctx }

// Run runs actions in the tab, within timeout.
func (b *Browser) Run(timeout time.Duration, actions ...chromedp.Action) error {
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	return chromedp.Run(ctx, actions...)
}

// Dialogs are the messages of the JavaScript dialogs the page opened.
func (b *Browser) Dialogs() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.dialogs...)
}

// Problems are the uncaught exceptions and CSP violations the page logged.
func (b *Browser) Problems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.problems...)
}

// Close ends the browser process and removes a profile Start made (after
// Chromium's helpers let go of it: they may write late).
func (b *Browser) Close() {
	b.cancel()
	if b.profile != "" {
		for i := 0; i < 50 && os.RemoveAll(b.profile) != nil; i++ {
			time.Sleep(100 * time.Millisecond)
		}
		b.profile = ""
	}
}

// WaitJS waits until a JavaScript expression is true (polled every 50 ms).
func WaitJS(expr string, timeout time.Duration) chromedp.Action {
	return chromedp.Poll(expr, nil, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(50*time.Millisecond))
}

// SignIn opens the console at base and types the API token into its
// sign-in form, as a user does (the token never goes into a URL).
func SignIn(base, token string) chromedp.Tasks {
	return chromedp.Tasks{
		chromedp.Navigate(base + "/"),
		chromedp.WaitVisible(`#token`, chromedp.ByQuery),
		chromedp.SendKeys(`#token`, token, chromedp.ByQuery),
		chromedp.Click(`[data-testid=signin-form] button[type=submit]`, chromedp.ByQuery),
	}
}

// JSString quotes s as a JavaScript string literal.
func JSString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// SetInput sets an input's value as typing would, firing the input and
// change events pages listen to (chromedp's SetValue and Clear fire none).
func SetInput(sel, value string) chromedp.Action {
	return chromedp.Evaluate(`(() => { const el = document.querySelector(`+JSString(sel)+`); el.focus(); el.value = `+JSString(value)+`; el.dispatchEvent(new Event('input', {bubbles: true})); el.dispatchEvent(new Event('change', {bubbles: true})); })()`, nil)
}
