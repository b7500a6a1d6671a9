package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/agentsim"
	"github.com/phoenix-otel/phoenix/opamp-server/server"
)

type testServer struct {
	*server.Server
	cfg    server.Config
	client *http.Client
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// newConfig is a loopback config on fixed free ports (so a restarted server
// comes back where the agents look for it) with SQLite in a temp dir.
func newConfig(t *testing.T) server.Config {
	dir := t.TempDir()
	return server.Config{
		OpAMPAddr: freeAddr(t), HTTPAddr: freeAddr(t), DataDir: filepath.Join(dir, "data"),
		ServerID: "test-" + strconv.Itoa(int(time.Now().UnixNano()%100000)),
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

func startServer(t *testing.T, cfg server.Config) *testServer {
	t.Helper()
	if os.Getenv("PHOENIX_TEST_SERVER_LOG") != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	ctx := context.Background()
	s, err := server.New(ctx, cfg)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatalf("server.Start: %v", err)
	}
	ts := &testServer{Server: s, cfg: cfg, client: &http.Client{Timeout: 20 * time.Second}}
	t.Cleanup(func() { ts.stop(t) })
	return ts
}

func (ts *testServer) stop(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := ts.Stop(ctx); err != nil {
		t.Logf("stop: %v", err)
	}
}

// call does an API request with the API token; body may be a string (sent
// as is) or a value (JSON-encoded).
func (ts *testServer) call(t *testing.T, method, path string, body any) (int, map[string]any) {
	t.Helper()
	return ts.callToken(t, ts.APIToken(), method, path, body)
}

func (ts *testServer) callToken(t *testing.T, token, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, ts.APIURL()+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := ts.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := map[string]any{}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: %d, body is not JSON: %s", method, path, resp.StatusCode, raw)
		}
	}
	if resp.StatusCode >= 400 && resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("%s %s: error %d with Content-Type %q, want application/problem+json", method, path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	out["_status"] = resp.StatusCode
	return resp.StatusCode, out
}

func (ts *testServer) mustCall(t *testing.T, method, path string, body any, want int) map[string]any {
	t.Helper()
	code, out := ts.call(t, method, path, body)
	if code != want {
		t.Fatalf("%s %s: status %d, want %d: %v", method, path, code, want, out)
	}
	return out
}

func (ts *testServer) agent(t *testing.T, host string, labels map[string]string, mod ...func(*agentsim.Options)) *agentsim.Agent {
	t.Helper()
	o := agentsim.Options{URL: ts.OpAMPURL(), Token: ts.EnrollmentToken(), Host: host, Labels: labels, Heartbeat: 200 * time.Millisecond}
	for _, m := range mod {
		m(&o)
	}
	return startAgent(t, o)
}

func startAgent(t *testing.T, o agentsim.Options) *agentsim.Agent {
	t.Helper()
	a, err := agentsim.Start(context.Background(), o)
	if err != nil {
		t.Fatalf("agent %s: %v", o.Host, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.Stop(ctx)
	})
	return a
}

// eventually polls cond until it holds or the deadline passes. The deadline
// bounds a wait for something asynchronous; it asserts no performance.
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

// waitHosts waits until every host has the wanted status.
func (ts *testServer) waitHosts(t *testing.T, want string, hosts ...string) {
	t.Helper()
	for _, h := range hosts {
		eventually(t, fmt.Sprintf("host %s %s", h, want), func() (bool, string) {
			code, out := ts.call(t, "GET", "/api/v1/hosts/"+h, nil)
			return code == 200 && out["status"] == want, fmt.Sprint(code, " ", out)
		})
	}
}

func (ts *testServer) waitAgentKnown(t *testing.T, host string) {
	t.Helper()
	eventually(t, "agent "+host+" registered", func() (bool, string) {
		code, out := ts.call(t, "GET", "/api/v1/hosts/"+host, nil)
		return code == 200, fmt.Sprint(out)
	})
}

func deploymentBody(name string, hosts ...string) map[string]any {
	return map[string]any{
		"name":        name,
		"template":    "process-topk-v1",
		"params":      map[string]any{"k": 10},
		"destination": map[string]any{"type": "debug"},
		"target":      map[string]any{"hosts": hosts},
	}
}

func str(v any) string { s, _ := v.(string); return s }

func num(v any) int { f, _ := v.(float64); return int(f) }
