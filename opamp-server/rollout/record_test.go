package rollout

import (
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

func withBatches(r *record, hosts ...string) *record {
	r.Batches = append(r.Batches, api.RolloutBatch{Number: len(r.Batches) + 1, Size: len(hosts), Hosts: hosts})
	r.index()
	return r
}

// What a host runs under each state, and what a new version keeps when it
// supersedes a rollout in progress, an aborted one or a completed one.
func TestVersionForAndSupersede(t *testing.T) {
	now := time.Now()
	p := Resolve(nil)
	v1 := successor(nil, "web", 1, p, now, "a")
	if v1.State != api.RolloutCompleted || v1.versionFor("h1") != 1 {
		t.Fatalf("version 1: %+v", v1)
	}
	v2 := withBatches(successor(v1, "web", 2, p, now, "a"), "h1", "h2")
	if v2.State != api.RolloutRolling || v2.From != 1 || v2.versionFor("h1") != 2 || v2.versionFor("h3") != 1 {
		t.Fatalf("version 2 rolling: %+v", v2)
	}
	v2.State = api.RolloutPaused
	if v2.versionFor("h1") != 2 || v2.versionFor("h3") != 1 {
		t.Fatal("a paused rollout moved hosts")
	}
	// v3 supersedes v2 in progress: h1, h2 keep 2 until reached, h3 keeps 1.
	v3 := successor(v2, "web", 3, p, now, "a")
	if v3.From != 1 || v3.Held["h1"] != 2 || v3.Held["h2"] != 2 || v3.versionFor("h3") != 1 || v3.versionFor("h1") != 2 {
		t.Fatalf("version 3 superseding: %+v", v3)
	}
	if got := v3.admissionOrder([]string{"h0", "h1", "h2", "h3"}); got[0] != "h1" || got[1] != "h2" || got[2] != "h0" {
		t.Fatalf("admission order %v: the hosts on the superseded version go first", got)
	}
	withBatches(v3, "h1")
	if v3.versionFor("h1") != 3 || v3.versionFor("h2") != 2 {
		t.Fatal("admitted host not on version 3")
	}
	// Aborted: every host back where it was; its successor keeps that.
	v3.State = api.RolloutAborted
	if v3.versionFor("h1") != 2 || v3.versionFor("h2") != 2 || v3.versionFor("h3") != 1 {
		t.Fatalf("aborted: h1 %d h2 %d h3 %d", v3.versionFor("h1"), v3.versionFor("h2"), v3.versionFor("h3"))
	}
	v4 := successor(v3, "web", 4, p, now, "a")
	if v4.versionFor("h1") != 2 || v4.versionFor("h3") != 1 {
		t.Fatalf("after an abort: %+v", v4)
	}
	// Completed: the next one starts from it, holding nothing.
	v4.State = api.RolloutCompleted
	v5 := successor(v4, "web", 5, p, now, "a")
	if v5.From != 4 || len(v5.Held) != 0 || v5.versionFor("h9") != 4 {
		t.Fatalf("after completion: %+v", v5)
	}
	// All at once: completed at once.
	v6 := successor(v5, "web", 6, Resolve(nil), now, "a")
	v6p := successor(v5, "web", 6, Policy{Strategy: api.RolloutAllAtOnce, FirstBatch: 3, Factor: 5}, now, "a")
	if v6.State != api.RolloutRolling || v6p.State != api.RolloutCompleted || v6p.versionFor("h1") != 6 {
		t.Fatalf("all at once: %s / %s", v6.State, v6p.State)
	}
	// The versions a rollout needs rendered include its own (a replica
	// whose deployments are ahead of its rollouts keeps hosts on it).
	if got := v3.versions(); len(got) != 3 || got[0] != 1 || got[2] != 3 {
		t.Fatalf("versions %v", got)
	}
}
