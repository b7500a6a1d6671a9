package server

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// authExempt names every route that does not take the REST API token, and
// why. A route registered on the HTTP port and not named here must answer
// 401 without a token and with a wrong one; the test enumerates the routes
// from the server's own mux, so a new route is checked without anyone
// remembering to add it.
var authExempt = map[string]string{
	"GET /healthz": "liveness probe: no secrets, must answer without credentials",
	"GET /readyz":  "readiness probe: no secrets, must answer without credentials",
	"GET /metrics": "the server's own Prometheus metrics, scraped without credentials",
	// The agents' own-metrics ingest has its own credential (the agent's),
	// checked by TestIngestNeedsAgentCredential below.
	"POST /v1/metrics": "OTLP ingest: agent credential, not the API token",
	// The console's static files are public (the console asks for the token).
	"/":              "console static assets",
	"GET /":          "console static assets",
	"GET /{$}":       "console index",
	"GET /assets/":   "console static assets",
	"GET /{path...}": "console static assets (single-page-app fallback)",
}

// muxPatterns lists the patterns registered on a ServeMux. net/http offers
// no listing, so this walks the mux's routing tree read-only with reflect;
// if Go reshapes that tree the walk finds nothing and the test fails saying
// so, rather than passing over zero routes.
func muxPatterns(t *testing.T, mux *http.ServeMux) []string {
	t.Helper()
	seen := map[string]bool{}
	var walk func(n reflect.Value)
	walk = func(n reflect.Value) {
		if n.Kind() == reflect.Pointer {
			if n.IsNil() {
				return
			}
			n = n.Elem()
		}
		if n.Kind() != reflect.Struct {
			return
		}
		if p := n.FieldByName("pattern"); p.IsValid() && p.Kind() == reflect.Pointer && !p.IsNil() {
			if s := p.Elem().FieldByName("str"); s.IsValid() && s.Kind() == reflect.String {
				seen[s.String()] = true
			}
		}
		if c := n.FieldByName("children"); c.IsValid() {
			if s := c.FieldByName("s"); s.IsValid() && s.Kind() == reflect.Slice {
				for i := 0; i < s.Len(); i++ {
					walk(s.Index(i).FieldByName("value"))
				}
			}
			if m := c.FieldByName("m"); m.IsValid() && m.Kind() == reflect.Map {
				it := m.MapRange()
				for it.Next() {
					walk(it.Value())
				}
			}
		}
		for _, f := range []string{"multiChild", "emptyChild"} {
			if c := n.FieldByName(f); c.IsValid() {
				walk(c)
			}
		}
	}
	walk(reflect.ValueOf(mux).Elem().FieldByName("tree"))
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	if len(out) == 0 {
		t.Fatal("found no routes in the server's ServeMux: net/http's routing tree changed shape; update muxPatterns")
	}
	return out
}

var wildcard = regexp.MustCompile(`\{[^}]*\}`)

// requestFor makes a concrete method and path that the pattern matches:
// wildcards become a segment, a subtree gets one more segment, and a
// pattern without a method is tried with GET.
func requestFor(pattern string) (method, path string) {
	method, path = "GET", pattern
	if m, p, ok := strings.Cut(pattern, " "); ok {
		method, path = m, p
	}
	path = strings.ReplaceAll(path, "{$}", "")
	path = wildcard.ReplaceAllStringFunc(path, func(w string) string {
		if strings.HasSuffix(w, "...}") {
			return "probe/deeper"
		}
		return "probe"
	})
	if strings.HasSuffix(path, "/") {
		path += "probe"
	}
	return method, path
}

func authTestServer(t *testing.T) *Server {
	t.Helper()
	listen := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().String()
	}
	dir := t.TempDir()
	cfg := Config{
		OpAMPAddr: listen(), HTTPAddr: listen(), DataDir: filepath.Join(dir, "data"),
		ServerID: "auth-test", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	ctx := context.Background()
	s, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		_ = s.Stop(ctx)
	})
	return s
}

func send(t *testing.T, method, url, token string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// Every route of the HTTP port, as registered on the server's mux, refuses
// a request without a token and one with a wrong token (401, with a
// WWW-Authenticate challenge), except the routes authExempt names.
func TestEveryRouteNeedsTheAPIToken(t *testing.T) {
	s := authTestServer(t)
	mux, ok := s.apiHTTP.Handler.(*http.ServeMux)
	if !ok {
		t.Fatalf("the HTTP port's handler is a %T, not the *http.ServeMux this test enumerates: unwrap it here", s.apiHTTP.Handler)
	}
	checked := 0
	for _, pattern := range muxPatterns(t, mux) {
		if why, ok := authExempt[pattern]; ok {
			t.Logf("exempt: %-40s %s", pattern, why)
			continue
		}
		method, path := requestFor(pattern)
		for _, tok := range []struct{ name, token string }{
			{"no token", ""},
			{"wrong token", "phx_api_" + strings.Repeat("0", 64)},
			{"enrollment token", s.EnrollmentToken()}, // an agent's token never opens the REST API
		} {
			resp := send(t, method, s.APIURL()+path, tok.token)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s (as %s %s) with %s: status %d, want 401", pattern, method, path, tok.name, resp.StatusCode)
				continue
			}
			if resp.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s with %s: 401 without a WWW-Authenticate challenge", pattern, tok.name)
			}
		}
		// With the right token the route is reached: anything but 401.
		if resp := send(t, method, s.APIURL()+path, s.APIToken()); resp.StatusCode == http.StatusUnauthorized {
			t.Errorf("%s with the API token: 401; the route cannot be reached at all", pattern)
		}
		checked++
	}
	if checked < 20 {
		t.Fatalf("only %d routes checked: the enumeration lost routes", checked)
	}
	t.Logf("%d routes checked", checked)
}

// The exempt routes are named on purpose: probes and the metrics page
// answer without credentials (they must, for kubelet and Prometheus).
func TestExemptRoutesAnswerWithoutToken(t *testing.T) {
	s := authTestServer(t)
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		if resp := send(t, "GET", s.APIURL()+path, ""); resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s without a token: %d, want 200", path, resp.StatusCode)
		}
	}
}

// The own-metrics ingest has its own rule: no token and a wrong token are
// refused with the OTLP realm's challenge.
func TestIngestNeedsAgentCredential(t *testing.T) {
	s := authTestServer(t)
	for _, tok := range []string{"", "phx_enroll_" + strings.Repeat("0", 64)} {
		resp := send(t, "POST", s.APIURL()+"/v1/metrics", tok)
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "phoenix-otlp") {
			t.Errorf("POST /v1/metrics with token %q: %d (%q), want 401 with the phoenix-otlp challenge", tok, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	}
}

// The OpAMP port has one route, and it refuses agents without the
// enrollment token (or their own credential).
func TestOpAMPRouteNeedsAgentCredential(t *testing.T) {
	s := authTestServer(t)
	mux, ok := s.opampHTTP.Handler.(*http.ServeMux)
	if !ok {
		t.Fatalf("the OpAMP port's handler is a %T, not a *http.ServeMux", s.opampHTTP.Handler)
	}
	base := "http" + strings.TrimPrefix(strings.TrimSuffix(s.OpAMPURL(), OpAMPPath), "ws")
	for _, pattern := range muxPatterns(t, mux) {
		method, path := requestFor(pattern)
		if method == "GET" && !strings.Contains(pattern, " ") {
			method = "POST" // OpAMP over plain HTTP posts; the WebSocket upgrade is a GET
		}
		for _, tok := range []string{"", "phx_enroll_" + strings.Repeat("0", 64), s.APIToken()} {
			if resp := send(t, method, base+path, tok); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("OpAMP %s %s with token %.12q: %d, want 401", method, path, tok, resp.StatusCode)
			}
		}
	}
}
