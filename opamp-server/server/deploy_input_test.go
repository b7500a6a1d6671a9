package server_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// Target host names are checked as the renderer checks a host name: a
// name that could never render is refused (400 naming the field) and
// nothing is stored.
func TestTargetHostNamesAreValidated(t *testing.T) {
	ts := startServer(t, newConfig(t))
	for _, bad := range []string{"web 1", "web-1\nweb-2", strings.Repeat("x", 10000), "../../etc", "", " web-1"} {
		code, out := ts.call(t, "POST", "/api/v1/deployments", deploymentBody("web", "ok-1", bad))
		if code != 422 || str(out["field"]) != "target.hosts[1]" || !strings.Contains(str(out["detail"]), "host name") {
			t.Errorf("host %.20q: %d %v, want 422 naming target.hosts[1]", bad, code, out)
		}
		if len(str(out["detail"])) > 400 {
			t.Errorf("host %.20q: the message repeats the whole input (%d bytes)", bad, len(str(out["detail"])))
		}
	}
	code, out := ts.call(t, "POST", "/api/v1/deployments", deploymentBody("web", "a-1", "a-1"))
	if code != 422 || !strings.Contains(str(out["detail"]), "listed twice") {
		t.Errorf("duplicate host: %d %v", code, out)
	}
	if _, l := ts.call(t, "GET", "/api/v1/deployments", nil); len(l["deployments"].([]any)) != 0 {
		t.Fatalf("a refused deployment was stored: %v", l)
	}
	// A valid name no agent has reported is accepted, with a warning naming it.
	ts.agent(t, "web-1", nil)
	ts.waitAgentKnown(t, "web-1")
	out = ts.mustCall(t, "POST", "/api/v1/deployments", deploymentBody("web", "web-1", "web-9", "db.example.com"), 201)
	w, _ := out["warnings"].([]any)
	if len(w) != 1 || !strings.Contains(str(w[0]), "db.example.com, web-9") || strings.Contains(str(w[0]), "web-1,") {
		t.Fatalf("warnings %v, want one naming db.example.com and web-9", out["warnings"])
	}
}

// A deploy whose spec equals the current version is a no-op that says so;
// the CLI's "10" and the API's 10 are the same stored version.
func TestRepeatedDeployIsANoOp(t *testing.T) {
	ts := startServer(t, newConfig(t))
	body := deploymentBody("web", "web-1")
	body["params"] = map[string]any{"k": "10"} // as the CLI sends it
	out := ts.mustCall(t, "POST", "/api/v1/deployments", body, 201)
	if p := out["params"].(map[string]any); p["k"] != float64(10) {
		t.Fatalf("stored params %v, want k as the number 10", p)
	}
	body["params"] = map[string]any{"k": 10} // as the API sends it
	out = ts.mustCall(t, "POST", "/api/v1/deployments", body, 200)
	if out["unchanged"] != true || num(out["version"]) != 1 || !strings.Contains(str(out["detail"]), "unchanged") {
		t.Fatalf("repeated create: %v", out)
	}
	out = ts.mustCall(t, "PUT", "/api/v1/deployments/web", map[string]any{"params": map[string]any{"k": "10"}}, 200)
	if out["unchanged"] != true || num(out["version"]) != 1 {
		t.Fatalf("same-spec update: %v", out)
	}
	out = ts.mustCall(t, "PUT", "/api/v1/deployments/web", map[string]any{"params": map[string]any{"k": "20"}}, 200)
	if out["unchanged"] == true || num(out["version"]) != 2 {
		t.Fatalf("a real change: %v", out)
	}
	vs := ts.mustCall(t, "GET", "/api/v1/deployments/web/versions", nil, 200)
	if n := len(vs["versions"].([]any)); n != 2 {
		t.Fatalf("%d versions, want 2", n)
	}
	// A different spec under an existing name is still a conflict.
	body["params"] = map[string]any{"k": 30}
	if code, _ := ts.call(t, "POST", "/api/v1/deployments", body); code != 409 {
		t.Fatalf("create over an existing, different deployment: %d", code)
	}
}

func (ts *testServer) rawCall(t *testing.T, method, path, key string, body any) (int, http.Header, map[string]any) {
	t.Helper()
	j, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, ts.APIURL()+path, bytes.NewReader(j))
	req.Header.Set("Authorization", "Bearer "+ts.APIToken())
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := ts.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]any{}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, resp.Header, out
}

// Idempotency-Key: the same request again gets the first answer, replayed;
// the key with another request is refused.
func TestIdempotencyKeyReplaysTheFirstAnswer(t *testing.T) {
	ts := startServer(t, newConfig(t))
	body := deploymentBody("web", "web-1")
	code, h, first := ts.rawCall(t, "POST", "/api/v1/deployments", "k-1", body)
	if code != 201 || h.Get("Idempotent-Replayed") != "" {
		t.Fatalf("first: %d %v", code, first)
	}
	code, h, again := ts.rawCall(t, "POST", "/api/v1/deployments", "k-1", body)
	if code != 201 || h.Get("Idempotent-Replayed") != "true" || num(again["version"]) != 1 || again["created_at"] != first["created_at"] {
		t.Fatalf("replay: %d %v %v", code, h, again)
	}
	body["params"] = map[string]any{"k": 99}
	code, _, out := ts.rawCall(t, "POST", "/api/v1/deployments", "k-1", body)
	if code != 422 || str(out["field"]) != "Idempotency-Key" {
		t.Fatalf("key reused for another request: %d %v", code, out)
	}
	code, _, out = ts.rawCall(t, "PUT", "/api/v1/deployments/web", "k-2", map[string]any{"params": map[string]any{"k": 20}})
	if code != 200 || num(out["version"]) != 2 {
		t.Fatalf("update with a key: %d %v", code, out)
	}
	code, h, out = ts.rawCall(t, "PUT", "/api/v1/deployments/web", "k-2", map[string]any{"params": map[string]any{"k": 20}})
	if code != 200 || num(out["version"]) != 2 || h.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replayed update: %d %v", code, out)
	}
}
