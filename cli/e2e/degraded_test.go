package e2e

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/agent"
	"github.com/phoenix-otel/phoenix/internal/testutil"
)

// Exports that fail show, end to end: a deployment whose every export fails
// (its destination refuses connections) is applied by the real agent and
// collector, and then reads degraded, with the collector's export error, in
// `phoenix pipeline status` and `phoenix host`. When the destination works
// the host reads applied again.
func TestFailingExportsReadDegraded(t *testing.T) {
	bin := testutil.OtelcolBinary(t)
	dir := t.TempDir()
	logger := e2eLogger()
	ctx := context.Background()
	srv := startServer(t, dir, "e2e-degraded", logger)
	host := "degraded-" + strconv.Itoa(os.Getpid())
	a, err := agent.New(agent.Config{
		ServerURL: srv.OpAMPURL(), Token: srv.EnrollmentToken(), DataDir: filepath.Join(dir, "agent"), CollectorPath: bin,
		HostName: host, HealthInterval: 500 * time.Millisecond, HeartbeatInterval: time.Second,
		ApplyTimeout: 60 * time.Second, ExportFailureWindow: 5 * time.Second, Logger: logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	actx, stopAgent := context.WithCancel(ctx)
	agentDone := make(chan error, 1)
	go func() { agentDone <- a.Run(actx) }()
	t.Cleanup(func() {
		stopAgent()
		select {
		case <-agentDone:
		case <-time.After(30 * time.Second):
			t.Error("the agent did not stop")
		}
	})
	c := &cli{t: t, vars: map[string]string{"PHOENIX_SERVER": srv.APIURL(), "PHOENIX_TOKEN": srv.APIToken(), "PHOENIX_CONFIG": filepath.Join(dir, "cli.yaml")}}
	waitFor(t, "the agent registered", func() (bool, string) {
		r := c.run("agent", "list")
		return strings.Contains(r.out, host), r.out + r.err
	})

	// A destination that refuses every connection.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	params := []string{"--param", "collection_interval=1s", "--param", "batch_timeout=200ms"}
	c.must(append([]string{"pipeline", "deploy", "process-topk-v1", "--name", "web", "--host", host,
		"--destination", "otlphttp=http://" + dead, "--destination-insecure", "--watch", "--timeout", "120s"}, params...)...)
	waitFor(t, "host degraded with the export error", func() (bool, string) {
		r := c.run("pipeline", "status", "web")
		return regexp.MustCompile(host + `\s+web\s+1\s+degraded\s+.*connection refused`).MatchString(r.out), r.out + r.err
	})
	r := c.must("pipeline", "status", "web", "-o", "json")
	if !strings.Contains(r.out, `"status": "degraded"`) || !strings.Contains(r.out, "exporter:otlp_http") {
		t.Fatalf("status -o json lacks degraded and the exporter:\n%s", r.out)
	}

	// The destination comes up: exports work again and the host is applied.
	sink := testutil.NewOTLPSink(t)
	c.must(append([]string{"pipeline", "deploy", "process-topk-v1", "--name", "web",
		"--destination", "otlphttp=" + sink.Endpoint(), "--watch", "--timeout", "120s"}, params...)...)
	waitFor(t, "host applied again", func() (bool, string) {
		r := c.run("pipeline", "status", "web")
		return regexp.MustCompile(host + `\s+web\s+2\s+applied`).MatchString(r.out), r.out + r.err
	})
}
