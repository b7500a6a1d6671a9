package overhead

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/phoenix-otel/phoenix/internal/testutil"
	"github.com/phoenix-otel/phoenix/loadgen"
	"github.com/phoenix-otel/phoenix/pipelines"
)

var (
	flagFloorSettings = flag.Bool("floor-settings", false, "run TestFloorSettings: the remote-write floor's settings side by side (see benchmarks/README.md, The floor's CPU)")
	flagFloorProcs    = flag.Int("floor-procs", 500, "with -floor-settings: loadgen children the spawner plays")
	flagFloorProfile  = flag.String("floor-profile", "", "with -floor-settings: a directory for each collector's CPU profile over the window (pprof extension)")
)

// TestFloorSettings runs the scraper + remote-write floor of TestOverhead
// (baseline rendered, every processor but resource and batch removed) once
// per setting, all at the same time on the same spawned processes, into one
// real Prometheus, and prints each collector's CPU and RSS. The settings:
// the rendered floor, the one before (otel_scope_* labels on), GC settings
// the agent could give its collector, and two scraper defaults left out (not
// rendered: what they would save). Each runs twice, so the table shows the
// noise of the shared machine beside the differences. Only with
// -floor-settings:
//
//	go test -run TestFloorSettings -count=1 -v ./benchmarks/overhead/ -floor-settings -duration 2m -floor-profile /tmp/floor
func TestFloorSettings(t *testing.T) {
	if !*flagFloorSettings {
		t.Skip("a measurement, not a test: run with -floor-settings")
	}
	testutil.OtelcolBinary(t)
	prom := testutil.StartPrometheus(t)
	p := population(t, *flagFloorProcs)
	sp := loadgen.NewSpawner(loadgen.SpawnerConfig{MaxProcesses: p.ProcessCount(), CPUBudget: *flagCPU, MaxMemoryPerProcess: 2 << 20})
	if err := sp.Start(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	defer sp.Stop()
	type setting struct {
		name string
		edit func(exporter, scraper map[string]any)
		env  []string
	}
	scopeOn := func(e, _ map[string]any) { delete(e, "disable_scope_info") }
	// What leaving out one of the scraper's defaults would save (the
	// baseline promises them all, so none is rendered).
	off := func(kind, name string) func(_, s map[string]any) {
		return func(_, s map[string]any) { s[kind] = map[string]any{name: map[string]any{"enabled": false}} }
	}
	settings := []setting{
		{"rendered", nil, nil},
		{"otel_scope_* labels on (before)", scopeOn, nil},
		{"rendered, GOGC=150", nil, []string{"GOGC=150"}},
		{"rendered, GOGC=200 GOMEMLIMIT=36MiB", nil, []string{"GOGC=200", "GOMEMLIMIT=36MiB"}},
		{"not rendered: process.disk.io off", off("metrics", "process.disk.io"), nil},
		{"not rendered: process.owner off", off("resource_attributes", "process.owner"), nil},
	}
	type col struct {
		collector
		pprof int
	}
	var cols []*col
	for round := 1; round <= 2; round++ {
		for i, s := range settings {
			r, err := pipelines.Render(pipelines.Spec{Template: pipelines.TemplateBaseline,
				Destination: pipelines.Destination{Type: pipelines.DestPromRW, Endpoint: prom.RemoteWriteURL(), Insecure: true},
				Params:      map[string]any{"collection_interval": flagScrape.String()}},
				pipelines.Context{HostName: fmt.Sprintf("floor-%d-%d", i, round)})
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := yaml.Unmarshal(r.YAML, &m); err != nil {
				t.Fatal(err)
			}
			floor(m)
			e := m["exporters"].(map[string]any)["prometheus_remote_write/phoenix"].(map[string]any)
			e["timeout"] = "30s" // as TestOverhead: no collector drops data on a loaded machine
			if s.edit != nil {
				s.edit(e, m["receivers"].(map[string]any)["host_metrics"].(map[string]any)["scrapers"].(map[string]any)["process"].(map[string]any))
			}
			svc := m["service"].(map[string]any)
			// Its own telemetry served, as under the agent (and TestOverhead).
			svc["telemetry"] = map[string]any{"metrics": map[string]any{"readers": []any{map[string]any{"pull": map[string]any{"exporter": map[string]any{
				"prometheus": map[string]any{"host": "127.0.0.1", "port": testutil.FreePort(t), "without_scope_info": true}}}}}}}
			c := &col{collector: collector{name: fmt.Sprintf("%s #%d", s.name, round)}}
			if *flagFloorProfile != "" {
				c.pprof = testutil.FreePort(t)
				m["extensions"] = map[string]any{"pprof": map[string]any{"endpoint": fmt.Sprintf("127.0.0.1:%d", c.pprof)}}
				svc["extensions"] = []any{"pprof"}
			}
			out, _ := yaml.Marshal(m)
			for _, kv := range s.env {
				k, v, _ := strings.Cut(kv, "=")
				os.Setenv(k, v)
			}
			c.c = testutil.StartCollector(t, string(out))
			for _, kv := range s.env {
				k, _, _ := strings.Cut(kv, "=")
				os.Unsetenv(k)
			}
			cols = append(cols, c)
		}
	}
	time.Sleep(2**flagScrape + 2*time.Second)
	for _, c := range cols {
		if exited, err := c.c.Exited(); exited {
			t.Fatalf("%s exited: %v\n%s", c.name, err, c.c.Log())
		}
		c.ticks0 = ticks(t, c.c.Cmd.Process.Pid)
	}
	var wg sync.WaitGroup
	if *flagFloorProfile != "" {
		if err := os.MkdirAll(*flagFloorProfile, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, c := range cols {
			wg.Go(func() {
				url := fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/profile?seconds=%d", c.pprof, int(flagDuration.Seconds()))
				resp, err := http.Get(url)
				if err != nil {
					t.Errorf("%s: %v", c.name, err)
					return
				}
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				if err == nil {
					err = os.WriteFile(filepath.Join(*flagFloorProfile, fmt.Sprintf("%d.pprof", i)), b, 0o644)
				}
				if err != nil {
					t.Errorf("%s: %v", c.name, err)
				}
			})
		}
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
	cpu := make([]float64, len(cols))
	for i, c := range cols {
		cpu[i] = 100 * float64(ticks(t, c.c.Cmd.Process.Pid)-c.ticks0) / clkTck / wall.Seconds()
	}
	wg.Wait()
	var b strings.Builder
	fmt.Fprintf(&b, "%d spawned processes (%d live), %s scrape, %s window, load average %s → %s\n", *flagFloorProcs, sp.Status().Live, *flagScrape, wall.Round(time.Second), load0, loadAvg())
	b.WriteString("| floor setting | CPU % of a core | ÷ rendered #1 | anon RSS mean MiB | file MiB | VmHWM MiB | exports failed | profile |\n|---|---:|---:|---:|---:|---:|---:|---|\n")
	for i, c := range cols {
		pid := c.c.Cmd.Process.Pid
		prof := "—"
		if *flagFloorProfile != "" {
			prof = fmt.Sprintf("%d.pprof", i)
		}
		fmt.Fprintf(&b, "| %s | %.2f | %s | %.1f | %.1f | %.1f | %d | %s |\n", c.name, cpu[i], ratio(cpu[i], cpu[0]),
			mean(c.anon), mean(c.file), status(t, pid, "VmHWM")/1024, strings.Count(c.c.Log(), "Exporting failed"), prof)
	}
	t.Log("\n" + b.String())
}
