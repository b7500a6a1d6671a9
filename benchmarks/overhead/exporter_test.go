package overhead

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/phoenix-otel/phoenix/internal/testutil"
	"github.com/phoenix-otel/phoenix/pipelines"
)

var flagExporterMemory = flag.Bool("exporter-memory", false, "run TestExporterMemory: the remote-write exporter's settings side by side (see benchmarks/README.md, Memory)")

// TestExporterMemory runs process-baseline-v1 on the loadgen receiver (1,000
// high-cardinality processes, 5 s: the exporter's work without spawning
// anything) once per remote-write setting, all at the same time into one
// real Prometheus, and prints each collector's anonymous RSS (mean and max
// of 2 s samples), VmHWM and CPU. Only with -exporter-memory:
//
//	go test -run TestExporterMemory -count=1 -v ./benchmarks/overhead/ -exporter-memory -duration 3m
func TestExporterMemory(t *testing.T) {
	if !*flagExporterMemory {
		t.Skip("a measurement, not a test: run with -exporter-memory")
	}
	prom := testutil.StartPrometheus(t)
	r, err := pipelines.Render(pipelines.Spec{Template: pipelines.TemplateBaseline,
		Destination: pipelines.Destination{Type: pipelines.DestPromRW, Endpoint: prom.RemoteWriteURL(), Insecure: true},
		Params:      map[string]any{"collection_interval": "5s"},
		Input:       pipelines.Input{Mode: pipelines.InputLoadGen, LoadGen: &pipelines.LoadSim{Profile: "high-cardinality", ProcessCount: 1000, Seed: 1}},
	}, pipelines.Context{HostName: "exporter-memory"})
	if err != nil {
		t.Fatal(err)
	}
	type variant struct {
		name     string
		settings map[string]any // replaces the rendered batching settings
		env      string
	}
	variants := []variant{
		{"defaults (3 MB, parallelism 5)", map[string]any{}, ""},
		{"parallelism 1 only", map[string]any{"max_batch_request_parallelism": 1}, ""},
		{"1 MB only", map[string]any{"max_batch_size_bytes": 1000000}, ""},
		{"1 MB, parallelism 1 (rendered)", nil, ""},
		{"500 KB, parallelism 1", map[string]any{"max_batch_size_bytes": 500000, "max_batch_request_parallelism": 1}, ""},
		{"defaults, GOGC=50", map[string]any{}, "GOGC=50"},
		{"defaults, GOMEMLIMIT=40MiB", map[string]any{}, "GOMEMLIMIT=40MiB"},
	}
	var cols []*collector
	for _, v := range variants {
		var m map[string]any
		if err := yaml.Unmarshal(r.YAML, &m); err != nil {
			t.Fatal(err)
		}
		e := m["exporters"].(map[string]any)["prometheus_remote_write/phoenix"].(map[string]any)
		if v.settings != nil {
			delete(e, "max_batch_size_bytes")
			delete(e, "max_batch_request_parallelism")
			for k, x := range v.settings {
				e[k] = x
			}
		}
		m["service"].(map[string]any)["telemetry"] = map[string]any{"metrics": map[string]any{"level": "none"}}
		out, _ := yaml.Marshal(m)
		if k, val, ok := strings.Cut(v.env, "="); ok {
			os.Setenv(k, val)
			cols = append(cols, &collector{name: v.name, c: testutil.StartCollector(t, string(out))})
			os.Unsetenv(k)
		} else {
			cols = append(cols, &collector{name: v.name, c: testutil.StartCollector(t, string(out))})
		}
	}
	time.Sleep(12 * time.Second)
	for _, c := range cols {
		c.ticks0 = ticks(t, c.c.Cmd.Process.Pid)
	}
	load0 := loadAvg()
	start := time.Now()
	for time.Since(start) < *flagDuration {
		for _, c := range cols {
			a, f := rss(t, c.c.Cmd.Process.Pid)
			c.anon, c.file = append(c.anon, a), append(c.file, f)
		}
		time.Sleep(2 * time.Second)
	}
	wall := time.Since(start)
	var b strings.Builder
	fmt.Fprintf(&b, "%s window, load average %s → %s\n", wall.Round(time.Second), load0, loadAvg())
	b.WriteString("| exporter setting | anon RSS mean MiB | anon max | VmHWM | CPU % of a core |\n|---|---:|---:|---:|---:|\n")
	for _, c := range cols {
		pid := c.c.Cmd.Process.Pid
		mx := 0.0
		for _, a := range c.anon {
			mx = max(mx, a)
		}
		fmt.Fprintf(&b, "| %s | %.1f | %.1f | %.1f | %.2f |\n", c.name, mean(c.anon), mx, status(t, pid, "VmHWM")/1024,
			100*float64(ticks(t, pid)-c.ticks0)/clkTck/wall.Seconds())
	}
	t.Log("\n" + b.String())
}
