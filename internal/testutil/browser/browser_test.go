package browser

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestRecordsDialogsAndProblems: a page that opens a dialog, throws and
// breaks its own Content-Security-Policy is recorded as such, and a quiet
// page records nothing.
func TestRecordsDialogsAndProblems(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/quiet", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`<!doctype html><title>q</title><input id=x><p id=out></p>`))
	})
	mux.HandleFunc("/noisy", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'unsafe-inline'")
		_, _ = w.Write([]byte(`<!doctype html><title>n</title><script>alert("hello"); setTimeout(() => { throw new Error("boom") }, 0)</script><img src="http://192.0.2.1/x.png">`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	b := New(t, Options{Width: 800, Height: 600})
	var got string
	if err := b.Run(30*time.Second, chromedp.Navigate(srv.URL+"/quiet"),
		SetInput("#x", `a "quoted" value`),
		WaitJS(`document.querySelector('#x').value === `+JSString(`a "quoted" value`), 5*time.Second),
		chromedp.Evaluate(`document.title`, &got)); err != nil {
		t.Fatal(err)
	}
	if got != "q" || len(b.Dialogs()) != 0 || len(b.Problems()) != 0 {
		t.Fatalf("quiet page: title %q, dialogs %v, problems %v", got, b.Dialogs(), b.Problems())
	}
	if err := b.Run(30*time.Second, chromedp.Navigate(srv.URL+"/noisy"), chromedp.Sleep(500*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if d := b.Dialogs(); len(d) != 1 || d[0] != "hello" {
		t.Fatalf("dialogs %v, want [hello]", d)
	}
	p := strings.Join(b.Problems(), "\n")
	if !strings.Contains(p, "boom") {
		t.Fatalf("the thrown error is not recorded: %q", p)
	}
	if !strings.Contains(p, "Content Security Policy") {
		t.Fatalf("the CSP violation is not recorded: %q", p)
	}
	t.Logf("problems: %s", p)
}

// TestPathNamesTheWayToABrowser: a missing browser's error says what to
// install and which variable names another.
func TestPathNamesTheWayToABrowser(t *testing.T) {
	t.Setenv("PHOENIX_CHROMIUM", t.TempDir()+"/no-such-chromium")
	_, err := Path()
	if err == nil || !strings.Contains(err.Error(), "PHOENIX_CHROMIUM") || !strings.Contains(err.Error(), "chromium") {
		t.Fatalf("Path() error %v", err)
	}
}
