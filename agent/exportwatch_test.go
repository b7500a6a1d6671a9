package agent_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/open-telemetry/opamp-go/protobufs"

	"github.com/phoenix-otel/phoenix/agent"
	"github.com/phoenix-otel/phoenix/internal/testutil"
)

// deadExportConfig exports host memory to a port nothing listens on, with
// retries off, so every export fails at once.
func deadExportConfig(tag string) string {
	return fmt.Sprintf(`receivers:
  host_metrics:
    collection_interval: 500ms
    scrapers:
      memory: {}
processors:
  resource:
    attributes:
      - {key: phoenix.test.config, value: %q, action: upsert}
exporters:
  otlp_http/dead:
    endpoint: http://127.0.0.1:1
    retry_on_failure:
      enabled: false
service:
  pipelines:
    metrics:
      receivers: [host_metrics]
      processors: [resource]
      exporters: [otlp_http/dead]
`, tag)
}

// Exports that fail show in the reported health: the collector is running
// (healthy, APPLIED), and the exporter entry carries the collector's own
// export error, read from its log. When exports work again the entry goes
// away after the window.
func TestFailingExportsAreReportedInHealth(t *testing.T) {
	srv := newOpAMPServer(t, testToken)
	sink := testutil.NewOTLPSink(t)
	cfg := testConfig(t, srv, t.TempDir())
	cfg.ExportFailureWindow = 3 * time.Second
	startAgent(t, cfg)

	dead := srv.setDesired(deadExportConfig("dead"))
	srv.waitStatus(t, dead, protobufs.RemoteConfigStatuses_RemoteConfigStatuses_APPLIED, 60*time.Second)
	sn := srv.waitFor(t, "exporter reported failing", 30*time.Second, func(sn snapshot) bool {
		ex := sn.health.GetComponentHealthMap()["exporter:otlp_http/dead"]
		return ex != nil && !ex.GetHealthy()
	})
	ex := sn.health.GetComponentHealthMap()["exporter:otlp_http/dead"]
	if !strings.Contains(ex.GetLastError(), "otlp_http/dead: ") || !strings.Contains(ex.GetLastError(), "connection refused") {
		t.Fatalf("exporter entry lacks the collector's export error: %q", ex.GetLastError())
	}
	if !sn.health.GetHealthy() {
		t.Fatalf("the collector runs: top-level health must stay healthy (status %q)", sn.health.GetStatus())
	}

	// Exports work again: the entry disappears after the window.
	good := srv.setDesired(flowConfig(sink, "good"))
	srv.waitStatus(t, good, protobufs.RemoteConfigStatuses_RemoteConfigStatuses_APPLIED, 60*time.Second)
	waitTagged(t, sink, "good")
	srv.waitFor(t, "exporter entry cleared", 30*time.Second, func(sn snapshot) bool {
		for k := range sn.health.GetComponentHealthMap() {
			if strings.HasPrefix(k, "exporter:") {
				return false
			}
		}
		return sn.health.GetHealthy()
	})
}

// POST /hosts/{h}/retry reaches phoenix-agent as the config again with an
// io.phoenix.retry message: the agent forgets that the hash failed and
// applies it (here: the port it needs was busy, and is free now). The same
// push without the message is still ignored.
func TestRetryMessageAppliesAFailedConfigAgain(t *testing.T) {
	srv := newOpAMPServer(t, testToken)
	cfg := testConfig(t, srv, t.TempDir())
	cfg.ApplyTimeout = 5 * time.Second
	r := startAgent(t, cfg)
	srv.waitFor(t, "connected", 30*time.Second, func(sn snapshot) bool { return sn.connected && healthyPID(sn) > 0 })

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf(`receivers:
  otlp:
    protocols:
      http:
        endpoint: %s
exporters:
  nop:
service:
  pipelines:
    metrics:
      receivers: [otlp]
      exporters: [nop]
`, busy.Addr())
	hash := srv.setDesired(body)
	st := srv.waitStatus(t, hash, protobufs.RemoteConfigStatuses_RemoteConfigStatuses_FAILED, 60*time.Second)
	if !strings.Contains(st.ErrorMessage, "address already in use") {
		t.Fatalf("FAILED without the bind error:\n%s", st.ErrorMessage)
	}
	busy.Close() // the operator frees the port

	srv.forcePush(body)
	r.waitLog(t, "ignoring a config that already failed here")

	sum := sha256.Sum256([]byte(body))
	srv.mu.Lock()
	conn := srv.conn
	srv.mu.Unlock()
	srv.send(conn, &protobufs.ServerToAgent{
		RemoteConfig:  &protobufs.AgentRemoteConfig{Config: &protobufs.AgentConfigMap{ConfigMap: map[string]*protobufs.AgentConfigFile{"": {Body: []byte(body)}}}, ConfigHash: sum[:]},
		CustomMessage: &protobufs.CustomMessage{Capability: agent.RetryCapability, Type: agent.RetryType, Data: []byte(hex.EncodeToString(sum[:]))},
	})
	srv.waitStatus(t, hash, protobufs.RemoteConfigStatuses_RemoteConfigStatuses_APPLIED, 60*time.Second)
	if !contains(srv.snap().customCaps, agent.RetryCapability) {
		t.Fatalf("the agent does not declare %s: %v", agent.RetryCapability, srv.snap().customCaps)
	}
}

func contains(xs []string, x string) bool {
	for _, s := range xs {
		if s == x {
			return true
		}
	}
	return false
}
