// Package storetest is the conformance suite every store.Store implementation
// runs: SQLite and PostgreSQL must behave the same.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// Factory gives a fresh, empty database per test and returns a function that
// opens a handle on it (several handles = several replicas). Handles are
// closed by the suite.
type Factory func(t *testing.T) (open func(t *testing.T, serverID string) store.Store)

func spec(tmpl string, hosts ...string) store.DeploymentSpec {
	return store.DeploymentSpec{
		Template:    tmpl,
		Params:      map[string]any{"k": float64(10), "mode": "rollup"},
		Destination: store.Destination{Type: "otlp", Endpoint: "collector:4317", Headers: map[string]string{"x": "y"}, Insecure: true},
		Target:      store.Target{Hosts: hosts},
	}
}

func openOne(t *testing.T, f Factory) store.Store {
	open := f(t)
	s := open(t, "replica-a")
	t.Cleanup(func() { s.Close() })
	return s
}

// Run runs the whole suite.
func Run(t *testing.T, f Factory) {
	t.Run("DeploymentLifecycle", func(t *testing.T) { testDeploymentLifecycle(t, f) })
	t.Run("DeploymentErrors", func(t *testing.T) { testDeploymentErrors(t, f) })
	t.Run("RawConfig", func(t *testing.T) { testRawConfig(t, f) })
	t.Run("ConflictCheck", func(t *testing.T) { testConflictCheck(t, f) })
	t.Run("ConcurrentWriters", func(t *testing.T) { testConcurrentWriters(t, f) })
	t.Run("Agents", func(t *testing.T) { testAgents(t, f) })
	t.Run("AgentRecords", func(t *testing.T) { testAgentRecords(t, f) })
	t.Run("Metrics", func(t *testing.T) { testMetrics(t, f) })
	t.Run("Changes", func(t *testing.T) { testChanges(t, f) })
	t.Run("ChangesAcrossReplicas", func(t *testing.T) { testChangesAcrossReplicas(t, f) })
	t.Run("ChangesNeverDropped", func(t *testing.T) { testChangesNeverDroppedOne(t, f) })
	t.Run("ChangesNeverDroppedAcrossReplicas", func(t *testing.T) { testChangesNeverDroppedReplicas(t, f) })
	t.Run("BatchedAgentWrites", func(t *testing.T) { testBatchedAgentWrites(t, f) })
	t.Run("Generation", func(t *testing.T) { testGeneration(t, f) })
	t.Run("ReopenKeepsState", func(t *testing.T) { testReopen(t, f) })
	t.Run("LoadSimJobs", func(t *testing.T) { testLoadSimJobs(t, f) })
	t.Run("Experiments", func(t *testing.T) { testExperiments(t, f) })
	t.Run("Identity", func(t *testing.T) { testIdentity(t, f) })
	t.Run("Rollouts", func(t *testing.T) { testRollouts(t, f) })
}

func testDeploymentLifecycle(t *testing.T, f Factory) {
	ctx := context.Background()
	s := openOne(t, f)
	v1, err := s.CreateDeployment(ctx, "web", spec("process-topk-v1", "h1", "h2"), nil)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if v1.Version != 1 || v1.Deployment != "web" || v1.CreatedAt.IsZero() {
		t.Fatalf("create returned %+v", v1)
	}
	d, err := s.GetDeployment(ctx, "web")
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if d.Version != 1 || !reflect.DeepEqual(d.Current.Spec, spec("process-topk-v1", "h1", "h2")) {
		t.Fatalf("get returned %+v", d)
	}
	s2 := spec("process-baseline-v1", "h1")
	v2, err := s.AddDeploymentVersion(ctx, "web", 1, s2, 0, nil)
	if err != nil || v2.Version != 2 {
		t.Fatalf("add version: %+v %v", v2, err)
	}
	// Rollback is a new version equal to N.
	old, err := s.GetDeploymentVersion(ctx, "web", 1)
	if err != nil {
		t.Fatalf("get version 1: %v", err)
	}
	v3, err := s.AddDeploymentVersion(ctx, "web", 2, old.Spec, 1, nil)
	if err != nil || v3.Version != 3 || v3.RollbackOf != 1 {
		t.Fatalf("rollback: %+v %v", v3, err)
	}
	vs, err := s.ListDeploymentVersions(ctx, "web")
	if err != nil || len(vs) != 3 {
		t.Fatalf("versions: %d %v", len(vs), err)
	}
	if !reflect.DeepEqual(vs[2].Spec, vs[0].Spec) || reflect.DeepEqual(vs[1].Spec, vs[0].Spec) {
		t.Fatalf("version specs wrong: %+v", vs)
	}
	// Versions are immutable: version 2 still reads as written.
	got2, _ := s.GetDeploymentVersion(ctx, "web", 2)
	if !reflect.DeepEqual(got2.Spec, s2) {
		t.Fatalf("version 2 changed: %+v", got2.Spec)
	}
	if _, err := s.CreateDeployment(ctx, "db", spec("process-baseline-v1", "h3"), nil); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListDeployments(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "web" || list[0].Version != 3 || list[1].Name != "db" {
		t.Fatalf("list: %+v %v", list, err)
	}
	if err := s.DeleteDeployment(ctx, "web"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := s.GetDeployment(ctx, "web"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
	if _, err := s.ListDeploymentVersions(ctx, "web"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("versions after delete: %v", err)
	}
	// The name is free again, starting from version 1.
	v, err := s.CreateDeployment(ctx, "web", spec("process-topk-v1", "h1"), nil)
	if err != nil || v.Version != 1 {
		t.Fatalf("recreate: %+v %v", v, err)
	}
}

func testDeploymentErrors(t *testing.T, f Factory) {
	ctx := context.Background()
	s := openOne(t, f)
	if _, err := s.CreateDeployment(ctx, "web", spec("t", "h1"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateDeployment(ctx, "web", spec("t", "h9"), nil); !errors.Is(err, store.ErrExists) {
		t.Fatalf("duplicate create: %v", err)
	}
	if _, err := s.AddDeploymentVersion(ctx, "web", 5, spec("t", "h1"), 0, nil); !errors.Is(err, store.ErrVersionConflict) {
		t.Fatalf("stale version: %v", err)
	}
	if _, err := s.AddDeploymentVersion(ctx, "nope", 1, spec("t", "h1"), 0, nil); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing deployment: %v", err)
	}
	if _, err := s.GetDeploymentVersion(ctx, "web", 7); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing version: %v", err)
	}
	if _, err := s.GetDeploymentVersion(ctx, "nope", 1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing deployment version: %v", err)
	}
	if err := s.DeleteDeployment(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete missing: %v", err)
	}
	// Nothing changed.
	d, _ := s.GetDeployment(ctx, "web")
	if d.Version != 1 || d.Current.Spec.Target.Hosts[0] != "h1" {
		t.Fatalf("state changed by failed writes: %+v", d)
	}
}

func testConflictCheck(t *testing.T, f Factory) {
	ctx := context.Background()
	s := openOne(t, f)
	a := store.Agent{InstanceUID: "a1", HostName: "h1", Labels: map[string]string{"env": "prod"}, LastSeen: time.Now()}
	if err := s.UpsertAgent(ctx, a, false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateDeployment(ctx, "web", spec("t", "h1"), nil); err != nil {
		t.Fatal(err)
	}
	var sawOthers []store.Deployment
	var sawAgents []store.Agent
	refuse := func(others []store.Deployment, agents []store.Agent) error {
		sawOthers, sawAgents = others, agents
		return &store.ConflictError{Deployment: others[0].Name, Hosts: []string{"h1"}}
	}
	_, err := s.CreateDeployment(ctx, "db", spec("t", "h1"), refuse)
	var ce *store.ConflictError
	if !errors.As(err, &ce) || ce.Deployment != "web" {
		t.Fatalf("conflict not returned: %v", err)
	}
	if len(sawOthers) != 1 || sawOthers[0].Name != "web" || len(sawAgents) != 1 || sawAgents[0].Labels["env"] != "prod" {
		t.Fatalf("check saw others=%+v agents=%+v", sawOthers, sawAgents)
	}
	if _, err := s.GetDeployment(ctx, "db"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("refused deployment was stored: %v", err)
	}
	// On update, the deployment itself is not among the others.
	_, err = s.AddDeploymentVersion(ctx, "web", 1, spec("t", "h1", "h2"), 0, func(others []store.Deployment, _ []store.Agent) error {
		if len(others) != 0 {
			return fmt.Errorf("others = %+v", others)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Two writers racing to create version 2 of one deployment: exactly one wins.
func testConcurrentWriters(t *testing.T, f Factory) {
	ctx := context.Background()
	open := f(t)
	a, b := open(t, "a"), open(t, "b")
	t.Cleanup(func() { a.Close(); b.Close() })
	if _, err := a.CreateDeployment(ctx, "web", spec("t", "h1"), nil); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := a
			if i%2 == 1 {
				s = b
			}
			_, errs[i] = s.AddDeploymentVersion(ctx, "web", 1, spec("t", fmt.Sprintf("h%d", i)), 0, nil)
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, store.ErrVersionConflict):
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d writers won, want exactly 1", ok)
	}
	vs, _ := a.ListDeploymentVersions(ctx, "web")
	if len(vs) != 2 {
		t.Fatalf("%d versions, want 2", len(vs))
	}
}

func testAgents(t *testing.T, f Factory) {
	ctx := context.Background()
	s := openOne(t, f)
	sub, cancel := context.WithCancel(ctx)
	defer cancel()
	changes := s.Subscribe(sub)
	now := time.Now().UTC().Truncate(time.Millisecond)
	a := store.Agent{
		InstanceUID: "0190c1f2-0000-7000-8000-000000000001", HostName: "web-1", OS: "linux", Arch: "amd64",
		AgentVersion: "0.1.0", Identifying: map[string]string{"service.name": "phoenix-otelcol"},
		NonIdentifying: map[string]string{"host.name": "web-1"}, Labels: map[string]string{"env": "prod"},
		Capabilities: 0x0fff, Connected: true, ServerID: "replica-a", FirstSeen: now, LastSeen: now,
		Health:          &store.Health{Healthy: false, LastError: "exporter failed", StartTime: now},
		EffectiveConfig: "receivers: {}\n", EffectiveConfigHash: "abc",
		RemoteStatus: store.RemoteFailed, RemoteHash: "deadbeef", RemoteError: "port in use",
		DesiredDeployment: "web", DesiredVersion: 2, DesiredHash: "deadbeef", PushedHash: "deadbeef", PushedAt: now,
		FailedConfigs: map[string]store.FailedConfig{"deadbeef": {Error: "port in use", At: now}},
	}
	if err := s.UpsertAgent(ctx, a, true); err != nil {
		t.Fatal(err)
	}
	agentChanged := func() {
		t.Helper()
		waitChange(t, changes, func(c store.Change) bool { return c.Kind == store.ChangeAgent && c.Key == a.InstanceUID })
	}
	agentChanged()
	got, err := s.GetAgent(ctx, a.InstanceUID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, a) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, a)
	}
	// Another replica's disconnect does not mark it offline.
	if err := s.MarkDisconnected(ctx, a.InstanceUID, "replica-b", now); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetAgent(ctx, a.InstanceUID); !got.Connected {
		t.Fatal("disconnect from another replica took effect")
	}
	if err := s.MarkDisconnected(ctx, a.InstanceUID, "replica-a", now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	agentChanged() // the disconnect is announced
	got, _ = s.GetAgent(ctx, a.InstanceUID)
	if got.Connected || !got.LastSeen.Equal(now.Add(time.Second)) {
		t.Fatalf("after disconnect: connected=%v last_seen=%v", got.Connected, got.LastSeen)
	}
	b := store.Agent{InstanceUID: "b", HostName: "db-1", Connected: true, ServerID: "replica-a", LastSeen: now}
	if err := s.UpsertAgent(ctx, b, false); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkServerDisconnected(ctx, "replica-a"); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListAgents(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("list: %v %v", list, err)
	}
	for _, x := range list {
		if x.Connected {
			t.Fatalf("%s still connected after MarkServerDisconnected", x.InstanceUID)
		}
	}
	if list[0].HostName != "db-1" {
		t.Fatalf("list not ordered by host name: %s", list[0].HostName)
	}
	if _, err := s.GetAgent(ctx, "missing"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing agent: %v", err)
	}
	if err := s.DeleteAgent(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAgent(ctx, "b"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	if err := s.UpsertAgent(ctx, store.Agent{}, false); err == nil {
		t.Fatal("agent without uid accepted")
	}
}

func testMetrics(t *testing.T, f Factory) {
	ctx := context.Background()
	s := openOne(t, f)
	res := []store.Resolution{{Step: 10 * time.Second, Retention: time.Hour}, {Step: 5 * time.Minute, Retention: 24 * time.Hour}}
	base := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	var pts []store.MetricPoint
	for i, v := range []float64{5, 1, 9, 3} { // 0s, 3s, 6s in one 10s bucket; 12s in the next
		ts := base.Add(time.Duration(i*3) * time.Second)
		if i == 3 {
			ts = base.Add(12 * time.Second)
		}
		pts = append(pts, store.MetricPoint{AgentUID: "a", Name: "phoenix.cardinality.series", Pipeline: "metrics/topk", Stage: "out", Time: ts, Value: v})
	}
	pts = append(pts, store.MetricPoint{AgentUID: "a", Name: "phoenix.cardinality.series", Pipeline: "metrics/topk", Stage: "in", Time: base, Value: 100})
	if err := s.WriteMetrics(ctx, pts, res); err != nil {
		t.Fatal(err)
	}
	// An out-of-order older sample does not replace "last".
	if err := s.WriteMetrics(ctx, []store.MetricPoint{{AgentUID: "a", Name: "phoenix.cardinality.series", Pipeline: "metrics/topk", Stage: "out", Time: base.Add(time.Second), Value: 7}}, res); err != nil {
		t.Fatal(err)
	}
	got, err := s.QueryMetrics(ctx, store.MetricQuery{AgentUID: "a", Stage: "out", Step: 10 * time.Second, Since: base})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("10s buckets: %+v", got)
	}
	b := got[0]
	if b.Count != 4 || b.Last != 9 || b.Min != 1 || b.Max != 9 || b.Sum != 22 || !b.Start.Equal(base) || b.Step != 10 {
		t.Fatalf("first bucket %+v", b)
	}
	if got[1].Count != 1 || got[1].Last != 3 {
		t.Fatalf("second bucket %+v", got[1])
	}
	coarse, err := s.QueryMetrics(ctx, store.MetricQuery{Name: "phoenix.cardinality.series", Stage: "out", Step: 5 * time.Minute, Since: base})
	if err != nil || len(coarse) != 1 || coarse[0].Count != 5 || coarse[0].Last != 3 || coarse[0].Max != 9 {
		t.Fatalf("5m bucket %+v %v", coarse, err)
	}
	all, _ := s.QueryMetrics(ctx, store.MetricQuery{Step: 10 * time.Second, Since: base})
	if len(all) != 3 {
		t.Fatalf("all 10s buckets: %d", len(all))
	}
	if one, _ := s.QueryMetrics(ctx, store.MetricQuery{Step: 10 * time.Second, Since: base, Limit: 1}); len(one) != 1 {
		t.Fatalf("limit 1: %d buckets", len(one))
	}
	// Retention: two hours later the 10s buckets go, the 5m ones stay.
	n, err := s.PruneMetrics(ctx, base.Add(2*time.Hour), res)
	if err != nil || n != 3 {
		t.Fatalf("prune removed %d, %v; want 3", n, err)
	}
	if left, _ := s.QueryMetrics(ctx, store.MetricQuery{Step: 5 * time.Minute, Since: base}); len(left) != 2 {
		t.Fatalf("5m buckets after prune: %d", len(left))
	}
	if err := s.WriteMetrics(ctx, pts[:1], []store.Resolution{{Step: time.Millisecond}}); err == nil {
		t.Fatal("sub-second step accepted")
	}
}

func waitChange(t *testing.T, ch <-chan store.Change, want func(store.Change) bool) store.Change {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case c := <-ch:
			if want(c) {
				return c
			}
		case <-timeout:
			t.Fatal("no matching change within 10s")
		}
	}
}

func testChanges(t *testing.T, f Factory) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := openOne(t, f)
	ch := s.Subscribe(ctx)
	if _, err := s.CreateDeployment(ctx, "web", spec("t", "h1"), nil); err != nil {
		t.Fatal(err)
	}
	c := waitChange(t, ch, func(c store.Change) bool { return c.Kind == store.ChangeDeployment })
	if c.Key != "web" || c.Version != 1 || c.Origin != "replica-a" {
		t.Fatalf("change %+v", c)
	}
	if err := s.DeleteDeployment(ctx, "web"); err != nil {
		t.Fatal(err)
	}
	waitChange(t, ch, func(c store.Change) bool { return c.Kind == store.ChangeDeployment && c.Deleted && c.Key == "web" })
	if err := s.UpsertAgent(ctx, store.Agent{InstanceUID: "x", HostName: "h"}, true); err != nil {
		t.Fatal(err)
	}
	waitChange(t, ch, func(c store.Change) bool { return c.Kind == store.ChangeAgent && c.Key == "x" })
	// A failed write announces nothing.
	if _, err := s.CreateDeployment(ctx, "bad", spec("t", "h1"), func([]store.Deployment, []store.Agent) error { return errors.New("no") }); err == nil {
		t.Fatal("check ignored")
	}
	if _, err := s.CreateDeployment(ctx, "after", spec("t", "h2"), nil); err != nil {
		t.Fatal(err)
	}
	c = waitChange(t, ch, func(c store.Change) bool { return c.Kind == store.ChangeDeployment })
	if c.Key != "after" {
		t.Fatalf("refused write was announced: %+v", c)
	}
}

// A change written through one handle reaches a subscriber on another handle
// of the same database when the implementation supports replicas.
func testChangesAcrossReplicas(t *testing.T, f Factory) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	open := f(t)
	a, b := open(t, "a"), open(t, "b")
	t.Cleanup(func() { a.Close(); b.Close() })
	if _, ok := a.(interface{ SupportsReplicas() bool }); !ok {
		t.Skip("this store serves one process; replicas need PostgreSQL")
	}
	ch := b.Subscribe(ctx)
	if _, err := a.CreateDeployment(ctx, "web", spec("t", "h1"), nil); err != nil {
		t.Fatal(err)
	}
	c := waitChange(t, ch, func(c store.Change) bool { return c.Kind == store.ChangeDeployment && c.Key == "web" })
	if c.Origin != "a" {
		t.Fatalf("origin %q", c.Origin)
	}
	if d, err := b.GetDeployment(ctx, "web"); err != nil || d.Version != 1 {
		t.Fatalf("replica b reads %+v %v", d, err)
	}
}

func testReopen(t *testing.T, f Factory) {
	ctx := context.Background()
	open := f(t)
	s := open(t, "a")
	if _, err := s.CreateDeployment(ctx, "web", spec("t", "h1"), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.UpsertAgent(ctx, store.Agent{InstanceUID: "x", HostName: "h1", Connected: true, ServerID: "a"}, false); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = open(t, "a") // migrations run again: must be a no-op
	defer s.Close()
	d, err := s.GetDeployment(ctx, "web")
	if err != nil || d.Version != 1 {
		t.Fatalf("after reopen: %+v %v", d, err)
	}
	if a, err := s.GetAgent(ctx, "x"); err != nil || a.HostName != "h1" {
		t.Fatalf("agent after reopen: %+v %v", a, err)
	}
}
