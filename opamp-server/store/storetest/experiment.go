package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// testExperiments checks the experiment tables: create, compare and set,
// samples stored once per key and kept across a reopen, the analysis lease
// across replicas, delete; every write announced with its revision.
func testExperiments(t *testing.T, f Factory) {
	ctx := context.Background()
	open := f(t)
	a := open(t, "replica-a")
	b := open(t, "replica-b")
	t.Cleanup(func() { a.Close(); b.Close() })
	sub, cancel := context.WithCancel(ctx)
	defer cancel()
	changes := a.Subscribe(sub)
	announced := func(what string, version int, deleted bool) {
		t.Helper()
		c := waitChange(t, changes, func(c store.Change) bool { return c.Kind == store.ChangeExperiment && c.Key == "exp-1" })
		if c.Version != version || c.Deleted != deleted {
			t.Fatalf("%s announced %+v, want version %d, deleted %v", what, c, version, deleted)
		}
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	r := store.ExperimentRecord{Name: "exp-1", Status: "pending", Active: true, CreatedAt: now, Record: []byte(`{"name":"exp-1"}`)}
	if err := a.PutExperiment(ctx, r, 0); err != nil {
		t.Fatal(err)
	}
	announced("create", 1, false)
	if err := b.PutExperiment(ctx, r, 0); !errors.Is(err, store.ErrVersionConflict) {
		t.Fatalf("creating an existing experiment: %v, want ErrVersionConflict", err)
	}
	got, err := b.GetExperiment(ctx, "exp-1")
	if err != nil || got.Revision != 1 || !got.Active || got.Status != "pending" || !got.CreatedAt.Equal(now) || string(got.Record) != `{"name":"exp-1"}` {
		t.Fatalf("get: %+v %v", got, err)
	}
	r.Status, r.Record = "running", []byte(`{"name":"exp-1","status":"running"}`)
	if err := a.PutExperiment(ctx, r, 1); err != nil {
		t.Fatal(err)
	}
	announced("update", 2, false)
	if err := b.PutExperiment(ctx, r, 1); !errors.Is(err, store.ErrVersionConflict) {
		t.Fatalf("stale revision: %v", err)
	}
	r2 := store.ExperimentRecord{Name: "exp-2", Status: "completed", CreatedAt: now.Add(time.Second), Record: []byte(`{}`)}
	if err := a.PutExperiment(ctx, r2, 0); err != nil {
		t.Fatal(err)
	}
	all, _ := b.ListExperiments(ctx, false)
	act, _ := b.ListExperiments(ctx, true)
	if len(all) != 2 || all[0].Name != "exp-2" || len(act) != 1 || act[0].Name != "exp-1" || act[0].Revision != 2 {
		t.Fatalf("list: %+v / active %+v", all, act)
	}
	// Samples: a replayed key keeps its first value.
	s1 := []store.ExperimentSample{
		{Interval: 0, Time: now, Host: "h1", Variant: "baseline", KPI: "output_series", Value: 700},
		{Interval: 0, Time: now, Host: "h1", Variant: "candidate", KPI: "output_series", Value: 157},
	}
	if err := a.AddExperimentSamples(ctx, "exp-1", s1); err != nil {
		t.Fatal(err)
	}
	replay := []store.ExperimentSample{{Interval: 0, Time: now, Host: "h1", Variant: "baseline", KPI: "output_series", Value: 1}}
	if err := b.AddExperimentSamples(ctx, "exp-1", replay); err != nil {
		t.Fatal(err)
	}
	ss, err := b.ListExperimentSamples(ctx, "exp-1")
	if err != nil || len(ss) != 2 || ss[0].Value != 700 || ss[1].Variant != "candidate" || !ss[0].Time.Equal(now) {
		t.Fatalf("samples: %+v %v", ss, err)
	}
	// Lease: one holder at a time; it expires; renewing one's own works.
	if ok, err := a.LeaseExperiment(ctx, "exp-1", "replica-a", now, now.Add(10*time.Second)); !ok || err != nil {
		t.Fatalf("first lease: %v %v", ok, err)
	}
	if ok, _ := b.LeaseExperiment(ctx, "exp-1", "replica-b", now.Add(time.Second), now.Add(11*time.Second)); ok {
		t.Fatal("two replicas hold the lease")
	}
	if ok, _ := a.LeaseExperiment(ctx, "exp-1", "replica-a", now.Add(2*time.Second), now.Add(12*time.Second)); !ok {
		t.Fatal("renewing one's own lease failed")
	}
	if ok, _ := b.LeaseExperiment(ctx, "exp-1", "replica-b", now.Add(13*time.Second), now.Add(23*time.Second)); !ok {
		t.Fatal("an expired lease was not taken over")
	}
	if ok, _ := a.LeaseExperiment(ctx, "missing", "replica-a", now, now.Add(time.Second)); ok {
		t.Fatal("lease on a missing experiment")
	}
	if err := a.DeleteExperiment(ctx, "exp-1"); err != nil {
		t.Fatal(err)
	}
	announced("delete", 0, true)
	if _, err := b.GetExperiment(ctx, "exp-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if ss, _ := b.ListExperimentSamples(ctx, "exp-1"); len(ss) != 0 {
		t.Fatalf("samples survive delete: %d", len(ss))
	}
	if err := a.DeleteExperiment(ctx, "exp-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}
