package commands_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/agent"
	"github.com/phoenix-otel/phoenix/internal/testutil"
	"github.com/phoenix-otel/phoenix/opamp-server/server"
	"github.com/phoenix-otel/phoenix/opamp-server/store/postgres/pgtest"
)

func startReplica(t *testing.T, cfg server.Config) *server.Server {
	t.Helper()
	cfg.OpAMPAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("PHOENIX_TEST_SERVER_LOG") != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil)).With("replica", cfg.ServerID)
	}
	s, err := server.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		_ = s.Stop(ctx)
	})
	return s
}

// TestLoadSimAcrossReplicas: two phoenix-server replicas on one PostgreSQL;
// the CLI talks to replica A, the agents are connected to replica B. A
// synthetic job reaches B's agent through its config, and a process job is
// delivered, followed and stopped by B over OpAMP.
func TestLoadSimAcrossReplicas(t *testing.T) {
	dsn := pgtest.FreshDatabase(t)
	bin := testutil.OtelcolBinary(t)
	dir := t.TempDir()
	a := startReplica(t, server.Config{StoreDSN: dsn, DataDir: filepath.Join(dir, "a"), ServerID: "replica-a"})
	b := startReplica(t, server.Config{StoreDSN: dsn, DataDir: filepath.Join(dir, "b"), ServerID: "replica-b",
		APITokenFile: filepath.Join(dir, "a", "api-token"), EnrollmentTokenFile: filepath.Join(dir, "a", "enrollment-token")})
	e := &env{t: t, srv: b, dir: dir, vars: map[string]string{"PHOENIX_SERVER": a.APIURL(), "PHOENIX_TOKEN": a.APIToken(), "PHOENIX_CONFIG": filepath.Join(dir, "c.yaml")}}

	// A simulated agent and a real phoenix-agent, both on B.
	sim := e.agent("web-1", nil)
	ag, err := agent.New(agent.Config{ServerURL: b.OpAMPURL(), Token: b.EnrollmentToken(), DataDir: filepath.Join(dir, "agent"),
		CollectorPath: bin, HostName: "proc-1", HealthInterval: 500 * time.Millisecond, MaxLoadProcesses: 10,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	actx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ag.Run(actx) }()
	t.Cleanup(func() { stop(); <-done })
	waitAgent(t, e, "web-1")
	waitAgent(t, e, "proc-1")

	r := e.must(0, "loadsim", "start", "--profile", "realistic", "--target-host", "web-1", "--watch", "--timeout", "60s")
	if !strings.Contains(r.out, "on web-1: running") || !hasLoadgen(t, lastReceived(sim).Body) {
		t.Fatalf("synthetic job on an agent of the other replica:\n%s", r)
	}

	profile := filepath.Join(dir, "p.yaml")
	os.WriteFile(profile, []byte("processes:\n  - name_template: phx-repl-wk {i}\n    executable: phx-repl-wk\n    count: 2\n    cpu: {pattern: steady, base: 0.01}\n    memory: {pattern: steady, base: 4MiB}\n"), 0o644)
	r = e.must(0, "loadsim", "start", "--mode", "process", "--profile", "custom", "--profile-file", profile, "--target-host", "proc-1", "--watch", "--timeout", "60s")
	id := regexp.MustCompile(`ls-[0-9a-f]+`).FindString(r.out)
	if !strings.Contains(r.out, "on proc-1: running (2/2 processes)") {
		t.Fatalf("process job delivered by the other replica:\n%s", r)
	}
	r = e.must(0, "loadsim", "stop", id, "--watch", "--timeout", "60s")
	if !strings.Contains(r.out, "on proc-1: stopped") {
		t.Fatalf("stop through the other replica:\n%s", r)
	}
	// Replica B serves the same jobs.
	e.vars["PHOENIX_SERVER"] = b.APIURL()
	r = e.must(0, "loadsim", "status")
	if !regexp.MustCompile(id+`\s+proc-1\s+process\s+custom\s+stopped`).MatchString(r.out) || !regexp.MustCompile(`web-1\s+synthetic\s+realistic\s+running`).MatchString(r.out) {
		t.Fatalf("status on replica B:\n%s", r.out)
	}
}
