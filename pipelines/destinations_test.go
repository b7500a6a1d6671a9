package pipelines

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/phoenix-otel/phoenix/internal/testutil"
	"github.com/phoenix-otel/phoenix/loadgen"
)

func itoa(i int) string { return strconv.Itoa(i) }

// arrived is what a set of OTLP batches holds: distinct series and processes.
type arrived struct {
	series map[string]bool
	// processes are keyed as the cardinality processor identifies them:
	// host.name + pid, or for a resource without a pid that names an
	// executable (topk's _other, an aggregated group) host.name + name.
	processes map[string]bool
	children  map[int64]int // spawned pid -> series
	// scopeLabelled counts Prometheus series with an otel_scope_* label.
	scopeLabelled int
}

func count(bs []pmetric.Metrics) arrived {
	a := arrived{series: map[string]bool{}, processes: map[string]bool{}, children: map[int64]int{}}
	for _, md := range bs {
		rms := md.ResourceMetrics()
		for i := range rms.Len() {
			res := rms.At(i).Resource().Attributes()
			raw := res.AsRaw()
			pid, isProc := raw[attrPID].(int64)
			if isProc {
				a.processes[fmt.Sprint(raw["host.name"], "/", pid)] = true
			} else if name, ok := raw["process.executable.name"]; ok {
				a.processes[fmt.Sprint(raw["host.name"], "/name:", name)] = true
			}
			sms := rms.At(i).ScopeMetrics()
			for j := range sms.Len() {
				ms := sms.At(j).Metrics()
				for k := range ms.Len() {
					m := ms.At(k)
					var dps pmetric.NumberDataPointSlice
					switch m.Type() {
					case pmetric.MetricTypeSum:
						dps = m.Sum().DataPoints()
					case pmetric.MetricTypeGauge:
						dps = m.Gauge().DataPoints()
					default:
						continue
					}
					for d := range dps.Len() {
						key := seriesKey(res, sms.At(j).Scope().Name(), m.Name(), dps.At(d).Attributes())
						if !a.series[key] && isChild(raw) {
							a.children[pid]++
						}
						a.series[key] = true
					}
				}
			}
		}
	}
	return a
}

// Every destination, end to end against its real backend, on real processes:
// the series and processes that arrive must be exactly those that left the
// pipeline (a second exporter on the same pipeline writes them to a sink),
// and the pipeline's cardinality/out figures must be covered by what arrived.
// Before the remote-write destination carried resource attributes as labels,
// 40 children (and the host's other processes) arrived in Prometheus as 7
// series.
func TestDestinationsKeepProcessIdentity(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the collector, a second collector and Prometheus")
	}
	bin := testutil.OtelcolBinary(t)
	requireComponents(t, bin, TemplateTopK)
	const n = 40
	// JVM, Python, Node, argv[0]-renamed and plain workers.
	spawn(t,
		loadgen.Group{NameTemplate: "java -Xmx64m -jar orders-{i}.jar", Executable: "java", Count: 5},
		loadgen.Group{NameTemplate: "python3 -m worker.q{i}", Executable: "python3", Count: 5},
		loadgen.Group{NameTemplate: "node /srv/api{i}/server.js", Executable: "node", Count: 5},
		loadgen.Group{NameTemplate: "nginx: worker process {i}", Executable: "sleep", Count: 5},
		loadgen.Group{NameTemplate: "phxdest-{i} --serve", Count: 20},
	)
	for _, dest := range []string{DestPromRW, DestOTLP, DestOTLPHTTP} {
		for _, tmpl := range []string{TemplateBaseline, TemplateTopK} {
			t.Run(dest+"/"+tmpl, func(t *testing.T) {
				var backend func() arrived
				var d Destination
				switch dest {
				case DestPromRW:
					prom := testutil.StartPrometheus(t)
					d = Destination{Type: dest, Endpoint: prom.RemoteWriteURL(), Insecure: true}
					start := time.Now().Add(-time.Minute)
					backend = func() arrived { return promArrived(t, prom, start) }
				case DestOTLP, DestOTLPHTTP:
					ob := testutil.StartOTLPBackend(t)
					d = Destination{Type: dest, Endpoint: ob.HTTPEndpoint, Insecure: true}
					if dest == DestOTLP {
						d.Endpoint = ob.GRPCEndpoint
					}
					backend = func() arrived { return count(ob.Sink.Metrics()) }
				}
				params := map[string]any{"collection_interval": "2s", "batch_timeout": "200ms"}
				wait := n
				if tmpl == TemplateTopK {
					params["k"] = 10
					wait = 0 // topk keeps the busiest: wait for scrapes, not for the children
				}
				r, err := Render(Spec{Template: tmpl, Destination: d, Params: params},
					Context{HostName: "dest-host"})
				if err != nil {
					t.Fatal(err)
				}
				left := testutil.NewOTLPSink(t)
				var telemetry string
				cfg := editConfig(t, r.YAML, func(m map[string]any) {
					tee(m, left)
					telemetry = withTelemetry(t, m)
					m["processors"].(map[string]any)["cardinality/out"].(map[string]any)["window"] = "4s"
				})
				c := testutil.StartCollector(t, cfg)
				waitChildren(t, c, left, wait, 4)
				out := waitCardinality(t, c, telemetry)
				c.Stop() // flushes every exporter
				want := count(left.Metrics())
				var got arrived
				// The backend may still be writing the last batch.
				deadline := time.Now().Add(30 * time.Second)
				for {
					got = backend()
					if len(got.series) >= len(want.series) || time.Now().After(deadline) {
						break
					}
					time.Sleep(200 * time.Millisecond)
				}
				t.Logf("left the pipeline: %d series, %d processes (%d spawned); arrived: %d series, %d processes; cardinality/out window: %v series, %v processes",
					len(want.series), len(want.processes), len(want.children), len(got.series), len(got.processes), out.series, out.processes)
				if len(got.series) != len(want.series) || len(got.processes) != len(want.processes) {
					t.Errorf("%s: %d series of %d processes arrived, %d series of %d processes left the pipeline",
						dest, len(got.series), len(got.processes), len(want.series), len(want.processes))
				}
				// otel_scope_version is the collector's build version: on
				// every series, an upgrade would replace every series.
				if got.scopeLabelled > 0 {
					t.Errorf("%s: %d series arrived with otel_scope_* labels", dest, got.scopeLabelled)
				}
				if tmpl == TemplateBaseline && len(want.children) != n {
					t.Errorf("baseline: %d of %d spawned processes left the pipeline", len(want.children), n)
				}
				for pid, k := range want.children {
					if got.children[pid] != k {
						t.Errorf("spawned pid %d: %d series left, %d arrived", pid, k, got.children[pid])
					}
				}
				if float64(len(got.series)) < out.series || float64(len(got.processes)) < out.processes {
					t.Errorf("cardinality/out counted %v series of %v processes in one window, more than arrived in the whole run (%d, %d)",
						out.series, out.processes, len(got.series), len(got.processes))
				}
			})
		}
	}
}

// promArrived reads every series Prometheus holds since start (it has no
// scrape targets: all arrived by remote write).
func promArrived(t *testing.T, prom *testutil.Prometheus, start time.Time) arrived {
	a := arrived{series: map[string]bool{}, processes: map[string]bool{}, children: map[int64]int{}}
	me := itoa(os.Getpid())
	for _, s := range prom.Series(t, `{__name__=~".+"}`, start, time.Now().Add(time.Minute)) {
		key := fmt.Sprint(s)
		a.series[key] = true
		for l := range s {
			if strings.HasPrefix(l, "otel_scope_") {
				a.scopeLabelled++
				break
			}
		}
		if s["process_pid"] != "" {
			a.processes[s["host_name"]+"/"+s["process_pid"]] = true
		} else if name := s["process_executable_name"]; name != "" {
			a.processes[s["host_name"]+"/name:"+name] = true
		}
		if s["process_parent_pid"] == me && !notSpawned[s["process_executable_name"]] {
			pid, _ := strconv.ParseInt(s["process_pid"], 10, 64)
			a.children[pid]++
		}
	}
	return a
}

// window is one complete window of the cardinality/out figures.
type window struct{ series, processes float64 }

// waitCardinality waits for the first complete window of cardinality/out.
func waitCardinality(t *testing.T, c *testutil.Collector, url string) window {
	t.Helper()
	var w window
	for _, s := range scrapeTelemetry(t, c, url, "phoenix_cardinality_series") {
		if strings.Contains(s.labels, `phoenix_stage="output"`) {
			w.series = s.value
		}
	}
	for _, s := range scrapeTelemetry(t, c, url, "phoenix_cardinality_processes") {
		if strings.Contains(s.labels, `phoenix_stage="output"`) {
			w.processes = s.value
		}
	}
	return w
}

type telemetrySample struct {
	labels string
	value  float64
}

var sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\} ([-0-9.e+]+)$`)

// scrapeTelemetry reads the collector's own metrics until name appears (the
// first window has ended) and returns its samples.
func scrapeTelemetry(t *testing.T, c *testutil.Collector, url, name string) []telemetrySample {
	t.Helper()
	deadline := time.Now().Add(time.Minute) // bounds a hung collector
	for {
		var out []telemetrySample
		if resp, err := http.Get(url); err == nil {
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				m := sampleLine.FindStringSubmatch(sc.Text())
				if m == nil || m[1] != name {
					continue
				}
				v, _ := strconv.ParseFloat(m[3], 64)
				out = append(out, telemetrySample{labels: m[2], value: v})
			}
			resp.Body.Close()
		}
		if len(out) > 0 {
			return out
		}
		if exited, err := c.Exited(); exited || time.Now().After(deadline) {
			t.Fatalf("no %s at %s (exited %v: %v)\n%s", name, url, exited, err, c.Log())
		}
		time.Sleep(500 * time.Millisecond)
	}
}
