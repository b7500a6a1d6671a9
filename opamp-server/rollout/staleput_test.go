package rollout

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/deployment"
	"github.com/phoenix-otel/phoenix/opamp-server/store"
	"github.com/phoenix-otel/phoenix/opamp-server/store/sqlite"
)

// A read of the rollout that lands in the cache after a newer write (an
// operator's write syncing the rollout while the driver admitted a batch)
// does not take the batch back: before, the admitted hosts fell back to
// the previous version in the cache, and the driver waited for ever for
// hosts nobody pushed to (TestExperimentLifecycle's promotion stalled so,
// now and then, under load).
func TestStaleReadDoesNotUndoABatch(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir(), "t")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	spec := func(k int) store.DeploymentSpec {
		return store.DeploymentSpec{Template: "process-topk-v1", Params: map[string]any{"k": k}, Destination: store.Destination{Type: "debug"},
			Target: store.Target{Selector: map[string]string{"role": "web"}}}
	}
	svc := deployment.New(st, time.Minute)
	m := New(Config{Store: st, Deployments: svc, Holder: "t"})
	svc.SetLayers(m.Layer())
	svc.SetAfterWrite(m.Sync)
	if _, err := svc.Create(ctx, "web", spec(10)); err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"role": "web"}
	var agents []store.Agent
	for i := range 2 {
		h := fmt.Sprintf("web-%d", i)
		agents = append(agents, store.Agent{InstanceUID: fmt.Sprintf("00000000-0000-0000-0000-%012d", i), HostName: h, Connected: true,
			Labels: labels, Capabilities: 1 << 1, LastSeen: time.Now(), RemoteStatus: store.RemoteApplied, RemoteHash: svc.Desired(h, labels).Hash})
	}
	if err := st.UpsertAgents(ctx, agents, false); err != nil {
		t.Fatal(err)
	}
	d, _ := svc.Get(ctx, "web")
	if _, err := svc.Update(ctx, "web", d.Version, spec(20)); err != nil {
		t.Fatal(err)
	}
	stale, err := m.load(ctx, "web") // version 2 rolling, nobody admitted yet
	if err != nil || len(stale.admitted) != 0 {
		t.Fatalf("before the first batch: %+v %v", stale, err)
	}
	m.Tick(ctx) // admits the first batch: both hosts
	if got := svc.Desired("web-0", labels).Version; got != 2 {
		t.Fatalf("web-0 after its batch: version %d, want 2", got)
	}
	m.put(ctx, "web", stale) // the stale read lands last
	if got := svc.Desired("web-0", labels).Version; got != 2 {
		t.Fatalf("a stale read of the rollout took web-0's batch back: version %d, want 2", got)
	}
}
