package console

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandlerHeadersAndPaths(t *testing.T) {
	h := Handler()
	get := func(method, p string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(method, p, nil))
		return w
	}
	w := get("GET", "/")
	if w.Code != 200 {
		t.Fatalf("GET / = %d", w.Code)
	}
	csp := w.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Fatalf("CSP = %q", csp)
	}
	if w.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Fatal("no nosniff")
	}
	body := w.Body.String()
	// No inline script: every <script> loads a file.
	for _, part := range strings.Split(body, "<script")[1:] {
		if !strings.Contains(strings.SplitN(part, ">", 2)[0], "src=") {
			t.Fatalf("inline script in index.html: %s", body)
		}
	}
	if Built() != strings.Contains(body, "/assets/") {
		t.Fatalf("Built() = %v but index is:\n%s", Built(), body)
	}
	for _, p := range []string{"/nope", "/assets/../../console.go", "/dist/README.md"} {
		if c := get("GET", p).Code; c != 404 {
			t.Errorf("GET %s = %d, want 404", p, c)
		}
	}
	if c := get("POST", "/").Code; c != 405 {
		t.Errorf("POST / = %d, want 405", c)
	}
}

func TestAssetsServedWhenBuilt(t *testing.T) {
	if !Built() {
		t.Skip("console not built (make build builds it): only the placeholder page is embedded")
	}
	w := httptest.NewRecorder()
	Handler().ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	body := w.Body.String()
	i := strings.Index(body, "/assets/")
	j := strings.Index(body[i:], `"`)
	asset := body[i : i+j]
	w = httptest.NewRecorder()
	Handler().ServeHTTP(w, httptest.NewRequest("GET", asset, nil))
	if w.Code != http.StatusOK || !strings.Contains(w.Header().Get("Content-Type"), "javascript") && !strings.Contains(w.Header().Get("Content-Type"), "css") {
		t.Fatalf("GET %s = %d %s", asset, w.Code, w.Header().Get("Content-Type"))
	}
	if !strings.Contains(w.Header().Get("Cache-Control"), "immutable") {
		t.Fatalf("asset Cache-Control = %q", w.Header().Get("Cache-Control"))
	}
}
