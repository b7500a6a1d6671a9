package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open-telemetry/opamp-go/protobufs"

	"github.com/phoenix-otel/phoenix/opamp-server/agentsim"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
	"github.com/phoenix-otel/phoenix/opamp-server/store/postgres/pgtest"
)

func getRollout(t *testing.T, ts *testServer, name string) api.Rollout {
	t.Helper()
	code, raw := ts.call(t, "GET", "/api/v1/deployments/"+name+"/rollout", nil)
	if code != 200 {
		t.Fatalf("get rollout %s: %d %v", name, code, raw)
	}
	b, _ := json.Marshal(raw)
	var r api.Rollout
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func waitRollout(t *testing.T, ts *testServer, name, what string, cond func(api.Rollout) bool) api.Rollout {
	t.Helper()
	var r api.Rollout
	eventually(t, "rollout of "+name+" "+what, func() (bool, string) {
		r = getRollout(t, ts, name)
		return cond(r), fmt.Sprintf("%s stage %d/%d reached %d applied %d failed %d: %s", r.State, r.Stage, r.Stages, r.Reached, r.Applied, r.Failed, r.Reason)
	})
	return r
}

// fleetAgents starts n agents h01..hNN; the hosts in bad fail every config
// after the first one they get (they take version 1, then refuse).
func fleetAgents(t *testing.T, ts *testServer, n int, bad ...string) map[string]*agentsim.Agent {
	t.Helper()
	out := map[string]*agentsim.Agent{}
	for i := 1; i <= n; i++ {
		h := fmt.Sprintf("h%02d", i)
		var fail func([]byte) string
		for _, b := range bad {
			if b == h {
				var mu sync.Mutex
				var first []byte
				fail = func(body []byte) string {
					mu.Lock()
					defer mu.Unlock()
					if first == nil {
						first = append([]byte{}, body...)
					}
					if bytes.Equal(first, body) {
						return ""
					}
					return "told to fail: exporter otlp/bad: invalid endpoint"
				}
			}
		}
		out[h] = ts.agent(t, h, map[string]string{"role": "web"}, func(o *agentsim.Options) { o.Fail = fail })
	}
	for h := range out {
		ts.waitAgentKnown(t, h)
	}
	return out
}

func webBody(k int, rollout map[string]any) map[string]any {
	b := map[string]any{
		"name":        "web",
		"template":    "process-topk-v1",
		"params":      map[string]any{"k": k},
		"destination": map[string]any{"type": "debug"},
		"target":      map[string]any{"selector": map[string]any{"role": "web"}},
	}
	if rollout != nil {
		b["rollout"] = rollout
	}
	return b
}

// effective lists the hosts whose agent runs the config with that hash.
func running(ags map[string]*agentsim.Agent, hash string) []string {
	var out []string
	for i := 1; i <= len(ags); i++ {
		h := fmt.Sprintf("h%02d", i)
		if ags[h].EffectiveHash() == hash {
			out = append(out, h)
		}
	}
	return out
}

func received(a *agentsim.Agent, hash string) bool {
	for _, r := range a.Received() {
		if r.Hash == hash {
			return true
		}
	}
	return false
}

func desiredHash(t *testing.T, ts *testServer, host string) string {
	t.Helper()
	_, out := ts.call(t, "GET", "/api/v1/hosts/"+host, nil)
	return str(out["desired_hash"])
}

// A new version rolls out in batches with a soak between them; a host that
// fails pauses it on its own with the reason, and the hosts not reached keep
// the previous version; resume goes on past the accepted failure; a manual
// pause, then an abort, return the reached hosts to the previous version.
// Agents are agentsim agents over real OpAMP WebSockets; SQLite.
func TestRolloutPauseResumeAbort(t *testing.T) {
	ts := startServer(t, newConfig(t))
	ags := fleetAgents(t, ts, 8, "h04")
	hosts := []string{"h01", "h02", "h03", "h04", "h05", "h06", "h07", "h08"}

	ts.mustCall(t, "POST", "/api/v1/deployments", webBody(10, nil), 201)
	ts.waitHosts(t, api.StatusApplied, hosts...)
	r1 := getRollout(t, ts, "web")
	if r1.State != api.RolloutCompleted || r1.Version != 1 {
		t.Fatalf("version 1: %+v, want completed at once", r1)
	}
	v1 := desiredHash(t, ts, "h01")

	// Version 2: batches of 2, 4, then 2, soaking 1s each.
	policy := map[string]any{"first_batch": 2, "factor": 2, "soak": "1s"}
	ts.mustCall(t, "PUT", "/api/v1/deployments/web", webBody(20, policy), 200)
	r := waitRollout(t, ts, "web", "batch 1 applied", func(r api.Rollout) bool { return r.Stage >= 1 && r.Applied >= 2 })
	if r.Version != 2 || r.FromVersion != 1 || r.Stages != 3 || r.Total != 8 {
		t.Fatalf("rollout of version 2: %+v", r)
	}
	if got := r.Batches[0].Hosts; strings.Join(got, ",") != "h01,h02" {
		t.Fatalf("batch 1 is %v, want h01,h02", got)
	}
	v2 := desiredHash(t, ts, "h01")
	if v2 == v1 || desiredHash(t, ts, "h08") != v1 {
		t.Fatalf("desired: h01 %s, h08 %s, version 1 is %s", v2, desiredHash(t, ts, "h08"), v1)
	}
	// The automatic pause: h04 is in batch 2.
	r = waitRollout(t, ts, "web", "paused by h04", func(r api.Rollout) bool { return r.State == api.RolloutPaused })
	if !strings.Contains(r.Reason, "h04") || !strings.Contains(r.Reason, "told to fail") || len(r.Failures) == 0 || r.Failures[0].Host != "h04" {
		t.Fatalf("pause reason %q, failures %+v", r.Reason, r.Failures)
	}
	if len(r.Batches) != 2 || strings.Join(r.Batches[1].Hosts, ",") != "h03,h04,h05,h06" {
		t.Fatalf("batches %+v", r.Batches)
	}
	// Batch 2 started only after batch 1 had been healthy for the soak.
	if b1 := r.Batches[0]; b1.HealthySince.IsZero() || r.Batches[1].StartedAt.Sub(b1.HealthySince) < time.Second {
		t.Fatalf("batch 2 started %v after batch 1 turned healthy, soak 1s", r.Batches[1].StartedAt.Sub(b1.HealthySince))
	}
	// Hosts not reached keep version 1 and were never sent version 2.
	time.Sleep(1500 * time.Millisecond) // longer than the soak: a paused rollout admits no one
	for _, h := range []string{"h07", "h08"} {
		if received(ags[h], v2) || ags[h].EffectiveHash() != v1 {
			t.Fatalf("%s, not reached, got version 2 (effective %s)", h, ags[h].EffectiveHash())
		}
	}
	if r := getRollout(t, ts, "web"); r.State != api.RolloutPaused || len(r.Batches) != 2 {
		t.Fatalf("a paused rollout went on: %s, %d batches", r.State, len(r.Batches))
	}
	// Pausing a paused rollout is a conflict with the state named.
	code, out := ts.call(t, "POST", "/api/v1/deployments/web/rollout/pause", nil)
	if code != 409 || !strings.Contains(str(out["detail"]), "paused") {
		t.Fatalf("pause twice: %d %v", code, out)
	}

	// Resume: h04's failure is accepted, the rollout reaches h07 and h08.
	ts.mustCall(t, "POST", "/api/v1/deployments/web/rollout/resume", map[string]any{"reason": "h04 is known bad, fixed later"}, 200)
	r = waitRollout(t, ts, "web", "completed", func(r api.Rollout) bool { return r.State == api.RolloutCompleted })
	if len(r.Batches) != 3 || !r.Failures[0].Accepted {
		t.Fatalf("after resume: %+v", r)
	}
	eventually(t, "seven hosts on version 2", func() (bool, string) {
		got := running(ags, v2)
		return len(got) == 7, fmt.Sprint(got)
	})

	// Version 3, paused by hand after its first batch, then aborted: the
	// reached hosts return to version 2.
	ts.mustCall(t, "PUT", "/api/v1/deployments/web", webBody(30, map[string]any{"first_batch": 2, "factor": 2, "soak": "30s"}), 200)
	r = waitRollout(t, ts, "web", "version 3 batch 1 applied", func(r api.Rollout) bool { return r.Version == 3 && r.Applied >= 2 })
	v3 := desiredHash(t, ts, "h01")
	ts.mustCall(t, "POST", "/api/v1/deployments/web/rollout/pause", nil, 200)
	r = ts.rolloutAfter(t, "POST", "/api/v1/deployments/web/rollout/abort", map[string]any{"reason": "bad change"})
	if r.State != api.RolloutAborted || r.Reason != "bad change" {
		t.Fatalf("abort: %+v", r)
	}
	eventually(t, "reached hosts back on version 2", func() (bool, string) {
		return len(running(ags, v3)) == 0 && len(running(ags, v2)) == 7, fmt.Sprint("v3 ", running(ags, v3), " v2 ", running(ags, v2))
	})
	if !received(ags["h01"], v3) || received(ags["h08"], v3) {
		t.Fatalf("version 3 (%s) did not reach h01 (%v), or reached h08 before its batch (%v); rollout %+v", v3, received(ags["h01"], v3), received(ags["h08"], v3), r)
	}
	code, out = ts.call(t, "POST", "/api/v1/deployments/web/rollout/resume", nil)
	if code != 409 || !strings.Contains(str(out["detail"]), "aborted") {
		t.Fatalf("resume an aborted rollout: %d %v", code, out)
	}
}

func (ts *testServer) rolloutAfter(t *testing.T, method, path string, body any) api.Rollout {
	t.Helper()
	out := ts.mustCall(t, method, path, body, 200)
	b, _ := json.Marshal(out)
	var r api.Rollout
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// --rollout all-at-once opts out: every host gets the version at once.
func TestRolloutAllAtOnce(t *testing.T) {
	ts := startServer(t, newConfig(t))
	ags := fleetAgents(t, ts, 6)
	ts.mustCall(t, "POST", "/api/v1/deployments", webBody(10, nil), 201)
	ts.waitHosts(t, api.StatusApplied, "h01", "h06")
	ts.mustCall(t, "PUT", "/api/v1/deployments/web", webBody(20, map[string]any{"strategy": "all-at-once"}), 200)
	r := getRollout(t, ts, "web")
	if r.State != api.RolloutCompleted || r.Version != 2 {
		t.Fatalf("all at once: %+v", r)
	}
	v2 := desiredHash(t, ts, "h06")
	eventually(t, "every host on version 2", func() (bool, string) {
		got := running(ags, v2)
		return len(got) == 6, fmt.Sprint(got)
	})
	// A bad policy is refused and stores nothing.
	code, out := ts.call(t, "PUT", "/api/v1/deployments/web", webBody(30, map[string]any{"soak": "forever"}))
	if code != 422 || out["field"] != "rollout.soak" {
		t.Fatalf("bad soak: %d %v", code, out)
	}
	if r := getRollout(t, ts, "web"); r.Version != 2 {
		t.Fatalf("a refused write changed the rollout: %+v", r)
	}
}

// A restart in the middle of a rollout loses nothing: the batches admitted
// stay admitted, the hosts not reached stay on the previous version, and
// the restarted server drives it to the end. SQLite, and PostgreSQL when a
// test cluster is given.
func TestRolloutSurvivesRestart(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testRolloutRestart(t, "") })
	t.Run("postgres", func(t *testing.T) { testRolloutRestart(t, pgtest.FreshDatabase(t)) })
}

func testRolloutRestart(t *testing.T, dsn string) {
	cfg := newConfig(t)
	cfg.StoreDSN = dsn
	ts := startServer(t, cfg)
	ags := fleetAgents(t, ts, 6)
	ts.mustCall(t, "POST", "/api/v1/deployments", webBody(10, nil), 201)
	ts.waitHosts(t, api.StatusApplied, "h01", "h02", "h03", "h04", "h05", "h06")
	v1 := desiredHash(t, ts, "h06")
	ts.mustCall(t, "PUT", "/api/v1/deployments/web", webBody(20, map[string]any{"first_batch": 2, "factor": 2, "soak": "3s"}), 200)
	before := waitRollout(t, ts, "web", "batch 1 soaking", func(r api.Rollout) bool {
		return len(r.Batches) == 1 && !r.Batches[0].HealthySince.IsZero()
	})
	v2 := desiredHash(t, ts, "h01")
	ts.stop(t)
	ts2 := startServer(t, cfg)
	after := getRollout(t, ts2, "web")
	if after.State != api.RolloutRolling || len(after.Batches) < 1 || strings.Join(after.Batches[0].Hosts, ",") != strings.Join(before.Batches[0].Hosts, ",") {
		t.Fatalf("after the restart: %+v, before %+v", after, before)
	}
	for _, h := range []string{"h05", "h06"} {
		if received(ags[h], v2) || ags[h].EffectiveHash() != v1 {
			t.Fatalf("%s got version 2 across the restart before its batch", h)
		}
	}
	r := waitRollout(t, ts2, "web", "completed", func(r api.Rollout) bool { return r.State == api.RolloutCompleted })
	if len(r.Batches) != 2 || strings.Join(r.Batches[1].Hosts, ",") != "h03,h04,h05,h06" {
		t.Fatalf("batches after the restart: %+v", r.Batches)
	}
	eventually(t, "every host on version 2", func() (bool, string) {
		got := running(ags, v2)
		return len(got) == 6, fmt.Sprint(got)
	})
}

// A reached host that degrades (its exporter fails) pauses the rollout as a
// failed one does, with the exporter's error; later hosts keep version 1.
func TestRolloutPausesOnDegraded(t *testing.T) {
	ts := startServer(t, newConfig(t))
	ags := fleetAgents(t, ts, 5)
	ts.mustCall(t, "POST", "/api/v1/deployments", webBody(10, nil), 201)
	ts.waitHosts(t, api.StatusApplied, "h01", "h02", "h03", "h04", "h05")
	v1 := desiredHash(t, ts, "h05")
	ts.mustCall(t, "PUT", "/api/v1/deployments/web", webBody(20, map[string]any{"first_batch": 2, "factor": 2, "soak": "20s"}), 200)
	waitRollout(t, ts, "web", "batch 1 applied", func(r api.Rollout) bool { return r.Applied == 2 })
	if err := ags["h02"].SetHealth(&protobufs.ComponentHealth{Healthy: true, Status: "running", ComponentHealthMap: map[string]*protobufs.ComponentHealth{
		"exporter:otlp_http/gw": {Healthy: false, Status: "export failing", LastError: "otlp_http/gw: connection refused", StatusTimeUnixNano: uint64(time.Now().UnixNano())},
	}}); err != nil {
		t.Fatal(err)
	}
	r := waitRollout(t, ts, "web", "paused by h02", func(r api.Rollout) bool { return r.State == api.RolloutPaused })
	if !strings.Contains(r.Reason, "h02 is degraded") || !strings.Contains(r.Reason, "connection refused") || len(r.Batches) != 1 {
		t.Fatalf("pause: %+v", r)
	}
	for _, h := range []string{"h03", "h04", "h05"} {
		if ags[h].EffectiveHash() != v1 {
			t.Fatalf("%s left version 1", h)
		}
	}
}

// Two replicas on one PostgreSQL, the writes on A, the agents on B: one
// replica drives every batch (the lease), B's agents get each version only
// in their batch, and when the driver is A and it stops in the middle, B
// takes the lease over and finishes the rollout.
func TestRolloutAcrossReplicas(t *testing.T) {
	dsn := pgtest.FreshDatabase(t)
	ca := newConfig(t)
	ca.StoreDSN, ca.ServerID = dsn, "replica-a"
	a := startServer(t, ca)
	cb := newConfig(t)
	cb.StoreDSN, cb.ServerID = dsn, "replica-b"
	cb.APITokenFile, cb.EnrollmentTokenFile, cb.SecretsKeyFile = ca.APITokenFile, ca.EnrollmentTokenFile, ca.SecretsKeyFile
	if cb.APITokenFile == "" {
		dir := ca.DataDir
		cb.APITokenFile, cb.EnrollmentTokenFile, cb.SecretsKeyFile = dir+"/api-token", dir+"/enrollment-token", dir+"/secrets.key"
	}
	b := startServer(t, cb)
	ags := fleetAgents(t, b, 6)
	a.mustCall(t, "POST", "/api/v1/deployments", webBody(10, nil), 201)
	b.waitHosts(t, api.StatusApplied, "h01", "h06")
	a.mustCall(t, "PUT", "/api/v1/deployments/web", webBody(20, map[string]any{"first_batch": 2, "factor": 2, "soak": "2s"}), 200)
	r := waitRollout(t, b, "web", "batch 1 admitted", func(r api.Rollout) bool { return len(r.Batches) == 1 && r.Batches[0].By != "" })
	driver := r.Batches[0].By
	v1 := desiredHash(t, b, "h06")
	if ags["h06"].EffectiveHash() != v1 {
		t.Fatal("h06 left version 1 before its batch")
	}
	finisher := b
	if driver == "replica-a" {
		a.stop(t) // the lease runs out in 15 s; B takes over
	} else {
		finisher = a
	}
	r = waitRollout(t, finisher, "web", "completed", func(r api.Rollout) bool { return r.State == api.RolloutCompleted })
	if len(r.Batches) != 2 {
		t.Fatalf("batches %+v", r.Batches)
	}
	if driver == "replica-a" && r.Batches[1].By != "replica-b" {
		t.Fatalf("replica-a stopped, but batch 2 was admitted by %q", r.Batches[1].By)
	}
	if driver == "replica-b" && r.Batches[1].By != driver {
		t.Fatalf("two replicas drove one rollout: batch 1 by %s, batch 2 by %s", driver, r.Batches[1].By)
	}
	for _, bt := range r.Batches {
		for _, h := range bt.Hosts {
			rec := ags[h].Received()
			last := rec[len(rec)-1]
			if last.At.Before(bt.StartedAt) {
				t.Fatalf("%s got version 2 at %s, before its batch started at %s", h, last.At, bt.StartedAt)
			}
		}
	}
	t.Logf("batch 1 by %s, batch 2 by %s", driver, r.Batches[1].By)
}
