package commands_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// lossyProxy forwards every request to the server, but for deployment
// writes it closes the connection instead of answering: the write reached
// the server, its answer is lost (the server killed mid-request, as seen
// from the client).
func lossyProxy(t *testing.T, target string) *httptest.Server {
	p := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, target+r.URL.RequestURI(), r.Body)
		req.Header = r.Header.Clone()
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			http.Error(w, err.Error(), 502)
			return
		}
		defer resp.Body.Close()
		if r.Method != http.MethodGet && strings.HasPrefix(r.URL.Path, "/api/v1/deployments") {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
	t.Cleanup(p.Close)
	return p
}

// A deploy whose answer is lost says so and points at pipeline status; the
// same deploy again is a no-op that says so, not a second version. The CLI's
// "10" is stored as the number the API would send.
func TestDeployWithALostAnswer(t *testing.T) {
	e := newEnv(t)
	e.agent("web-1", nil)
	real := e.vars["PHOENIX_SERVER"]
	e.vars["PHOENIX_SERVER"] = lossyProxy(t, real).URL
	r := e.run("pipeline", "deploy", "process-topk-v1", "--name", "web", "--host", "web-1", "--param", "k=10")
	if r.code != 1 || !strings.Contains(r.err, "the answer to the deploy was lost") || !strings.Contains(r.err, "phoenix pipeline status web") {
		t.Fatalf("lost answer:\n%s", r)
	}
	if strings.Contains(r.err, "is phoenix-server running") {
		t.Fatalf("a lost answer must not read as a server that is not there:\n%s", r)
	}
	e.vars["PHOENIX_SERVER"] = real
	r = e.must(0, "pipeline", "deploy", "process-topk-v1", "--name", "web", "--host", "web-1", "--param", "k=10")
	if !strings.Contains(r.out, "deployment web unchanged") || !strings.Contains(r.out, "version 1") {
		t.Fatalf("the same deploy again:\n%s", r)
	}
	if v := deploymentVersion(t, e, "web"); v != 1 {
		t.Fatalf("version %d after a repeated deploy, want 1", v)
	}
	out := e.must(0, "pipeline", "list-deployments", "-o", "json").out
	if !strings.Contains(out, `"k": 10`) && !strings.Contains(out, `"k":10`) {
		t.Fatalf("stored params are not coerced:\n%s", out)
	}
	// A target host no agent has reported: a warning names it.
	r = e.must(0, "pipeline", "deploy", "process-topk-v1", "--name", "db", "--host", "db-9")
	if !strings.Contains(r.err, "warning: no agent has reported host(s) db-9") {
		t.Fatalf("unknown host:\n%s", r)
	}
	// A host name that can never render: exit 4 naming the field.
	r = e.must(4, "pipeline", "deploy", "process-topk-v1", "--name", "bad", "--host", "../../etc")
	if !strings.Contains(r.err, "target.hosts[0]") && !strings.Contains(r.err, "host name") {
		t.Fatalf("bad host name:\n%s", r)
	}
}
