package harness

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/chromedp/chromedp"
)

// ChromiumPath is the system browser: $PHOENIX_CHROMIUM, else Debian's
// /usr/bin/chromium. The suite never downloads a browser.
func ChromiumPath() (string, error) {
	p := os.Getenv("PHOENIX_CHROMIUM")
	if p == "" {
		p = "/usr/bin/chromium"
	}
	if st, err := os.Stat(p); err != nil || st.IsDir() {
		return "", fmt.Errorf("no Chromium at %s (Debian: apt-get install chromium; .ci/run installs it; PHOENIX_CHROMIUM names another)", p)
	}
	return p, nil
}

// Browser is one headless Chromium tab, driven with chromedp (the same
// options as the console's own browser tests, console/e2e).
type Browser struct {
	ctx    context.Context
	cancel func()
}

// NewBrowser starts Chromium with its profile in dir.
func NewBrowser(exe, dir string) (*Browser, error) {
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(dir),
		chromedp.WindowSize(1400, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	b := &Browser{ctx: ctx, cancel: func() { cancel(); cancelA() }}
	if err := chromedp.Run(ctx); err != nil {
		b.Close()
		return nil, fmt.Errorf("start chromium: %w", err)
	}
	return b, nil
}

// Close ends the browser process.
func (b *Browser) Close() { b.cancel() }

// Run runs actions with a timeout.
func (b *Browser) Run(timeout time.Duration, actions ...chromedp.Action) error {
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	return chromedp.Run(ctx, actions...)
}

// WaitJS waits until a JavaScript expression is true.
func WaitJS(expr string, timeout time.Duration) chromedp.Action {
	return chromedp.Poll(expr, nil, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(100*time.Millisecond))
}

// SignIn opens the console at base and signs in with the API token typed
// into its sign-in form, as a user does.
func (b *Browser) SignIn(base, token string) error {
	return b.Run(60*time.Second,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(`#token`, chromedp.ByQuery),
		chromedp.SendKeys(`#token`, token, chromedp.ByQuery),
		chromedp.Click(`[data-testid=signin-form] button[type=submit]`, chromedp.ByQuery),
	)
}

// APIToken is the token the server wrote into its data dir.
func (s *Server) APIToken() string { return s.apiToken }
