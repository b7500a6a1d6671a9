package commands_test

import (
	"bytes"
	"context"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/cli/internal/commands"
	"github.com/phoenix-otel/phoenix/loadgen"
	"github.com/phoenix-otel/phoenix/opamp-server/agentsim"
	"github.com/phoenix-otel/phoenix/opamp-server/server"
)

// TestMain lets this test binary double as a load process: a phoenix-agent
// running in the tests re-executes it in child mode for process load.
func TestMain(m *testing.M) {
	loadgen.RunChildIfRequested()
	os.Exit(m.Run())
}

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// env is a real phoenix-server, in process, on loopback ports with SQLite in
// a temp dir, and the environment the CLI runs in.
type env struct {
	t    *testing.T
	srv  *server.Server
	vars map[string]string
	dir  string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("PHOENIX_TEST_SERVER_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	ctx := context.Background()
	s, err := server.New(ctx, server.Config{
		OpAMPAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
		DataDir: filepath.Join(dir, "data"), ServerID: "cli-test", Logger: logger,
	})
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatalf("server.Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		_ = s.Stop(ctx)
	})
	return &env{t: t, srv: s, dir: dir, vars: map[string]string{
		"PHOENIX_SERVER": s.APIURL(),
		"PHOENIX_TOKEN":  s.APIToken(),
		"PHOENIX_CONFIG": filepath.Join(dir, "config", "config.yaml"),
		// A local server's token file: none unless a test sets it.
		"PHOENIX_DATA_DIR": filepath.Join(dir, "no-local-server"),
	}}
}

type result struct {
	out, err string
	code     int
}

func (r result) String() string {
	return "exit " + strconv.Itoa(r.code) + "\n--- stdout\n" + r.out + "--- stderr\n" + r.err
}

// run runs the CLI in process with the env's variables.
func (e *env) run(args ...string) result { return e.runIn("", args...) }

func (e *env) runIn(stdin string, args ...string) result {
	return e.runCtx(context.Background(), stdin, args...)
}

func (e *env) runCtx(ctx context.Context, stdin string, args ...string) result {
	e.t.Helper()
	var out, errb bytes.Buffer
	code := commands.Main(ctx, args, commands.Streams{In: strings.NewReader(stdin), Out: &out, Err: &errb}, func(k string) string { return e.vars[k] })
	return result{out: out.String(), err: errb.String(), code: code}
}

// must runs the CLI and fails the test unless the exit code is want.
func (e *env) must(want int, args ...string) result {
	e.t.Helper()
	r := e.run(args...)
	if r.code != want {
		e.t.Fatalf("phoenix %s: want exit %d, got %s", strings.Join(args, " "), want, r)
	}
	return r
}

// agent starts a simulated agent (a real opamp-go client over a socket).
func (e *env) agent(host string, labels map[string]string, mod ...func(*agentsim.Options)) *agentsim.Agent {
	e.t.Helper()
	o := agentsim.Options{URL: e.srv.OpAMPURL(), Token: e.srv.EnrollmentToken(), Host: host, Labels: labels, Heartbeat: 200 * time.Millisecond}
	for _, m := range mod {
		m(&o)
	}
	a, err := agentsim.Start(context.Background(), o)
	if err != nil {
		e.t.Fatalf("agent %s: %v", host, err)
	}
	e.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.Stop(ctx)
	})
	return a
}

// eventually polls cond until it holds; the deadline bounds a wait for
// something asynchronous and asserts no performance.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		ok, msg := cond()
		if ok {
			return
		}
		last = msg
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s; last: %s", what, last)
}

// golden compares got with testdata/name (or rewrites it with -update).
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if string(want) != got {
		t.Fatalf("output differs from %s (go test -update rewrites it):\n--- got\n%s--- want\n%s", path, got, want)
	}
}
