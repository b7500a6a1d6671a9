package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/agentsim"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

// A deployment changed while another deployment's round holds its hosts
// (a rollout sending to thousands of agents, their answers being merged)
// reaches its own hosts without waiting for the others: its round visits
// only the sessions the change can move. Before, every round reconciled the
// whole fleet under each session's lock, and with 100 fleet sessions held
// the 16 workers of the canary's round all blocked on them (the canary
// arrived only when the fleet's locks were released: 19.2 s instead of
// 2.2 s at 3,000 agents in benchmarks/opamp-scale). Heartbeats are an hour
// apart, so the canaries can only get the change from the round.
func TestChangeReachesItsHostsWhileOthersAreBusy(t *testing.T) {
	ts := startServer(t, newConfig(t))
	slow := func(o *agentsim.Options) { o.Heartbeat = time.Hour }
	var canaries []*agentsim.Agent
	var canaryHosts []string
	for i := range 3 {
		h := fmt.Sprintf("canary-%d", i)
		canaries = append(canaries, ts.agent(t, h, map[string]string{"role": "canary"}, slow))
		canaryHosts = append(canaryHosts, h)
	}
	var fleetHosts []string
	for i := range 100 {
		h := fmt.Sprintf("fleet-%03d", i)
		ts.agent(t, h, map[string]string{"role": "fleet"}, slow)
		fleetHosts = append(fleetHosts, h)
	}
	for _, h := range append(canaryHosts, fleetHosts...) {
		ts.waitAgentKnown(t, h)
	}
	body := func(name, role string, k int) map[string]any {
		return map[string]any{
			"name": name, "template": "process-topk-v1", "params": map[string]any{"k": k},
			"destination": map[string]any{"type": "debug"},
			"target":      map[string]any{"selector": map[string]any{"role": role}},
			"rollout":     map[string]any{"strategy": "all-at-once"},
		}
	}
	ts.mustCall(t, "POST", "/api/v1/deployments", body("fleet", "fleet", 10), 201)
	ts.mustCall(t, "POST", "/api/v1/deployments", body("canary", "canary", 10), 201)
	ts.waitHosts(t, api.StatusApplied, append(canaryHosts, fleetHosts...)...)

	v1 := desiredHash(t, ts, canaryHosts[0])
	held, release := ts.HoldSessions(func(host string) bool { return strings.HasPrefix(host, "fleet-") })
	defer release()
	if held != len(fleetHosts) {
		release()
		t.Fatalf("held %d fleet sessions, want %d", held, len(fleetHosts))
	}
	ts.mustCall(t, "PUT", "/api/v1/deployments/canary", body("canary", "canary", 5), 200)
	v2 := desiredHash(t, ts, canaryHosts[0])
	if v2 == v1 || v2 == "" {
		t.Fatalf("desired hash after the change %q, before %q: want a new one", v2, v1)
	}
	eventually(t, "version 2 of canary on every canary while the fleet's sessions are held", func() (bool, string) {
		var missing []string
		for _, a := range canaries {
			if !received(a, v2) {
				missing = append(missing, a.Host())
			}
		}
		return len(missing) == 0, fmt.Sprint("not received by ", missing)
	})
}
