package server_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/open-telemetry/opamp-go/protobufs"

	"github.com/phoenix-otel/phoenix/agent"
	"github.com/phoenix-otel/phoenix/opamp-server/agentsim"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

// failOn makes an agent fail any config whose body contains s.
func failOn(s, why string) func([]byte) string {
	return func(b []byte) string {
		if strings.Contains(string(b), s) {
			return why
		}
		return ""
	}
}

func receivedHashes(a *agentsim.Agent) []string {
	var out []string
	for _, r := range a.Received() {
		out = append(out, r.Hash[:12])
	}
	return out
}

// The contrib opampsupervisor with automatic_config_rollback reports
// APPLIED(A) -> APPLYING(B) -> FAILED(B) -> APPLIED(A): after its rollback it
// reports A again, so only the server's own record of FAILED(B) stops B from
// being pushed again. B is never pushed again: not on heartbeats, not on
// reconnect, not after a server restart. (Delete the FailedConfigs check
// from reconcile and this test fails: issue 19's survivor.)
func TestRollbackAgentNeverGetsTheFailedConfigAgain(t *testing.T) {
	t.Run("websocket", func(t *testing.T) { testRollbackAgent(t, false) })
	t.Run("http-polling", func(t *testing.T) { testRollbackAgent(t, true) })
}

func testRollbackAgent(t *testing.T, polling bool) {
	cfg := newConfig(t)
	ts := startServer(t, cfg)
	a := ts.agent(t, "sup-1", nil, func(o *agentsim.Options) {
		o.Rollback = true
		o.Fail = failOn("top_k: 20", "listen tcp :8888: bind: address already in use")
		if polling {
			o.HTTP = true
			o.URL = strings.Replace(ts.OpAMPURL(), "ws://", "http://", 1)
		}
	})
	ts.waitAgentKnown(t, "sup-1")
	ts.mustCall(t, "POST", "/api/v1/deployments", deploymentBody("web", "sup-1"), 201)
	ts.waitHosts(t, api.StatusApplied, "sup-1")
	hashA := a.Received()[0].Hash

	ts.mustCall(t, "PUT", "/api/v1/deployments/web", map[string]any{"params": map[string]any{"k": 20}}, 200)
	ts.waitHosts(t, api.StatusFailed, "sup-1")
	eventually(t, "agent rolled back and reports APPLIED(A)", func() (bool, string) {
		st := a.Status()
		return st.GetStatus() == protobufs.RemoteConfigStatuses_RemoteConfigStatuses_APPLIED && hex.EncodeToString(st.GetLastRemoteConfigHash()) == hashA, st.String()
	})
	if len(a.Received()) != 2 {
		t.Fatalf("received %v, want A then B", receivedHashes(a))
	}
	hashB := a.Received()[1].Hash
	// The server hears APPLIED(A) a heartbeat later; the host still reads
	// failed with B's error.
	eventually(t, "host failed with B's error while reporting A", func() (bool, string) {
		_, h := ts.call(t, "GET", "/api/v1/hosts/sup-1", nil)
		return h["status"] == api.StatusFailed && strings.Contains(str(h["error"]), "address already in use") && str(h["reported_hash"]) == hashA, fmt.Sprint(h)
	})

	noPushOfB := func(ag *agentsim.Agent, when string) {
		t.Helper()
		for _, r := range ag.Received() {
			if r.Hash == hashB {
				t.Fatalf("%s: the FAILED config was pushed again (received %v)", when, receivedHashes(ag))
			}
		}
	}
	// Heartbeats every 200ms for 2s.
	time.Sleep(2 * time.Second)
	if n := len(a.Received()); n != 2 {
		t.Fatalf("heartbeats: received %v", receivedHashes(a))
	}
	// Reconnect with the agent's state (it reports APPLIED(A)).
	opts := a.Restartable()
	if err := a.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	again := startAgent(t, opts)
	eventually(t, "reconnected", func() (bool, string) {
		_, h := ts.call(t, "GET", "/api/v1/hosts/sup-1", nil)
		return h["connected"] == true && h["status"] == api.StatusFailed, fmt.Sprint(h)
	})
	time.Sleep(2 * time.Second)
	noPushOfB(again, "reconnect")

	// A server restart: the failed hash is remembered in the store.
	ts.stop(t)
	ts2 := startServer(t, cfg)
	eventually(t, "reconnected after restart", func() (bool, string) {
		_, h := ts2.call(t, "GET", "/api/v1/hosts/sup-1", nil)
		return h["connected"] == true && h["status"] == api.StatusFailed, fmt.Sprint(h)
	})
	time.Sleep(2 * time.Second)
	noPushOfB(again, "server restart")

	// A new version (a fix) is pushed.
	ts2.mustCall(t, "PUT", "/api/v1/deployments/web", map[string]any{"params": map[string]any{"k": 25}}, 200)
	ts2.waitHosts(t, api.StatusApplied, "sup-1")
	noPushOfB(again, "after the fix")
}

// POST /hosts/{h}/retry pushes the desired config again, although the agent
// reports that very hash FAILED (the hash comparison alone would send
// nothing), with the io.phoenix.retry message phoenix-agent needs to try a
// hash it failed. Without a retry it is never pushed again.
func TestRetryPushesTheDesiredConfigAgain(t *testing.T) {
	ts := startServer(t, newConfig(t))
	a := ts.agent(t, "web-1", nil, func(o *agentsim.Options) {
		o.Fail = failOn("top_k", "listen tcp :8888: bind: address already in use")
	})
	ts.waitAgentKnown(t, "web-1")
	ts.mustCall(t, "POST", "/api/v1/deployments", deploymentBody("web", "web-1"), 201)
	ts.waitHosts(t, api.StatusFailed, "web-1")
	time.Sleep(time.Second)
	if n := len(a.Received()); n != 1 {
		t.Fatalf("before the retry: received %d configs, want 1", n)
	}
	hash := a.Received()[0].Hash

	a.SetFail(nil) // the operator freed the port
	out := ts.mustCall(t, "POST", "/api/v1/hosts/web-1/retry", nil, 200)
	if !strings.Contains(str(out["detail"]), "pushed again") {
		t.Fatalf("retry answer: %v", out)
	}
	eventually(t, "the desired config pushed again", func() (bool, string) { return len(a.Received()) == 2, fmt.Sprint(receivedHashes(a)) })
	if got := a.Received()[1].Hash; got != hash {
		t.Fatalf("retry pushed %s, want the desired %s", got[:12], hash[:12])
	}
	var retryMsg *protobufs.CustomMessage
	for _, m := range a.CustomMessages() {
		if m.GetCapability() == agent.RetryCapability {
			retryMsg = m
		}
	}
	if retryMsg == nil || retryMsg.GetType() != agent.RetryType || string(retryMsg.GetData()) != hash {
		t.Fatalf("the retry push lacks the %s message with the hash: %v", agent.RetryCapability, retryMsg)
	}
	ts.waitHosts(t, api.StatusApplied, "web-1")
	// One retry, one push: heartbeats do not repeat it.
	time.Sleep(time.Second)
	if n := len(a.Received()); n != 2 {
		t.Fatalf("after the retry: received %d configs, want 2", n)
	}
}

// Exports that fail show: the host reads degraded with the last export
// error, in the host, the deployment (degraded is final) and the health.
// A collector that is down is not healthy: failed, with the agent's error;
// one that is starting again reads applying.
func TestHealthQualifiesAppliedHosts(t *testing.T) {
	ts := startServer(t, newConfig(t))
	a := ts.agent(t, "web-1", nil)
	ts.waitAgentKnown(t, "web-1")
	ts.mustCall(t, "POST", "/api/v1/deployments", deploymentBody("web", "web-1"), 201)
	ts.waitHosts(t, api.StatusApplied, "web-1")

	exportErr := `failed to make an HTTP request: Post "http://gw:4318/v1/metrics": dial tcp: connection refused`
	start := uint64(time.Now().UnixNano())
	set := func(h *protobufs.ComponentHealth) {
		t.Helper()
		if err := a.SetHealth(h); err != nil {
			t.Fatal(err)
		}
	}
	set(&protobufs.ComponentHealth{Healthy: true, Status: "running", StartTimeUnixNano: start, ComponentHealthMap: map[string]*protobufs.ComponentHealth{
		"collector":             {Healthy: true, Status: "running"},
		"exporter:otlp_http/gw": {Healthy: false, Status: "export failing", LastError: "otlp_http/gw: " + exportErr, StatusTimeUnixNano: uint64(time.Now().UnixNano())},
	}})
	ts.waitHosts(t, api.StatusDegraded, "web-1")
	_, h := ts.call(t, "GET", "/api/v1/hosts/web-1", nil)
	if !strings.Contains(str(h["error"]), exportErr) {
		t.Fatalf("degraded host lacks the last export error: %v", h)
	}
	comps, _ := h["health"].(map[string]any)["components"].(map[string]any)
	if _, ok := comps["exporter:otlp_http/gw"]; !ok {
		t.Fatalf("health lacks the failing exporter: %v", h["health"])
	}
	_, st := ts.call(t, "GET", "/api/v1/deployments/web/status", nil)
	if st["status"] != api.StatusDegraded || st["final"] != true {
		t.Fatalf("deployment status %v, want degraded and final", st)
	}

	// The contrib opamp extension nests components under pipelines.
	set(&protobufs.ComponentHealth{Healthy: true, Status: "StatusOK", StartTimeUnixNano: start, ComponentHealthMap: map[string]*protobufs.ComponentHealth{
		"pipeline:metrics": {Healthy: false, Status: "StatusRecoverableError", ComponentHealthMap: map[string]*protobufs.ComponentHealth{
			"receiver:otlp":   {Healthy: true, Status: "StatusOK"},
			"exporter:otlp/x": {Healthy: false, Status: "StatusRecoverableError", LastError: "rpc error: code = Unavailable"},
		}},
	}})
	eventually(t, "nested exporter error", func() (bool, string) {
		_, h := ts.call(t, "GET", "/api/v1/hosts/web-1", nil)
		return h["status"] == api.StatusDegraded && strings.Contains(str(h["error"]), "code = Unavailable"), fmt.Sprint(h)
	})

	// A crash-looping collector is not healthy, whatever APPLIED says.
	set(&protobufs.ComponentHealth{Healthy: false, Status: "crashed", LastError: "collector (pid 4242) exit status 1; restart 3 in 4s", StartTimeUnixNano: start})
	ts.waitHosts(t, api.StatusFailed, "web-1")
	_, h = ts.call(t, "GET", "/api/v1/hosts/web-1", nil)
	if !strings.Contains(str(h["error"]), "unhealthy (crashed): collector (pid 4242) exit status 1") {
		t.Fatalf("failed host lacks the agent's error: %v", h)
	}
	set(&protobufs.ComponentHealth{Healthy: false, Status: "starting", StartTimeUnixNano: start})
	ts.waitHosts(t, api.StatusApplying, "web-1")
	set(&protobufs.ComponentHealth{Healthy: true, Status: "running", StartTimeUnixNano: start})
	ts.waitHosts(t, api.StatusApplied, "web-1")
}

// Untrusted health text is bounded before it is stored.
func TestHealthTextIsBounded(t *testing.T) {
	ts := startServer(t, newConfig(t))
	a := ts.agent(t, "web-1", nil)
	ts.waitAgentKnown(t, "web-1")
	m := map[string]*protobufs.ComponentHealth{}
	for i := range 100 {
		m[fmt.Sprintf("exporter:e%03d", i)] = &protobufs.ComponentHealth{Healthy: false, LastError: strings.Repeat("x", 10000)}
	}
	if err := a.SetHealth(&protobufs.ComponentHealth{Healthy: true, ComponentHealthMap: m}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "health stored", func() (bool, string) {
		_, ag := ts.call(t, "GET", "/api/v1/agents/"+a.UID().String(), nil)
		hh, _ := ag["health"].(map[string]any)
		comps, _ := hh["components"].(map[string]any)
		if len(comps) == 0 {
			return false, fmt.Sprint(hh)
		}
		for _, c := range comps {
			if len(str(c.(map[string]any)["last_error"])) > 1100 {
				return false, "an error of over 1 KiB was stored"
			}
		}
		return len(comps) == 32, fmt.Sprintf("%d components stored, want 32", len(comps))
	})
}
