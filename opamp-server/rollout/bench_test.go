package rollout_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/deployment"
	"github.com/phoenix-otel/phoenix/opamp-server/rollout"
	"github.com/phoenix-otel/phoenix/opamp-server/store"
	"github.com/phoenix-otel/phoenix/opamp-server/store/sqlite"
)

// One evaluation of a rolling rollout (read the agent registry, judge the
// reached hosts, nothing to write) with 10,000 agents on SQLite, half of
// them reached: what the driver spends each time it wakes during a large
// rollout (at most once per second, and every 5 s to renew its lease).
func BenchmarkTick10000Agents(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, b.TempDir(), "bench")
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	const n = 10000
	spec := func(k int, soak string) store.DeploymentSpec {
		return store.DeploymentSpec{Template: "process-topk-v1", Params: map[string]any{"k": k}, Destination: store.Destination{Type: "debug"},
			Target: store.Target{Selector: map[string]string{"fleet": "bench"}}, Rollout: &store.RolloutPolicy{FirstBatch: n / 2, MaxBatch: n, Soak: soak}}
	}
	svc := deployment.New(st, time.Minute)
	m := rollout.New(rollout.Config{Store: st, Deployments: svc, Holder: "bench"})
	svc.SetLayers(m.Layer())
	svc.SetAfterWrite(m.Sync)
	if _, err := svc.Create(ctx, "fleet", spec(10, "1h")); err != nil {
		b.Fatal(err)
	}
	d, _ := svc.Get(ctx, "fleet")
	agents := make([]store.Agent, 0, 500)
	for i := range n {
		h := fmt.Sprintf("host-%05d", i)
		agents = append(agents, store.Agent{InstanceUID: fmt.Sprintf("00000000-0000-0000-0000-%012d", i), HostName: h, Connected: true,
			Labels: map[string]string{"fleet": "bench"}, Capabilities: 1 << 1, LastSeen: time.Now(), RemoteStatus: store.RemoteApplied,
			RemoteHash: svc.Desired(h, map[string]string{"fleet": "bench"}).Hash})
		if len(agents) == cap(agents) {
			if err := st.UpsertAgents(ctx, agents, false); err != nil {
				b.Fatal(err)
			}
			agents = agents[:0]
		}
	}
	if _, err := svc.Update(ctx, "fleet", d.Version, spec(20, "1h")); err != nil {
		b.Fatal(err)
	}
	m.Tick(ctx) // admits the first batch (5,000 hosts), then it soaks for an hour
	ro, err := m.Get(ctx, "fleet")
	if err != nil || ro.Reached != n/2 || ro.State != "rolling" {
		b.Fatalf("setup: %+v %v", ro, err)
	}
	b.ReportAllocs()
	for b.Loop() {
		m.Tick(ctx)
	}
}
