package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/phoenix-otel/phoenix/opamp-server/server"
	"github.com/phoenix-otel/phoenix/opamp-server/store/postgres/pgtest"
)

// How long a revoked agent stays connected: from the start of POST
// /api/v1/agents/{uid}/revoke to the agent's WebSocket seeing the close
// (ns/op), on SQLite. Setup (enrolment, reconnect with the credential) is
// outside the timer.
//
//	go test -run '^$' -bench RevokeDisconnect -benchtime 200x ./opamp-server/server/
func BenchmarkRevokeDisconnect(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		s := benchReplica(b, "", b.TempDir())
		benchRevoke(b, s, s)
	})
	// Two replicas on one PostgreSQL database: the agent holds its session
	// on replica B, the operator revokes on replica A (NOTIFY carries it).
	b.Run("postgres-two-replicas", func(b *testing.B) {
		dsn, shared := pgtest.FreshDatabase(b), b.TempDir()
		a := benchReplica(b, dsn, shared)
		r := benchReplica(b, dsn, shared)
		benchRevoke(b, a, r)
	})
}

// benchReplica starts a replica; replicas of one database share the token
// and secrets key files in shared.
func benchReplica(b *testing.B, dsn, shared string) *server.Server {
	ctx := context.Background()
	dir := b.TempDir()
	s, err := server.New(ctx, server.Config{OpAMPAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", DataDir: filepath.Join(dir, "data"), StoreDSN: dsn,
		APITokenFile: filepath.Join(shared, "api-token"), EnrollmentTokenFile: filepath.Join(shared, "enrollment-token"), SecretsKeyFile: filepath.Join(shared, "secrets.key"),
		ServerID: "bench-" + filepath.Base(dir), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Stop(context.Background()) })
	return s
}

// benchRevoke revokes, through api, agents connected to holder.
func benchRevoke(b *testing.B, api, holder *server.Server) {
	enroll := holder.EnrollmentToken()
	client := &http.Client{Timeout: 10 * time.Second}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		uid := uuid.Must(uuid.NewV7())
		a, first, err := dialRaw(b, holder.OpAMPURL(), enroll, uid, "bench-host")
		if err != nil {
			b.Fatal(err)
		}
		a.conn.Close()
		a, _, err = dialRaw(b, holder.OpAMPURL(), credentialOf(first), uid, "bench-host")
		if err != nil {
			b.Fatal(err)
		}
		req, _ := http.NewRequest("POST", api.APIURL()+"/api/v1/agents/"+uid.String()+"/revoke", nil)
		req.Header.Set("Authorization", "Bearer "+api.APIToken())
		b.StartTimer()
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if err := a.untilClosed(); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if resp.StatusCode != 200 {
			b.Fatalf("revoke: %d", resp.StatusCode)
		}
		a.conn.Close()
		b.StartTimer()
	}
}
