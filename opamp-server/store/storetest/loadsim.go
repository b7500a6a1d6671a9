package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// testLoadSimJobs checks the load simulation job table: create, compare and
// set, concurrent writers, active filter, order, not found.
func testLoadSimJobs(t *testing.T, f Factory) {
	ctx := context.Background()
	s := openOne(t, f)
	sub, cancel := context.WithCancel(ctx)
	defer cancel()
	changes := s.Subscribe(sub)
	// Every write is announced with the job's new revision.
	announced := func(what string, version int) {
		t.Helper()
		c := waitChange(t, changes, func(c store.Change) bool { return c.Kind == store.ChangeLoadSim && c.Key == "ls-a" })
		if c.Version != version {
			t.Fatalf("%s announced %+v, want version %d", what, c, version)
		}
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	a := store.LoadSimJob{ID: "ls-a", TargetHost: "web-1", Status: "pending", Active: true, CreatedAt: now, Record: []byte(`{"id":"ls-a"}`)}
	if err := s.PutLoadSimJob(ctx, a, 0); err != nil {
		t.Fatal(err)
	}
	announced("create", 1)
	if err := s.PutLoadSimJob(ctx, a, 0); !errors.Is(err, store.ErrVersionConflict) {
		t.Fatalf("creating an existing job: %v, want ErrVersionConflict", err)
	}
	got, err := s.GetLoadSimJob(ctx, "ls-a")
	if err != nil || got.Revision != 1 || got.TargetHost != "web-1" || !got.Active || !got.CreatedAt.Equal(now) || string(got.Record) != `{"id":"ls-a"}` {
		t.Fatalf("get: %+v %v", got, err)
	}
	// Compare and set: a stale revision loses.
	a.Status, a.Record = "running", []byte(`{"id":"ls-a","status":"running"}`)
	if err := s.PutLoadSimJob(ctx, a, 1); err != nil {
		t.Fatal(err)
	}
	announced("update", 2)
	if err := s.PutLoadSimJob(ctx, a, 1); !errors.Is(err, store.ErrVersionConflict) {
		t.Fatalf("stale revision: %v, want ErrVersionConflict", err)
	}
	if err := s.PutLoadSimJob(ctx, store.LoadSimJob{ID: "ls-missing"}, 3); !errors.Is(err, store.ErrVersionConflict) {
		t.Fatalf("update of a missing job: %v", err)
	}
	// Concurrent writers at one revision: exactly one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			j := a
			j.Status = "stopped"
			if err := s.PutLoadSimJob(ctx, j, 2); err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			} else if !errors.Is(err, store.ErrVersionConflict) {
				t.Errorf("concurrent put: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d concurrent writers won at one revision, want 1", wins)
	}
	b := store.LoadSimJob{ID: "ls-b", TargetHost: "db-1", Status: "finished", Active: false, CreatedAt: now.Add(time.Second), Record: []byte(`{}`)}
	if err := s.PutLoadSimJob(ctx, b, 0); err != nil {
		t.Fatal(err)
	}
	all, err := s.ListLoadSimJobs(ctx, false)
	if err != nil || len(all) != 2 || all[0].ID != "ls-b" {
		t.Fatalf("list (newest first): %+v %v", all, err)
	}
	a, _ = s.GetLoadSimJob(ctx, "ls-a")
	a.Active = true
	if err := s.PutLoadSimJob(ctx, a, a.Revision); err != nil {
		t.Fatal(err)
	}
	active, err := s.ListLoadSimJobs(ctx, true)
	if err != nil || len(active) != 1 || active[0].ID != "ls-a" {
		t.Fatalf("active: %+v %v", active, err)
	}
	if _, err := s.GetLoadSimJob(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing job: %v", err)
	}
}
