package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/google/uuid"
	"github.com/open-telemetry/opamp-go/protobufs"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

func benchServer(b *testing.B) *Server {
	b.Helper()
	s, err := New(context.Background(), Config{DataDir: b.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.store.Close() })
	spec := store.DeploymentSpec{Template: "process-topk-v1", Params: map[string]any{"k": 10},
		Destination: store.Destination{Type: "debug"}, Target: store.Target{Selector: map[string]string{"fleet": "bench"}}}
	if _, err := s.store.CreateDeployment(context.Background(), "fleet", spec, nil); err != nil {
		b.Fatal(err)
	}
	if err := s.fleet.loadDeployments(context.Background()); err != nil {
		b.Fatal(err)
	}
	return s
}

func sv(k, v string) *protobufs.KeyValue {
	return &protobufs.KeyValue{Key: k, Value: &protobufs.AnyValue{Value: &protobufs.AnyValue_StringValue{StringValue: v}}}
}

// A heartbeat from a connected agent whose config is applied: the path every
// agent takes every 30 s.
func BenchmarkOnMessageHeartbeat(b *testing.B) {
	s := benchServer(b)
	uid := uuid.Must(uuid.NewV7())
	ctx := context.Background()
	first := &protobufs.AgentToServer{InstanceUid: uid[:], Capabilities: uint64(capAcceptsRemoteConfig), AgentDescription: &protobufs.AgentDescription{
		NonIdentifyingAttributes: []*protobufs.KeyValue{sv("host.name", "host-1"), sv("phoenix.label.fleet", "bench")}}}
	resp := s.fleet.onMessage(ctx, nil, first, "http://127.0.0.1:8080")
	if resp.RemoteConfig == nil {
		b.Fatal("no config pushed")
	}
	applied := &protobufs.AgentToServer{InstanceUid: uid[:], SequenceNum: 1, RemoteConfigStatus: &protobufs.RemoteConfigStatus{
		LastRemoteConfigHash: resp.RemoteConfig.ConfigHash, Status: protobufs.RemoteConfigStatuses_RemoteConfigStatuses_APPLIED}}
	s.fleet.onMessage(ctx, nil, applied, "")
	msg := &protobufs.AgentToServer{InstanceUid: uid[:]}
	b.ReportAllocs()
	seq := uint64(1)
	for b.Loop() {
		seq++
		msg.SequenceNum = seq
		if r := s.fleet.onMessage(ctx, nil, msg, ""); r.RemoteConfig != nil || r.Flags != 0 {
			b.Fatal("heartbeat got a config or a full-state request")
		}
	}
}

// desiredFor with the render cache warm (every message computes it).
func BenchmarkDesiredForCached(b *testing.B) {
	s := benchServer(b)
	labels := map[string]string{"fleet": "bench", "env": "prod"}
	s.fleet.desiredFor("host-1", labels)
	b.ReportAllocs()
	for b.Loop() {
		if d := s.fleet.desiredFor("host-1", labels); d.Hash == "" {
			b.Fatal(d.Err)
		}
	}
}

// desiredFor for a host never rendered: what each host costs on a deployment change.
func BenchmarkDesiredForRender(b *testing.B) {
	s := benchServer(b)
	labels := map[string]string{"fleet": "bench"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if d := s.fleet.desiredFor(fmt.Sprintf("host-%d", i), labels); d.Hash == "" {
			b.Fatal(d.Err)
		}
	}
}

// Converting one agent's telemetry export (40 kept points, 20 dropped).
func BenchmarkIngestConvert(b *testing.B) {
	s := benchServer(b)
	md := pmetric.NewMetrics()
	sm := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty()
	for i := range 60 {
		m := sm.Metrics().AppendEmpty()
		m.SetName(fmt.Sprintf("phoenix.cardinality.series.%d", i))
		if i%3 == 0 {
			m.SetName(fmt.Sprintf("otelcol_exporter_sent_%d", i))
		}
		dp := m.SetEmptyGauge().DataPoints().AppendEmpty()
		dp.SetIntValue(int64(i))
		dp.Attributes().PutStr("phoenix.pipeline", "metrics/process")
		dp.Attributes().PutStr("phoenix.stage", "out")
	}
	b.ReportAllocs()
	for b.Loop() {
		if pts, skipped := s.convert("agent", md); len(pts) != 40 || skipped != 20 {
			b.Fatalf("%d points, %d skipped", len(pts), skipped)
		}
	}
}
