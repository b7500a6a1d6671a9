package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// testIdentity checks credentials and host bindings: one credential per
// uid, lookup by token hash, revoke drops the bindings, readmit allows a new
// enrolment, the first host claim wins under concurrency, approve moves it,
// and every change is announced.
func testIdentity(t *testing.T, f Factory) {
	ctx := context.Background()
	s := openOne(t, f)
	sub, cancel := context.WithCancel(ctx)
	defer cancel()
	changes := s.Subscribe(sub)
	now := time.Now().UTC().Truncate(time.Microsecond)

	c := store.Credential{InstanceUID: "uid-a", TokenHash: "h-a", ClaimedHost: "web-1", CreatedAt: now}
	if err := s.CreateCredential(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateCredential(ctx, store.Credential{InstanceUID: "uid-a", TokenHash: "h-other", CreatedAt: now}); !errors.Is(err, store.ErrExists) {
		t.Fatalf("second credential for one uid: %v, want ErrExists", err)
	}
	got, err := s.GetCredential(ctx, "uid-a")
	if err != nil || got.TokenHash != "h-a" || got.ClaimedHost != "web-1" || !got.CreatedAt.Equal(now) || got.Revoked() {
		t.Fatalf("get credential: %+v %v", got, err)
	}
	if got, err := s.CredentialByTokenHash(ctx, "h-a"); err != nil || got.InstanceUID != "uid-a" {
		t.Fatalf("by token hash: %+v %v", got, err)
	}
	for _, h := range []string{"h-other", ""} {
		if _, err := s.CredentialByTokenHash(ctx, h); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("by unknown token hash %q: %v", h, err)
		}
	}
	if _, err := s.GetCredential(ctx, "uid-missing"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing credential: %v", err)
	}
	if err := s.SetClaimedHost(ctx, "uid-a", "web-2"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetClaimedHost(ctx, "uid-missing", "x"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("claim of a missing uid: %v", err)
	}

	// The first claim of a host name wins, whoever races for it.
	var wg sync.WaitGroup
	winners := make([]string, 8)
	for i := range winners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := s.BindHost(ctx, "db-1", []string{"uid-a", "uid-b"}[i%2], now)
			if err != nil {
				t.Error(err)
				return
			}
			winners[i] = b.InstanceUID
		}()
	}
	wg.Wait()
	for _, w := range winners {
		if w != winners[0] {
			t.Fatalf("racing claims saw different bindings: %v", winners)
		}
	}
	if b, err := s.BindHost(ctx, "web-1", "uid-a", now); err != nil || b.InstanceUID != "uid-a" {
		t.Fatalf("bind web-1: %+v %v", b, err)
	}
	if b, err := s.BindHost(ctx, "web-1", "uid-b", now.Add(time.Second)); err != nil || b.InstanceUID != "uid-a" || !b.BoundAt.Equal(now) {
		t.Fatalf("a second uid claiming web-1 got %+v %v, want uid-a's binding", b, err)
	}
	if err := s.MoveHostBinding(ctx, "web-1", "uid-b", now.Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	waitIdentity(t, changes, "uid-b")
	if b, _ := s.BindHost(ctx, "web-1", "uid-a", now); b.InstanceUID != "uid-b" {
		t.Fatalf("after the move web-1 is bound to %q", b.InstanceUID)
	}

	if b, err := s.BindHost(ctx, "app-1", "uid-a", now); err != nil || b.InstanceUID != "uid-a" {
		t.Fatalf("bind app-1: %+v %v", b, err)
	}
	// Revoke cuts the credential and drops the agent's bindings.
	if err := s.CreateCredential(ctx, store.Credential{InstanceUID: "uid-b", TokenHash: "h-b", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeCredential(ctx, "uid-b", now.Add(3*time.Second)); err != nil {
		t.Fatal(err)
	}
	waitIdentity(t, changes, "uid-b")
	if got, _ := s.GetCredential(ctx, "uid-b"); !got.Revoked() || got.TokenHash != "h-b" {
		t.Fatalf("revoked credential: %+v", got)
	}
	bs, err := s.ListHostBindings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	app := false
	for i, b := range bs {
		if b.InstanceUID == "uid-b" {
			t.Fatalf("a revoked agent keeps binding %+v", b)
		}
		if i > 0 && bs[i-1].HostName >= b.HostName {
			t.Fatalf("bindings not in host order: %+v", bs)
		}
		app = app || (b.HostName == "app-1" && b.InstanceUID == "uid-a" && b.BoundAt.Equal(now))
	}
	if !app {
		t.Fatalf("bindings %+v: the other agent's app-1 binding is missing", bs)
	}
	if err := s.CreateCredential(ctx, store.Credential{InstanceUID: "uid-b", TokenHash: "h-b2", CreatedAt: now}); !errors.Is(err, store.ErrExists) {
		t.Fatalf("re-enrolment of a revoked uid: %v, want ErrExists", err)
	}
	if err := s.RevokeCredential(ctx, "uid-missing", now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoke of a missing uid: %v", err)
	}
	if err := s.ReadmitCredential(ctx, "uid-missing"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("readmit of a missing uid: %v, want ErrNotFound", err)
	}
	// Readmit: the uid may enrol once more, with a new token.
	if err := s.ReadmitCredential(ctx, "uid-b"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CredentialByTokenHash(ctx, "h-b"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the old token of a readmitted agent still resolves: %v", err)
	}
	if err := s.CreateCredential(ctx, store.Credential{InstanceUID: "uid-b", TokenHash: "h-b2", CreatedAt: now}); err != nil {
		t.Fatalf("re-enrolment after readmit: %v", err)
	}
	list, err := s.ListCredentials(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("list credentials: %+v %v", list, err)
	}
}

func waitIdentity(t *testing.T, ch <-chan store.Change, key string) {
	t.Helper()
	waitChange(t, ch, func(c store.Change) bool { return c.Kind == store.ChangeIdentity && c.Key == key })
}
