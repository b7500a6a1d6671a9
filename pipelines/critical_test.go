package pipelines

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/phoenix-otel/phoenix/internal/testutil"
	"github.com/phoenix-otel/phoenix/loadgen"
)

// criticalWays are services started the ways a platform team starts them,
// as real processes. Each is critical by the default critical_processes
// only through one attribute: comm (executable name), argv[0] (command) or
// the command line.
var criticalWays = []loadgen.Group{
	// exec -a nginx /bin/sleep ...: comm is sleep, argv[0] is nginx.
	{NameTemplate: "nginx -c /etc/nginx/site{i}.conf", Executable: "sleep", Count: 2},
	{NameTemplate: "java -Xmx64m -jar /opt/services/orders-{i}.jar", Executable: "java", Count: 2},
	{NameTemplate: "java -Xmx64m -cp /opt/kafka/libs/* kafka.Kafka /opt/kafka/config/server{i}.properties", Executable: "java", Count: 2},
	{NameTemplate: "python3 -m gunicorn api{i}.wsgi:app", Executable: "python3", Count: 2},
	{NameTemplate: "node /srv/api{i}/server.js", Executable: "node", Count: 2},
}

// Critical means critical: services started as argv[0]-renamed binaries,
// JVMs, Python application servers and Node services run as real processes
// among busier noise; every template that filters must keep every one of
// them whole in every scrape where the baseline (same receiver) has it,
// and the cardinality processor must count them as critical.
func TestCriticalMeansCritical(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the collector on real processes")
	}
	bin := testutil.OtelcolBinary(t)
	groups := append([]loadgen.Group(nil), criticalWays...)
	// Noise that outranks the critical ones on CPU, so topk and the
	// adaptive filter would drop them if they were not critical.
	groups = append(groups, loadgen.Group{NameTemplate: "phxnoise-{i} --spin", Count: 40,
		CPU: loadgen.Pattern{Type: loadgen.Steady, Base: 0.05}})
	spawn(t, groups...)
	wantCritical := 0
	for _, g := range criticalWays {
		wantCritical += g.Count
	}
	for _, tc := range []struct {
		template string
		params   map[string]any
	}{
		{TemplatePriorityBased, nil},
		{TemplateTopK, map[string]any{"k": 3}},
		{TemplateAggregated, nil},
		{TemplateAdaptiveFilter, map[string]any{"max_cardinality": 10}},
	} {
		t.Run(tc.template, func(t *testing.T) {
			requireComponents(t, bin, tc.template)
			sinkB, sinkC := testutil.NewOTLPSink(t), testutil.NewOTLPSink(t)
			params := map[string]any{"collection_interval": "2s", "batch_timeout": "200ms"}
			for k, v := range tc.params {
				params[k] = v
			}
			r, err := RenderExperiment(ExperimentSpec{ID: "critical",
				Baseline:  Spec{Template: TemplateBaseline, Params: map[string]any{"collection_interval": "2s", "batch_timeout": "200ms"}, Destination: Destination{Type: DestOTLPHTTP, Endpoint: sinkB.Endpoint()}},
				Candidate: Spec{Template: tc.template, Params: params, Destination: Destination{Type: DestOTLPHTTP, Endpoint: sinkC.Endpoint()}},
			}, Context{HostName: "critical-host"})
			if err != nil {
				t.Fatal(err)
			}
			var telemetry string
			cfg := editConfig(t, r.YAML, func(m map[string]any) {
				telemetry = withTelemetry(t, m)
				m["processors"].(map[string]any)["cardinality/candidate/in"].(map[string]any)["window"] = "4s"
			})
			c := testutil.StartCollector(t, cfg)
			waitCriticalChildren(t, c, sinkB, wantCritical, 6)
			crit := criticalNames(t, c, telemetry)
			c.Stop()
			base, cand := wholeChildren(sinkB.Metrics()), wholeChildren(sinkC.Metrics())
			if len(base) < wantCritical {
				t.Fatalf("the baseline saw %d of %d critical children", len(base), wantCritical)
			}
			for who, stamps := range base {
				var missing []string
				for ts := range stamps {
					if !cand[who][ts] {
						missing = append(missing, fmt.Sprint(ts))
					}
				}
				if len(missing) > 0 {
					sort.Strings(missing)
					t.Errorf("%s: critical %s missing or not whole in %d of %d scrapes", tc.template, who, len(missing), len(stamps))
				}
			}
			// The cardinality processor reports a critical process under its
			// executable name: sleep is the argv[0]-renamed nginx.
			for _, name := range []string{"sleep", "java", "python3", "node"} {
				if !crit[name] {
					t.Errorf("the cardinality processor does not count %s as critical (it reports %v)", name, crit)
				}
			}
			t.Logf("%s: %d critical children whole in every one of their scrapes", tc.template, len(base))
		})
	}
}

// wholeChildren returns, for every spawned critical child ("pid command
// line"), the timestamps at which it arrived whole: all 7 points.
func wholeChildren(bs []pmetric.Metrics) map[string]map[pcommon.Timestamp]bool {
	points := map[string]map[pcommon.Timestamp]int{}
	for _, md := range bs {
		rms := md.ResourceMetrics()
		for i := range rms.Len() {
			raw := rms.At(i).Resource().Attributes().AsRaw()
			cl, _ := raw[attrCmdline].(string)
			if !isChild(raw) || strings.HasPrefix(cl, "phxnoise-") {
				continue
			}
			who := fmt.Sprint(raw[attrPID], " ", cl)
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
					}
					for d := range dps.Len() {
						if points[who] == nil {
							points[who] = map[pcommon.Timestamp]int{}
						}
						points[who][dps.At(d).Timestamp()]++
					}
				}
			}
		}
	}
	out := map[string]map[pcommon.Timestamp]bool{}
	for who, byTS := range points {
		for ts, n := range byTS {
			if n >= 7 {
				if out[who] == nil {
					out[who] = map[pcommon.Timestamp]bool{}
				}
				out[who][ts] = true
			}
		}
	}
	return out
}

// waitCriticalChildren waits until the sink holds n critical children whole
// in at least scrapes scrapes each.
func waitCriticalChildren(t *testing.T, c *testutil.Collector, sink *testutil.OTLPSink, n, scrapes int) {
	t.Helper()
	sink.WaitFor(t, 3*time.Minute, func(bs []pmetric.Metrics) bool {
		if exited, err := c.Exited(); exited {
			t.Fatalf("collector exited: %v\n%s", err, c.Log())
		}
		full := 0
		for _, stamps := range wholeChildren(bs) {
			if len(stamps) >= scrapes {
				full++
			}
		}
		return full >= n
	})
}

// criticalNames reads the executable names that
// phoenix_cardinality_critical_process_present reports for the candidate's
// input stage.
func criticalNames(t *testing.T, c *testutil.Collector, url string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, s := range scrapeTelemetry(t, c, url, "phoenix_cardinality_critical_process_present") {
		if strings.Contains(s.labels, `phoenix_stage="input"`) && strings.Contains(s.labels, `phoenix_variant="candidate"`) && s.value > 0 {
			if m := exeLabel.FindStringSubmatch(s.labels); m != nil {
				out[m[1]] = true
			}
		}
	}
	return out
}

var exeLabel = regexp.MustCompile(`process_executable_name="([^"]*)"`)
