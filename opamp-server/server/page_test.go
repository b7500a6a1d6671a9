package server_test

import (
	"testing"

	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

// A deploy answers with the version and a summary (counts, no host list);
// the hosts are GET .../status, in pages; bad page parameters are refused
// with the parameter named.
func TestDeployAnswersSummaryStatusIsPaged(t *testing.T) {
	ts := startServer(t, newConfig(t))
	for _, h := range []string{"p-1", "p-2", "p-3"} {
		ts.agent(t, h, nil)
		ts.waitAgentKnown(t, h)
	}
	out := ts.mustCall(t, "POST", "/api/v1/deployments", deploymentBody("paged", "p-1", "p-2", "p-3"), 201)
	st, _ := out["status"].(map[string]any)
	if num(out["version"]) != 1 || st == nil || num(st["total"]) != 3 || st["hosts"] != nil {
		t.Fatalf("deploy answer: %v", out)
	}
	ts.waitHosts(t, api.StatusApplied, "p-1", "p-2", "p-3")
	page := ts.mustCall(t, "GET", "/api/v1/deployments/paged/status?limit=2", nil, 200)
	hosts := page["hosts"].([]any)
	if len(hosts) != 2 || num(page["next_offset"]) != 2 || num(page["total"]) != 3 || hosts[0].(map[string]any)["host"] != "p-1" {
		t.Fatalf("first page: %v", page)
	}
	page = ts.mustCall(t, "GET", "/api/v1/deployments/paged/status?limit=2&offset=2", nil, 200)
	hosts = page["hosts"].([]any)
	if len(hosts) != 1 || page["next_offset"] != nil || hosts[0].(map[string]any)["host"] != "p-3" {
		t.Fatalf("last page: %v", page)
	}
	for _, q := range []string{"limit=0", "limit=10001", "limit=x", "offset=-1"} {
		bad := ts.mustCall(t, "GET", "/api/v1/deployments/paged/status?"+q, nil, 422)
		if f := str(bad["field"]); f != "limit" && f != "offset" {
			t.Fatalf("%s: %v", q, bad)
		}
	}
}
