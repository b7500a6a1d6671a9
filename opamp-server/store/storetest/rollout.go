package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// testRollouts checks the rollout table: create, compare and set across
// replicas, the change every write announces, the state kept across a
// reopen (a server restart), the lease that lets one replica drive, delete.
func testRollouts(t *testing.T, f Factory) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	open := f(t)
	a := open(t, "replica-a")
	b := open(t, "replica-b")
	t.Cleanup(func() { a.Close(); b.Close() })
	_, replicas := a.(interface{ SupportsReplicas() bool })
	watch := a
	if replicas {
		watch = b // the other replica must hear of a's writes
	}
	ch := watch.Subscribe(ctx)
	now := time.Now().UTC().Truncate(time.Microsecond)
	r := store.RolloutRecord{Deployment: "web", Version: 2, State: "rolling", UpdatedAt: now, Record: []byte(`{"admitted":["h1"]}`)}
	if err := a.PutRollout(ctx, r, 0); err != nil {
		t.Fatal(err)
	}
	c := waitChange(t, ch, func(c store.Change) bool { return c.Kind == store.ChangeRollout })
	if c.Key != "web" || c.Origin != "replica-a" {
		t.Fatalf("change %+v", c)
	}
	if err := b.PutRollout(ctx, r, 0); !errors.Is(err, store.ErrVersionConflict) {
		t.Fatalf("creating an existing rollout: %v, want ErrVersionConflict", err)
	}
	got, err := b.GetRollout(ctx, "web")
	if err != nil || got.Revision != 1 || got.Version != 2 || got.State != "rolling" || !got.UpdatedAt.Equal(now) || string(got.Record) != `{"admitted":["h1"]}` {
		t.Fatalf("get: %+v %v", got, err)
	}
	r.State, r.Record, r.Version = "paused", []byte(`{"admitted":["h1","h2"]}`), 3
	if err := b.PutRollout(ctx, r, 1); err != nil {
		t.Fatal(err)
	}
	if err := a.PutRollout(ctx, r, 1); !errors.Is(err, store.ErrVersionConflict) {
		t.Fatalf("stale revision: %v", err)
	}
	if _, err := a.GetRollout(ctx, "missing"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing rollout: %v", err)
	}
	if err := a.PutRollout(ctx, store.RolloutRecord{Deployment: "api", Version: 1, State: "completed", UpdatedAt: now, Record: []byte(`{}`)}, 0); err != nil {
		t.Fatal(err)
	}
	all, err := b.ListRollouts(ctx)
	if err != nil || len(all) != 2 || all[0].Deployment != "api" || all[1].Deployment != "web" || all[1].Revision != 2 || all[1].State != "paused" || all[1].Version != 3 {
		t.Fatalf("list: %+v %v", all, err)
	}
	// Lease: one holder at a time; it expires; renewing one's own works.
	if ok, err := a.LeaseRollout(ctx, "web", "replica-a", now, now.Add(10*time.Second)); !ok || err != nil {
		t.Fatalf("first lease: %v %v", ok, err)
	}
	if ok, _ := b.LeaseRollout(ctx, "web", "replica-b", now.Add(time.Second), now.Add(11*time.Second)); ok {
		t.Fatal("two replicas hold the lease")
	}
	if ok, _ := a.LeaseRollout(ctx, "web", "replica-a", now.Add(2*time.Second), now.Add(12*time.Second)); !ok {
		t.Fatal("renewing one's own lease failed")
	}
	if ok, _ := b.LeaseRollout(ctx, "web", "replica-b", now.Add(13*time.Second), now.Add(23*time.Second)); !ok {
		t.Fatal("an expired lease was not taken over")
	}
	if ok, _ := a.LeaseRollout(ctx, "missing", "replica-a", now, now.Add(time.Second)); ok {
		t.Fatal("lease on a missing rollout")
	}
	// A write does not lose the lease (the holder keeps driving).
	r.State = "rolling"
	if err := b.PutRollout(ctx, r, 2); err != nil {
		t.Fatal(err)
	}
	if ok, _ := a.LeaseRollout(ctx, "web", "replica-a", now.Add(14*time.Second), now.Add(24*time.Second)); ok {
		t.Fatal("a write cleared replica-b's lease")
	}
	// A restart keeps the state.
	a.Close()
	a = open(t, "replica-a")
	if !replicas {
		ch = a.Subscribe(ctx) // SQLite announces in-process, per handle
	}
	if got, err := a.GetRollout(ctx, "web"); err != nil || got.Revision != 3 || got.State != "rolling" {
		t.Fatalf("after reopen: %+v %v", got, err)
	}
	if err := a.DeleteRollout(ctx, "web"); err != nil {
		t.Fatal(err)
	}
	waitChange(t, ch, func(c store.Change) bool { return c.Kind == store.ChangeRollout && c.Deleted && c.Key == "web" })
	if _, err := b.GetRollout(ctx, "web"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if err := a.DeleteRollout(ctx, "web"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}
