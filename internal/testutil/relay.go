package testutil

import (
	"fmt"
	"net"
	"testing"
	"time"
)

// OTLPBackend is a second phoenix-otelcol acting as an OTLP backend: its
// otlp receiver listens on loopback for gRPC and HTTP, and it forwards
// everything unchanged (no processors) over OTLP/HTTP to Sink, where the
// test counts what arrived.
type OTLPBackend struct {
	GRPCEndpoint string // host:port for an otlp_grpc exporter (tls insecure)
	HTTPEndpoint string // base URL for an otlp_http exporter
	Sink         *OTLPSink
	Collector    *Collector
}

// StartOTLPBackend starts the second collector and waits until both of its
// receiver ports accept connections.
func StartOTLPBackend(t testing.TB) *OTLPBackend {
	t.Helper()
	sink := NewOTLPSink(t)
	grpcPort, httpPort := FreePort(t), FreePort(t)
	cfg := fmt.Sprintf(`receivers:
  otlp:
    protocols:
      grpc: {endpoint: "127.0.0.1:%d"}
      http: {endpoint: "127.0.0.1:%d"}
exporters:
  otlp_http/sink:
    endpoint: %q
    compression: none
service:
  telemetry:
    metrics: {level: none}
  pipelines:
    metrics:
      receivers: [otlp]
      exporters: [otlp_http/sink]
`, grpcPort, httpPort, sink.Endpoint())
	c := StartCollector(t, cfg)
	b := &OTLPBackend{
		GRPCEndpoint: fmt.Sprintf("127.0.0.1:%d", grpcPort),
		HTTPEndpoint: fmt.Sprintf("http://127.0.0.1:%d", httpPort),
		Sink:         sink, Collector: c,
	}
	deadline := time.Now().Add(time.Minute) // bounds a broken binary only
	for _, addr := range []string{b.GRPCEndpoint, fmt.Sprintf("127.0.0.1:%d", httpPort)} {
		for {
			if exited, err := c.Exited(); exited {
				t.Fatalf("OTLP backend collector exited: %v\n%s", err, c.Log())
			}
			conn, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				conn.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("OTLP backend not listening on %s after a minute:\n%s", addr, c.Log())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return b
}
