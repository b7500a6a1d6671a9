package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/store"
	"github.com/phoenix-otel/phoenix/opamp-server/store/postgres"
	"github.com/phoenix-otel/phoenix/opamp-server/store/postgres/pgtest"
)

// The listener survives a lost connection: it reconnects, publishes a
// resync (the notifications sent meanwhile are gone), and listens again,
// so that another replica's later write still arrives.
func TestListenerReconnects(t *testing.T) {
	pgtest.DSN(t)
	ctx := context.Background()
	dsn := pgtest.FreshDatabase(t)
	a, err := postgres.Open(ctx, dsn, "replica-a")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := postgres.Open(ctx, dsn, "replica-b")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	sub, cancel := context.WithCancel(ctx)
	defer cancel()
	changes := a.Subscribe(sub)
	wait := func(what string, want func(store.Change) bool) {
		t.Helper()
		timeout := time.After(20 * time.Second)
		for {
			select {
			case c := <-changes:
				if want(c) {
					return
				}
			case <-timeout:
				t.Fatalf("no %s within 20 s", what)
			}
		}
	}
	// Cut every listener of this database (both replicas'): a's with them.
	var cut int
	if err := a.DB().QueryRowContext(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND query = $1`, "LISTEN "+postgres.Channel).Scan(&cut); err != nil {
		t.Fatal(err)
	}
	if cut < 2 {
		t.Fatalf("%d listener connections cut, want both replicas'", cut)
	}
	wait("resync after the lost connection", func(c store.Change) bool { return c.Kind == store.ChangeResync })
	// a listens again (its resync comes after the new LISTEN): b's write
	// reaches it.
	if err := b.UpsertAgent(ctx, store.Agent{InstanceUID: "after-cut", HostName: "h"}, true); err != nil {
		t.Fatal(err)
	}
	wait("replica b's change after the reconnect", func(c store.Change) bool { return c.Kind == store.ChangeAgent && c.Key == "after-cut" })
}
