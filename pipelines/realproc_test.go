package pipelines

import (
	"context"
	"os"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.yaml.in/yaml/v3"

	"github.com/phoenix-otel/phoenix/internal/testutil"
	"github.com/phoenix-otel/phoenix/loadgen"
)

// Helpers for tests on real processes: the spawner starts children of this
// test binary (named as the groups say), the built collector's real process
// scraper sees them.

// spawn starts groups as real processes for the whole test.
func spawn(t *testing.T, groups ...loadgen.Group) *loadgen.Spawner {
	t.Helper()
	total := 0
	for i := range groups {
		if groups[i].CPU.Type == "" {
			groups[i].CPU = loadgen.Pattern{Type: loadgen.Steady, Base: 0.001}
		}
		if groups[i].Memory.Type == "" {
			groups[i].Memory = loadgen.Pattern{Type: loadgen.Steady, Base: 256 << 10}
		}
		total += groups[i].Count
	}
	sp := loadgen.NewSpawner(loadgen.SpawnerConfig{MaxProcesses: total, CPUBudget: 0.1, MaxMemoryPerProcess: 1 << 20})
	if err := sp.Start(context.Background(), &loadgen.Profile{Name: "test", Groups: groups, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sp.Stop)
	if st := sp.Status(); st.Live != total {
		t.Fatalf("spawner: %d of %d children live (%s)", st.Live, total, st.LastError)
	}
	return sp
}

// isChild reports whether a resource is a process this test binary spawned.
// The collectors and Prometheus a test starts are children too, not spawned.
func isChild(attrs map[string]any) bool {
	ppid, _ := attrs["process.parent_pid"].(int64)
	exe, _ := attrs["process.executable.name"].(string)
	return ppid == int64(os.Getpid()) && !notSpawned[exe]
}

var notSpawned = map[string]bool{"phoenix-otelcol": true, "prometheus": true}

// editConfig decodes a rendered config, lets fn change it, and encodes it.
func editConfig(t *testing.T, data []byte, fn func(m map[string]any)) string {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	fn(m)
	out, err := yaml.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// tee adds an otlp_http exporter to sink beside every pipeline's exporter:
// the sink then holds exactly what left each pipeline.
func tee(m map[string]any, sink *testutil.OTLPSink) {
	exps := m["exporters"].(map[string]any)
	exps["otlp_http/left_pipeline"] = map[string]any{"endpoint": sink.Endpoint(), "compression": "none"}
	for _, p := range m["service"].(map[string]any)["pipelines"].(map[string]any) {
		pm := p.(map[string]any)
		pm["exporters"] = append(pm["exporters"].([]any), "otlp_http/left_pipeline")
	}
}

// withTelemetry serves the collector's own metrics on a loopback port and
// returns its URL.
func withTelemetry(t *testing.T, m map[string]any) string {
	port := testutil.FreePort(t)
	svc := m["service"].(map[string]any)
	svc["telemetry"] = map[string]any{"metrics": map[string]any{"readers": []any{map[string]any{"pull": map[string]any{"exporter": map[string]any{
		"prometheus": map[string]any{"host": "127.0.0.1", "port": port, "without_scope_info": true, "without_type_suffix": true, "without_units": true}}}}}}}
	return "http://127.0.0.1:" + itoa(port) + "/metrics"
}

// waitChildren waits until the sink has seen every one of n children in at
// least scrapes batches each (n 0: until scrapes batches arrived).
func waitChildren(t *testing.T, c *testutil.Collector, sink *testutil.OTLPSink, n, scrapes int) {
	t.Helper()
	sink.WaitFor(t, 3*time.Minute, func(bs []pmetric.Metrics) bool {
		if exited, err := c.Exited(); exited {
			t.Fatalf("collector exited: %v\n%s", err, c.Log())
		}
		seen := map[int64]int{}
		for _, md := range bs {
			for i := range md.ResourceMetrics().Len() {
				a := md.ResourceMetrics().At(i).Resource().Attributes().AsRaw()
				if isChild(a) {
					seen[a["process.pid"].(int64)]++
				}
			}
		}
		if n == 0 {
			return len(bs) >= scrapes
		}
		full := 0
		for _, k := range seen {
			if k >= scrapes {
				full++
			}
		}
		return full >= n
	})
}
