package server_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/open-telemetry/opamp-go/protobufs"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"google.golang.org/protobuf/proto"

	"github.com/phoenix-otel/phoenix/opamp-server/agentsim"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
	"github.com/phoenix-otel/phoenix/opamp-server/server"
	"github.com/phoenix-otel/phoenix/opamp-server/store"
	"github.com/phoenix-otel/phoenix/opamp-server/store/postgres/pgtest"
)

func hexSHA(b []byte) string { h := sha256.Sum256(b); return hex.EncodeToString(h[:]) }

// Deploy to two hosts (one on WebSocket, one polling over plain HTTP): both
// receive the config, report it effective, and the deployment is applied. A
// third host outside the target gets nothing.
func TestDeployReachesApplied(t *testing.T) {
	ts := startServer(t, newConfig(t))
	ws := ts.agent(t, "web-1", map[string]string{"env": "prod"})
	poll := ts.agent(t, "web-2", nil, func(o *agentsim.Options) {
		o.HTTP = true
		o.URL = strings.Replace(ts.OpAMPURL(), "ws://", "http://", 1)
	})
	other := ts.agent(t, "db-1", nil)
	for _, h := range []string{"web-1", "web-2", "db-1"} {
		ts.waitAgentKnown(t, h)
	}
	out := ts.mustCall(t, "POST", "/api/v1/deployments", deploymentBody("web", "web-1", "web-2"), 201)
	if num(out["version"]) != 1 {
		t.Fatalf("version %v", out["version"])
	}
	ts.waitHosts(t, api.StatusApplied, "web-1", "web-2")
	eventually(t, "deployment applied", func() (bool, string) {
		_, st := ts.call(t, "GET", "/api/v1/deployments/web/status", nil)
		return st["status"] == api.StatusApplied && num(st["total"]) == 2 && st["final"] == true, fmt.Sprint(st)
	})
	for _, a := range []*agentsim.Agent{ws, poll} {
		rec := a.Received()
		if len(rec) != 1 {
			t.Fatalf("%s received %d configs, want 1", a.Host(), len(rec))
		}
		if rec[0].Hash != hexSHA(rec[0].Body) {
			t.Fatalf("%s: config hash %s is not the sha256 of its body", a.Host(), rec[0].Hash)
		}
		// One render serves the deployment version: the host name comes
		// from the agent's environment, and both hosts get the same bytes.
		if !strings.Contains(string(rec[0].Body), "${env:PHOENIX_HOST_NAME}") || strings.Contains(string(rec[0].Body), a.Host()) {
			t.Fatalf("%s: config does not take the host name from the agent's environment:\n%s", a.Host(), rec[0].Body)
		}
		if other := poll.Received(); len(other) != 1 || other[0].Hash != rec[0].Hash {
			t.Fatalf("%s and %s got different configs for one deployment version", a.Host(), poll.Host())
		}
		// The active config of the host is what the agent really runs.
		cfg := ts.mustCall(t, "GET", "/api/v1/hosts/"+a.Host()+"/config", nil, 200)
		eff := cfg["effective"].(map[string]any)
		if str(eff["yaml"]) != string(a.Effective()) || str(eff["sha256"]) != a.EffectiveHash() {
			t.Fatalf("%s: reported effective config differs from what the agent runs", a.Host())
		}
		if str(cfg["desired"].(map[string]any)["sha256"]) != rec[0].Hash {
			t.Fatalf("%s: desired hash differs from the pushed one", a.Host())
		}
	}
	if n := len(other.Received()); n != 0 {
		t.Fatalf("host outside the target received %d configs", n)
	}
	ts.waitHosts(t, api.StatusNone, "db-1")
	// The deployment's config for a host equals what that host got.
	dc := ts.mustCall(t, "GET", "/api/v1/deployments/web/config?host=web-1", nil, 200)
	if str(dc["sha256"]) != ws.Received()[0].Hash {
		t.Fatal("deployment config for web-1 differs from the config web-1 received")
	}
	// The server's own metrics count the pushes.
	body := httpGet(t, ts.APIURL()+"/metrics")
	for _, want := range []string{"phoenix_server_configs_pushed_total 2", "phoenix_server_configs_applied_total 2", "phoenix_server_agents_connected 2", "phoenix_server_config_apply_seconds_count 2"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// An agent reports FAILED: the host shows failed with the agent's message,
// the config is not pushed again (not on heartbeats, not on reconnect), and
// the other host keeps its applied config.
func TestFailedIsReportedAndNotRepushed(t *testing.T) {
	ts := startServer(t, newConfig(t))
	bad := ts.agent(t, "bad-1", nil, func(o *agentsim.Options) {
		o.Fail = func([]byte) string { return "listen tcp :8888: bind: address already in use" }
	})
	good := ts.agent(t, "good-1", nil)
	ts.waitAgentKnown(t, "bad-1")
	ts.waitAgentKnown(t, "good-1")
	ts.mustCall(t, "POST", "/api/v1/deployments", deploymentBody("web", "bad-1", "good-1"), 201)
	ts.waitHosts(t, api.StatusFailed, "bad-1")
	ts.waitHosts(t, api.StatusApplied, "good-1")
	_, h := ts.call(t, "GET", "/api/v1/hosts/bad-1", nil)
	if !strings.Contains(str(h["error"]), "address already in use") {
		t.Fatalf("failed host lacks the agent's message: %v", h)
	}
	_, st := ts.call(t, "GET", "/api/v1/deployments/web/status", nil)
	if st["status"] != api.StatusFailed || num(st["counts"].(map[string]any)["applied"]) != 1 {
		t.Fatalf("deployment status %v", st)
	}
	// Heartbeats every 200ms for 2s: no second push.
	time.Sleep(2 * time.Second)
	if n := len(bad.Received()); n != 1 {
		t.Fatalf("failed config pushed %d times, want 1", n)
	}
	// Reconnect with the agent's state: still not pushed.
	ctx := context.Background()
	opts := bad.Restartable()
	if err := bad.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	again := startAgent(t, opts)
	ts.waitHosts(t, api.StatusFailed, "bad-1")
	time.Sleep(time.Second)
	if n := len(again.Received()); n != 0 {
		t.Fatalf("failed config pushed again after reconnect (%d)", n)
	}
	if n := len(good.Received()); n != 1 {
		t.Fatalf("good host received %d configs, want 1", n)
	}
	// A new version (a fix) is pushed to the failed host.
	ts.mustCall(t, "PUT", "/api/v1/deployments/web", map[string]any{"params": map[string]any{"k": 20}}, 200)
	eventually(t, "fixed version pushed", func() (bool, string) { return len(again.Received()) == 1, "" })
}

// Rollback to version 1 creates version 3 equal to version 1, and the agents
// converge on it.
func TestRollback(t *testing.T) {
	ts := startServer(t, newConfig(t))
	a := ts.agent(t, "web-1", nil)
	ts.waitAgentKnown(t, "web-1")
	ts.mustCall(t, "POST", "/api/v1/deployments", deploymentBody("web", "web-1"), 201)
	ts.waitHosts(t, api.StatusApplied, "web-1")
	ts.mustCall(t, "PUT", "/api/v1/deployments/web", map[string]any{"params": map[string]any{"k": 25}}, 200)
	eventually(t, "v2 applied", func() (bool, string) {
		_, h := ts.call(t, "GET", "/api/v1/hosts/web-1", nil)
		return h["status"] == api.StatusApplied && num(h["version"]) == 2, fmt.Sprint(h)
	})
	out := ts.mustCall(t, "POST", "/api/v1/deployments/web/rollback", map[string]any{"to_version": 1}, 200)
	if num(out["version"]) != 3 || num(out["rollback_of"]) != 1 {
		t.Fatalf("rollback returned %v", out)
	}
	eventually(t, "v3 applied", func() (bool, string) {
		_, h := ts.call(t, "GET", "/api/v1/hosts/web-1", nil)
		return h["status"] == api.StatusApplied && num(h["version"]) == 3, fmt.Sprint(h)
	})
	vs := ts.mustCall(t, "GET", "/api/v1/deployments/web/versions", nil, 200)["versions"].([]any)
	if len(vs) != 3 {
		t.Fatalf("%d versions", len(vs))
	}
	p1, p3 := vs[0].(map[string]any)["params"], vs[2].(map[string]any)["params"]
	if fmt.Sprint(p1) != fmt.Sprint(p3) || fmt.Sprint(p1) == fmt.Sprint(vs[1].(map[string]any)["params"]) {
		t.Fatalf("version 3 params %v, version 1 params %v", p3, p1)
	}
	// The config v3 renders is v1's except for the version in the header comment.
	c1 := ts.mustCall(t, "GET", "/api/v1/deployments/web/config?host=web-1&version=1", nil, 200)
	rec := a.Received()
	last := rec[len(rec)-1]
	if stripComments(str(c1["yaml"])) != stripComments(string(last.Body)) {
		t.Fatalf("rolled-back config differs from version 1")
	}
	if len(rec) != 3 {
		t.Fatalf("agent received %d configs, want 3", len(rec))
	}
	// Rollback to a version that does not exist: 404, nothing stored.
	code, p := ts.call(t, "POST", "/api/v1/deployments/web/rollback", map[string]any{"to_version": 9})
	if code != 404 || !strings.Contains(str(p["detail"]), "no version 9") {
		t.Fatalf("rollback to 9: %d %v", code, p)
	}
}

func stripComments(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// Delete takes the pipeline off the hosts: they get the empty config.
func TestDelete(t *testing.T) {
	ts := startServer(t, newConfig(t))
	a := ts.agent(t, "web-1", nil)
	ts.waitAgentKnown(t, "web-1")
	ts.mustCall(t, "POST", "/api/v1/deployments", deploymentBody("web", "web-1"), 201)
	ts.waitHosts(t, api.StatusApplied, "web-1")
	ts.mustCall(t, "DELETE", "/api/v1/deployments/web", nil, 200)
	eventually(t, "empty config applied", func() (bool, string) {
		rec := a.Received()
		st := a.Status()
		return len(rec) == 2 && len(rec[1].Body) == 0 && st.GetStatus() == protobufs.RemoteConfigStatuses_RemoteConfigStatuses_APPLIED &&
			hex.EncodeToString(st.GetLastRemoteConfigHash()) == hexSHA(nil), fmt.Sprint(len(rec))
	})
	ts.waitHosts(t, api.StatusNone, "web-1")
	ts.mustCall(t, "GET", "/api/v1/deployments/web", nil, 404)
	if code, _ := ts.call(t, "DELETE", "/api/v1/deployments/web", nil); code != 404 {
		t.Fatalf("second delete: %d", code)
	}
	// The name can be used again.
	ts.mustCall(t, "POST", "/api/v1/deployments", deploymentBody("web", "web-1"), 201)
	ts.waitHosts(t, api.StatusApplied, "web-1")
}

// A host belongs to one deployment: overlaps by host name, by an agent both
// targets would choose, or by an identical selector are refused with 409
// naming the other deployment, and nothing is stored.
func TestOverlapRefused(t *testing.T) {
	ts := startServer(t, newConfig(t))
	ts.agent(t, "web-1", map[string]string{"env": "prod"})
	ts.agent(t, "web-2", map[string]string{"env": "prod"})
	ts.waitAgentKnown(t, "web-1")
	ts.waitAgentKnown(t, "web-2")
	ts.mustCall(t, "POST", "/api/v1/deployments", deploymentBody("first", "web-1"), 201)
	cases := map[string]map[string]any{
		"same host": deploymentBody("second", "web-3", "web-1"),
		"selector matches a host of first": {"name": "second", "template": "process-baseline-v1", "destination": map[string]any{"type": "debug"},
			"target": map[string]any{"selector": map[string]any{"env": "prod"}}},
	}
	for name, body := range cases {
		code, p := ts.call(t, "POST", "/api/v1/deployments", body)
		if code != 409 || p["conflicting_deployment"] != "first" || !strings.Contains(str(p["detail"]), `"first"`) || !strings.Contains(str(p["detail"]), "web-1") {
			t.Errorf("%s: %d %v", name, code, p)
		}
	}
	ts.mustCall(t, "GET", "/api/v1/deployments/second", nil, 404)
	// Updating first onto web-2 is fine; a selector deployment on web-2 then is not.
	ts.mustCall(t, "PUT", "/api/v1/deployments/first", map[string]any{"target": map[string]any{"hosts": []string{"web-1", "web-2"}}}, 200)
	sel := map[string]any{"name": "third", "template": "process-baseline-v1", "destination": map[string]any{"type": "debug"},
		"target": map[string]any{"selector": map[string]any{"env": "staging"}}}
	ts.mustCall(t, "POST", "/api/v1/deployments", sel, 201)
	sel["name"] = "fourth"
	code, p := ts.call(t, "POST", "/api/v1/deployments", sel)
	if code != 409 || p["conflicting_deployment"] != "third" {
		t.Fatalf("identical selector: %d %v", code, p)
	}
	list := ts.mustCall(t, "GET", "/api/v1/deployments", nil, 200)["deployments"].([]any)
	if len(list) != 2 {
		t.Fatalf("%d deployments stored, want 2", len(list))
	}
}

// The server restarts on the same data: deployments, versions and agents are
// intact; the agents reconnect, report their full state when asked, and
// converge without a needless push; a change after the restart is pushed.
func TestServerRestart(t *testing.T) {
	cfg := newConfig(t)
	ts := startServer(t, cfg)
	a := ts.agent(t, "web-1", nil)
	ts.waitAgentKnown(t, "web-1")
	ts.mustCall(t, "POST", "/api/v1/deployments", deploymentBody("web", "web-1"), 201)
	ts.mustCall(t, "PUT", "/api/v1/deployments/web", map[string]any{"params": map[string]any{"k": 30}}, 200)
	eventually(t, "v2 applied", func() (bool, string) {
		_, h := ts.call(t, "GET", "/api/v1/hosts/web-1", nil)
		return h["status"] == api.StatusApplied && num(h["version"]) == 2, fmt.Sprint(h)
	})
	pushed := len(a.Received())
	token := ts.APIToken()
	ts.stop(t)
	eventually(t, "agent notices", func() (bool, string) { return !a.Connected(), "" })

	ts2 := startServer(t, cfg)
	if ts2.APIToken() != token {
		t.Fatal("API token changed across restart")
	}
	d := ts2.mustCall(t, "GET", "/api/v1/deployments/web", nil, 200)
	if num(d["version"]) != 2 {
		t.Fatalf("deployment after restart: %v", d)
	}
	ts2.waitHosts(t, api.StatusApplied, "web-1")
	eventually(t, "agent reconnected", func() (bool, string) {
		_, h := ts2.call(t, "GET", "/api/v1/hosts/web-1", nil)
		return h["connected"] == true, fmt.Sprint(h)
	})
	if !strings.Contains(httpGet(t, ts2.APIURL()+"/metrics"), "phoenix_server_full_state_requests_total 1") {
		t.Error("the restarted server did not ask the reconnected agent for its full state")
	}
	if n := len(a.Received()); n != pushed {
		t.Fatalf("agent got %d configs after restart with an unchanged desired state", n-pushed)
	}
	ts2.mustCall(t, "PUT", "/api/v1/deployments/web", map[string]any{"params": map[string]any{"k": 40}}, 200)
	eventually(t, "v3 applied after restart", func() (bool, string) {
		_, h := ts2.call(t, "GET", "/api/v1/hosts/web-1", nil)
		return h["status"] == api.StatusApplied && num(h["version"]) == 3, fmt.Sprint(h)
	})
}

// Two replicas on one PostgreSQL: a deployment made on replica A reaches an
// agent connected to replica B, and both replicas report it applied.
func TestTwoReplicasOnPostgres(t *testing.T) {
	dsn := pgtest.FreshDatabase(t)
	ca, cb := newConfig(t), newConfig(t)
	ca.StoreDSN, cb.StoreDSN = dsn, dsn
	ca.ServerID, cb.ServerID = "replica-a", "replica-b"
	a := startServer(t, ca)
	// Replica B shares A's tokens, as replicas behind one load balancer do.
	cb.APITokenFile, cb.EnrollmentTokenFile = ca.DataDir+"/api-token", ca.DataDir+"/enrollment-token"
	b := startServer(t, cb)
	if a.APIToken() != b.APIToken() {
		t.Fatal("replicas do not share the token files")
	}
	onB := b.agent(t, "web-1", nil)
	onA := a.agent(t, "web-2", nil)
	a.waitAgentKnown(t, "web-1")
	b.waitAgentKnown(t, "web-2")
	a.mustCall(t, "POST", "/api/v1/deployments", deploymentBody("web", "web-1", "web-2"), 201)
	eventually(t, "agent on B gets A's deployment", func() (bool, string) { return len(onB.Received()) == 1, "" })
	for _, r := range []*testServer{a, b} {
		r.waitHosts(t, api.StatusApplied, "web-1", "web-2")
	}
	// Rollback on B reaches the agent on A.
	// Version 2 goes to both hosts at once: a staged version 2 superseded by
	// the rollback before its first batch would never reach them (version 3
	// is version 1's config, which they run).
	b.mustCall(t, "PUT", "/api/v1/deployments/web", map[string]any{"params": map[string]any{"k": 50}, "rollout": map[string]any{"strategy": "all-at-once"}}, 200)
	eventually(t, "agent on A gets version 2", func() (bool, string) { return len(onA.Received()) >= 2, "" })
	b.mustCall(t, "POST", "/api/v1/deployments/web/rollback", map[string]any{"to_version": 1}, 200)
	eventually(t, "agent on A gets B's rollback", func() (bool, string) {
		_, h := a.call(t, "GET", "/api/v1/hosts/web-2", nil)
		return h["status"] == api.StatusApplied && num(h["version"]) == 3, fmt.Sprint(h)
	})
	if n := len(onA.Received()); n < 3 {
		t.Fatalf("agent on A received %d configs, want versions 1, 2 and 3", n)
	}
	// The overlap rule holds across replicas.
	code, p := b.call(t, "POST", "/api/v1/deployments", deploymentBody("other", "web-2"))
	if code != 409 || p["conflicting_deployment"] != "web" {
		t.Fatalf("overlap on B: %d %v", code, p)
	}
}

// Bad input gets the right 4xx with a clear message and changes nothing.
func TestBadInput(t *testing.T) {
	ts := startServer(t, newConfig(t))
	ts.agent(t, "web-1", nil)
	ts.waitAgentKnown(t, "web-1")
	ts.mustCall(t, "POST", "/api/v1/deployments", deploymentBody("web", "web-1"), 201)
	snapshot := func() string {
		_, d := ts.call(t, "GET", "/api/v1/deployments", nil)
		_, v := ts.call(t, "GET", "/api/v1/deployments/web/versions", nil)
		delete(d, "_status")
		delete(v, "_status")
		// Host statuses move on their own; keep what requests could change.
		var b strings.Builder
		for _, x := range d["deployments"].([]any) {
			m := x.(map[string]any)
			delete(m, "status")
			fmt.Fprint(&b, m)
		}
		fmt.Fprint(&b, v)
		return b.String()
	}
	before := snapshot()
	cases := []struct {
		name, method, path string
		body               any
		token              string
		code               int
		field, detail      string
	}{
		{"malformed JSON", "POST", "/api/v1/deployments", `{"name": "x", "template": `, "", 400, "", "malformed JSON"},
		{"malformed JSON with position", "POST", "/api/v1/deployments", "{\n  \"name\": \"x\",,\n}", "", 400, "", "line 2"},
		{"unknown field", "POST", "/api/v1/deployments", `{"name":"x","templat":"process-topk-v1"}`, "", 400, "templat", "unknown field"},
		{"wrong type", "POST", "/api/v1/deployments", `{"name":"x","target":{"hosts":"web-9"}}`, "", 400, "target.hosts", "must be"},
		{"unknown template", "POST", "/api/v1/deployments", map[string]any{"name": "x", "template": "process-nope-v1", "target": map[string]any{"hosts": []string{"web-9"}}}, "", 422, "template", "process-nope-v1"},
		{"bad params", "POST", "/api/v1/deployments", map[string]any{"name": "x", "template": "process-topk-v1", "params": map[string]any{"k": "many"}, "target": map[string]any{"hosts": []string{"web-9"}}}, "", 422, "params.k", "k"},
		{"unknown param", "POST", "/api/v1/deployments", map[string]any{"name": "x", "template": "process-topk-v1", "params": map[string]any{"kk": 3}, "target": map[string]any{"hosts": []string{"web-9"}}}, "", 422, "params.kk", "kk"},
		{"bad destination", "POST", "/api/v1/deployments", map[string]any{"name": "x", "template": "process-topk-v1", "destination": map[string]any{"type": "carrier-pigeon"}, "target": map[string]any{"hosts": []string{"web-9"}}}, "", 422, "", "carrier-pigeon"},
		{"no target", "POST", "/api/v1/deployments", map[string]any{"name": "x", "template": "process-topk-v1"}, "", 422, "target", "target"},
		{"bad name", "POST", "/api/v1/deployments", deploymentBody("Bad Name!", "web-9"), "", 422, "name", "Bad Name!"},
		{"duplicate name", "POST", "/api/v1/deployments", deploymentBody("web", "web-9"), "", 409, "name", "already exists"},
		{"bad params on update", "PUT", "/api/v1/deployments/web", map[string]any{"params": map[string]any{"k": -1}}, "", 422, "params.k", "k"},
		{"missing deployment", "GET", "/api/v1/deployments/nope", nil, "", 404, "", `"nope"`},
		{"update missing deployment", "PUT", "/api/v1/deployments/nope", map[string]any{"params": map[string]any{"k": 3}}, "", 404, "", `"nope"`},
		{"missing host", "GET", "/api/v1/hosts/no-such-host", nil, "", 404, "", "no-such-host"},
		{"missing host config", "GET", "/api/v1/hosts/no-such-host/config", nil, "", 404, "", "no-such-host"},
		{"missing version", "GET", "/api/v1/deployments/web/versions/7", nil, "", 404, "", "no version 7"},
		{"bad version", "GET", "/api/v1/deployments/web/versions/seven", nil, "", 400, "", "seven"},
		{"rollback to missing version", "POST", "/api/v1/deployments/web/rollback", map[string]any{"to_version": 7}, "", 404, "", "no version 7"},
		{"rollback without version", "POST", "/api/v1/deployments/web/rollback", map[string]any{}, "", 422, "to_version", "to_version"},
		{"missing template", "GET", "/api/v1/catalog/process-nope-v1", nil, "", 404, "", "process-nope-v1"},
		{"bad token", "POST", "/api/v1/deployments", deploymentBody("x", "web-9"), "phx_api_wrong", 401, "", "bad bearer token"},
		{"no token", "GET", "/api/v1/deployments", nil, "-", 401, "", "missing bearer token"},
		{"unknown endpoint", "GET", "/api/v1/nothing", nil, "", 404, "", "/api/v1/nothing"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tok := ts.APIToken()
			switch c.token {
			case "":
			case "-":
				tok = ""
			default:
				tok = c.token
			}
			code, p := ts.callToken(t, tok, c.method, c.path, c.body)
			if code != c.code {
				t.Fatalf("status %d, want %d: %v", code, c.code, p)
			}
			if c.field != "" && p["field"] != c.field {
				t.Errorf("field %v, want %q (%v)", p["field"], c.field, p["detail"])
			}
			if !strings.Contains(str(p["detail"]), c.detail) || p["title"] == "" || num(p["status"]) != c.code {
				t.Errorf("problem %v lacks %q", p, c.detail)
			}
		})
	}
	if after := snapshot(); after != before {
		t.Fatalf("bad input changed stored state:\nbefore %s\nafter  %s", before, after)
	}
	// An agent with a bad enrollment token is refused with 401 and not registered.
	intruder := startAgent(t, agentsim.Options{URL: ts.OpAMPURL(), Token: "wrong", Host: "intruder"})
	eventually(t, "intruder refused", func() (bool, string) {
		return intruder.ConnectError() != nil && !intruder.Connected(), ""
	})
	ts.mustCall(t, "GET", "/api/v1/hosts/intruder", nil, 404)
	for _, tok := range []string{"", "wrong"} {
		req, _ := http.NewRequest("POST", strings.Replace(ts.OpAMPURL(), "ws://", "http://", 1), strings.NewReader(""))
		req.Header.Set("Content-Type", "application/x-protobuf")
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" {
			t.Fatalf("OpAMP with token %q: %d", tok, resp.StatusCode)
		}
	}
}

// The server asks for the full state on a sequence gap and from an agent it
// knows nothing of that sends a compressed status; it sets its capabilities.
func TestFullStateAndCapabilities(t *testing.T) {
	ts := startServer(t, newConfig(t))
	url := strings.Replace(ts.OpAMPURL(), "ws://", "http://", 1)
	uid := uuid.Must(uuid.NewV7())
	token := ts.EnrollmentToken()
	send := func(msg *protobufs.AgentToServer) *protobufs.ServerToAgent {
		t.Helper()
		b, _ := proto.Marshal(msg)
		req, _ := http.NewRequest("POST", url, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/x-protobuf")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		out := &protobufs.ServerToAgent{}
		if err := proto.Unmarshal(raw, out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	full := uint64(protobufs.ServerToAgentFlags_ServerToAgentFlags_ReportFullState)
	desc := &protobufs.AgentDescription{NonIdentifyingAttributes: []*protobufs.KeyValue{{Key: "host.name", Value: &protobufs.AnyValue{Value: &protobufs.AnyValue_StringValue{StringValue: "h"}}}}}
	r := send(&protobufs.AgentToServer{InstanceUid: uid[:], SequenceNum: 0, AgentDescription: desc, Capabilities: uint64(agentsim.Capabilities)})
	if r.Flags&full != 0 {
		t.Fatal("full state asked of an agent that just sent it")
	}
	want := uint64(protobufs.ServerCapabilities_ServerCapabilities_AcceptsStatus | protobufs.ServerCapabilities_ServerCapabilities_OffersRemoteConfig |
		protobufs.ServerCapabilities_ServerCapabilities_AcceptsEffectiveConfig | protobufs.ServerCapabilities_ServerCapabilities_OffersConnectionSettings)
	if r.Capabilities != want {
		t.Fatalf("server capabilities %b, want %b", r.Capabilities, want)
	}
	if r.ConnectionSettings.GetOwnMetrics().GetDestinationEndpoint() != ts.APIURL()+"/v1/metrics" {
		t.Fatalf("own_metrics offer %v", r.ConnectionSettings)
	}
	// Enrolled: the agent's own credential from now on (each HTTP poll is a
	// new connection, and the enrollment token no longer acts for uid).
	cred := agentsim.HeaderValue(&protobufs.TelemetryConnectionSettings{Headers: r.ConnectionSettings.GetOpamp().GetHeaders()}, "Authorization")
	if !strings.HasPrefix(cred, "Bearer phx_agent_") {
		t.Fatalf("no credential offered on enrolment: %v", r.ConnectionSettings)
	}
	if r := send(&protobufs.AgentToServer{InstanceUid: uid[:], SequenceNum: 1}); r.ErrorResponse == nil {
		t.Fatal("the enrollment token still acts for an enrolled agent")
	}
	token = strings.TrimPrefix(cred, "Bearer ")
	if r := send(&protobufs.AgentToServer{InstanceUid: uid[:], SequenceNum: 1}); r.Flags&full != 0 {
		t.Fatal("full state asked without a gap")
	}
	if r := send(&protobufs.AgentToServer{InstanceUid: uid[:], SequenceNum: 5}); r.Flags&full == 0 {
		t.Fatal("no full state asked after a sequence gap 1 -> 5")
	}
	other := uuid.Must(uuid.NewV7())
	token = ts.EnrollmentToken()
	if r := send(&protobufs.AgentToServer{InstanceUid: other[:], SequenceNum: 9}); r.Flags&full == 0 {
		t.Fatal("no full state asked of an unknown agent sending a compressed status")
	}
	if r := send(&protobufs.AgentToServer{InstanceUid: []byte{1, 2, 3}}); r.ErrorResponse == nil {
		t.Fatal("a 3-byte instance uid was accepted")
	}
}

// The own_metrics offer points at the server's OTLP ingest; figures posted
// there with the offered headers are stored per agent, pipeline, stage and
// variant, and served by the API and the stream.
func TestOwnMetricsIngest(t *testing.T) {
	ts := startServer(t, newConfig(t))
	a := ts.agent(t, "web-1", nil)
	eventually(t, "own_metrics offer", func() (bool, string) { return a.OwnMetrics() != nil, "" })
	om := a.OwnMetrics()
	if om.GetDestinationEndpoint() != ts.APIURL()+"/v1/metrics" || agentsim.HeaderValue(om, "Authorization") != "Bearer "+a.Credential() || a.Credential() == "" {
		t.Fatalf("offer %v", om)
	}
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	sm := rm.ScopeMetrics().AppendEmpty()
	for _, stage := range []struct {
		stage string
		v     int64
	}{{"in", 700}, {"out", 45}} {
		m := sm.Metrics().AppendEmpty()
		m.SetName("phoenix.cardinality.series")
		dp := m.SetEmptyGauge().DataPoints().AppendEmpty()
		dp.SetIntValue(stage.v)
		dp.SetTimestamp(pcommonNow())
		dp.Attributes().PutStr("phoenix.pipeline", "metrics/process")
		dp.Attributes().PutStr("phoenix.stage", stage.stage)
	}
	ignored := sm.Metrics().AppendEmpty()
	ignored.SetName("otelcol_exporter_queue_size") // not kept (the sent/failed counts are)
	ignored.SetEmptySum().DataPoints().AppendEmpty().SetIntValue(1)
	body, _ := pmetricotlp.NewExportRequestFromMetrics(md).MarshalProto()
	post := func(token string) int {
		req, _ := http.NewRequest("POST", om.GetDestinationEndpoint(), bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-protobuf")
		for _, h := range om.GetHeaders().GetHeaders() {
			req.Header.Set(h.GetKey(), h.GetValue())
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tok := range []string{"wrong", ts.EnrollmentToken(), ts.APIToken()} {
		if code := post(tok); code != 401 {
			t.Fatalf("ingest with token %.12s...: %d, want 401", tok, code)
		}
	}
	if code := post(""); code != 200 {
		t.Fatalf("ingest: %d", code)
	}
	out := ts.mustCall(t, "GET", "/api/v1/metrics/series?host=web-1&name=phoenix.cardinality.series&pipeline=metrics/process", nil, 200)
	bs := out["buckets"].([]any)
	if len(bs) != 2 {
		t.Fatalf("%d buckets: %v", len(bs), out)
	}
	got := map[string]float64{}
	for _, b := range bs {
		m := b.(map[string]any)
		got[str(m["stage"])] = m["last"].(float64)
		if str(m["agent"]) != a.UID().String() {
			t.Fatalf("bucket attributed to %v", m["agent"])
		}
	}
	if got["in"] != 700 || got["out"] != 45 {
		t.Fatalf("stored %v", got)
	}
	all := ts.mustCall(t, "GET", "/api/v1/metrics/series?since=10m", nil, 200)["buckets"].([]any)
	if len(all) != 2 {
		t.Fatalf("non-phoenix metric stored: %d buckets", len(all))
	}
	ts.mustCall(t, "GET", "/api/v1/metrics/series?step=7s", nil, 400)
}

func pcommonNow() pcommon.Timestamp { return pcommon.NewTimestampFromTime(time.Now()) }

// The stream delivers deployment status until it is final.
func TestStreamWatch(t *testing.T) {
	ts := startServer(t, newConfig(t))
	ts.agent(t, "web-1", nil, func(o *agentsim.Options) { o.ApplyDelay = 300 * time.Millisecond })
	ts.waitAgentKnown(t, "web-1")
	wsURL := strings.Replace(ts.APIURL(), "http://", "ws://", 1) + "/api/v1/stream?deployment=web&types=deployment.*"
	if _, resp, err := websocket.DefaultDialer.Dial(wsURL, nil); err == nil || resp == nil || resp.StatusCode != 401 {
		t.Fatalf("stream without a token: %v", err)
	}
	conn, _, err := websocket.DefaultDialer.Dial(wsURL, http.Header{"Authorization": []string{"Bearer " + ts.APIToken()}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ts.mustCall(t, "POST", "/api/v1/deployments", deploymentBody("web", "web-1"), 201)
	seen := map[string]bool{}
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		var e struct {
			Type       string         `json:"type"`
			Deployment string         `json:"deployment"`
			Data       map[string]any `json:"data"`
		}
		if err := conn.ReadJSON(&e); err != nil {
			t.Fatalf("stream ended before the deployment was final; saw %v: %v", seen, err)
		}
		if e.Type != "hello" && e.Deployment != "web" {
			t.Fatalf("filter let through %+v", e)
		}
		if e.Type == server.EventDeploymentStatus {
			seen[str(e.Data["status"])] = true
			if e.Data["final"] == true {
				if e.Data["status"] != api.StatusApplied {
					t.Fatalf("final status %v", e.Data)
				}
				break
			}
			continue
		}
		seen[e.Type] = true
	}
	if !seen[server.EventDeploymentCreated] {
		t.Fatalf("no deployment.created event; saw %v", seen)
	}
}

var _ = store.ErrNotFound

// With a certificate and key, both ports speak TLS: agents connect over wss
// with the CA, the API answers over https, and plain HTTP is refused.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM, pool := selfSigned(t)
	cfg := newConfig(t)
	cfg.TLSCertFile, cfg.TLSKeyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(cfg.TLSCertFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg.TLSKeyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, cfg)
	ts.client = &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	if !strings.HasPrefix(ts.OpAMPURL(), "wss://") || !strings.HasPrefix(ts.APIURL(), "https://") {
		t.Fatalf("URLs %s %s", ts.OpAMPURL(), ts.APIURL())
	}
	a := ts.agent(t, "web-1", nil, func(o *agentsim.Options) { o.TLSConfig = &tls.Config{RootCAs: pool} })
	ts.waitAgentKnown(t, "web-1")
	ts.mustCall(t, "POST", "/api/v1/deployments", deploymentBody("web", "web-1"), 201)
	ts.waitHosts(t, api.StatusApplied, "web-1")
	eventually(t, "own_metrics offer over https", func() (bool, string) {
		om := a.OwnMetrics()
		return om != nil && strings.HasPrefix(om.GetDestinationEndpoint(), "https://"), fmt.Sprint(om)
	})
	resp, err := http.Get(strings.Replace(ts.APIURL(), "https://", "http://", 1) + "/healthz")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatal("plain HTTP answered on the TLS port")
		}
	}
}

func selfSigned(t *testing.T) (certPEM, keyPEM []byte, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "phoenix-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
	pool = x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	return certPEM, keyPEM, pool
}
