package postgres_test

import (
	"context"
	"testing"

	"github.com/phoenix-otel/phoenix/opamp-server/store"
	"github.com/phoenix-otel/phoenix/opamp-server/store/postgres"
	"github.com/phoenix-otel/phoenix/opamp-server/store/postgres/pgtest"
	"github.com/phoenix-otel/phoenix/opamp-server/store/storetest"
)

func TestConformance(t *testing.T) {
	pgtest.DSN(t)
	storetest.Run(t, func(t *testing.T) func(*testing.T, string) store.Store {
		dsn := pgtest.FreshDatabase(t)
		return func(t *testing.T, serverID string) store.Store {
			s, err := postgres.Open(context.Background(), dsn, serverID)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	})
}

func TestBadDSN(t *testing.T) {
	if _, err := postgres.Open(context.Background(), "postgres://%zz", "x"); err == nil {
		t.Fatal("bad DSN accepted")
	}
}

func BenchmarkAgentWrites(b *testing.B) {
	pgtest.DSN(b)
	s, err := postgres.Open(context.Background(), pgtest.FreshDatabase(b), "a")
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchAgentWrites(b, s)
}

func BenchmarkAgentReads(b *testing.B) {
	pgtest.DSN(b)
	s, err := postgres.Open(context.Background(), pgtest.FreshDatabase(b), "a")
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchAgentReads(b, s)
}
