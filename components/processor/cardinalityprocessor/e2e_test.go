package cardinalityprocessor

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/phoenix-otel/phoenix/internal/testutil"
)

// TestBuiltCollectorReportsInputAndOutput runs bin/phoenix-otelcol with
//
//	loadgen ─┬─> cardinality(input) -> filter (drops node and redis-server) -> cardinality(output) -> otlp_http -> sink
//	         └─> otlp_http -> sink/all (the unfiltered data, to count the input)
//
// and the collector's own metrics on a Prometheus pull endpoint. The loadgen
// emits 6 scrapes and stops, all within the first 20 s window; when that
// window closes, the endpoint must show both stages' figures, equal to what
// this test counts in the exported data.
func TestBuiltCollectorReportsInputAndOutput(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the built collector")
	}
	out := testutil.NewOTLPSink(t)
	all := testutil.NewOTLPSink(t)
	promPort := testutil.FreePort(t)
	const scrapes = 6
	cfg := fmt.Sprintf(`
receivers:
  loadgen:
    profile: process-churn
    churn_rate: 20
    collection_interval: 500ms
    initial_delay: 0s
    duration: %dms
    seed: 5
processors:
  cardinality/in:
    pipeline: processes
    stage: input
    variant: candidate
    window: 20s
    critical_processes: ["^nginx$", "^postgres$", "^redis-server$", "kafka\\.Kafka"]
  filter/drop:
    error_mode: ignore
    metrics:
      metric:
        - 'resource.attributes["process.executable.name"] == "node"'
        - 'resource.attributes["process.executable.name"] == "redis-server"'
  cardinality/out:
    pipeline: processes
    stage: output
    variant: candidate
    window: 20s
    critical_processes: ["^nginx$", "^postgres$", "^redis-server$", "kafka\\.Kafka"]
exporters:
  otlp_http/out:
    endpoint: %s
    compression: none
  otlp_http/all:
    endpoint: %s
    compression: none
service:
  telemetry:
    logs:
      level: info
    metrics:
      level: normal
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: %d
                without_scope_info: true
                without_type_suffix: true
                without_units: true
  pipelines:
    metrics/filtered:
      receivers: [loadgen]
      processors: [cardinality/in, filter/drop, cardinality/out]
      exporters: [otlp_http/out]
    metrics/all:
      receivers: [loadgen]
      exporters: [otlp_http/all]
`, scrapes*500, out.Endpoint(), all.Endpoint(), promPort)
	col := testutil.StartCollector(t, cfg)
	metricsURL := fmt.Sprintf("http://127.0.0.1:%d/metrics", promPort)

	// The figures appear when the first window closes (20 s after start).
	var samples []promSample
	deadline := time.Now().Add(90 * time.Second) // bounds a hung collector, not a performance check
	for {
		if exited, err := col.Exited(); exited {
			t.Fatalf("collector exited: %v\n%s", err, col.Log())
		}
		samples = scrapePrometheus(t, metricsURL)
		if len(find(samples, "phoenix_cardinality_series", map[string]string{"phoenix_stage": "output"})) > 0 &&
			len(find(samples, "phoenix_cardinality_series", map[string]string{"phoenix_stage": "input"})) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no phoenix_cardinality_series for both stages on %s after 90s", metricsURL)
		}
		time.Sleep(250 * time.Millisecond)
	}

	outCount := countExported(out.Metrics())
	allCount := countExported(all.Metrics())
	require.Equal(t, scrapes, allCount.scrapes, "every loadgen scrape must have arrived within the first window")
	require.Equal(t, scrapes, outCount.scrapes)
	t.Logf("exported: input %d series / %d points / %d processes, output %d series / %d points / %d processes",
		allCount.series, allCount.points, allCount.processes, outCount.series, outCount.points, outCount.processes)
	require.Greater(t, allCount.series, outCount.series, "the filter must have dropped something")
	for _, s := range samples {
		if strings.HasPrefix(s.name, "phoenix_cardinality_series") || strings.HasPrefix(s.name, "phoenix_cardinality_processes") {
			t.Logf("collector endpoint: %s%v = %v", s.name, s.labels, s.value)
		}
	}

	for _, stage := range []struct {
		name string
		want exportCount
	}{{"input", allCount}, {"output", outCount}} {
		labels := map[string]string{"phoenix_pipeline": "processes", "phoenix_stage": stage.name, "phoenix_variant": "candidate"}
		assert.Equal(t, float64(stage.want.series), value(t, samples, "phoenix_cardinality_series", with(labels, "phoenix_estimated", "false")), "%s series", stage.name)
		assert.Equal(t, float64(stage.want.points), value(t, samples, "phoenix_cardinality_datapoints", labels), "%s data points", stage.name)
		assert.Equal(t, float64(stage.want.processes), value(t, samples, "phoenix_cardinality_processes", with(labels, "phoenix_estimated", "false")), "%s processes", stage.name)
		for name, n := range stage.want.perMetric {
			assert.Equal(t, float64(n), value(t, samples, "phoenix_cardinality_metric_series", with(with(labels, "metric_name", name), "phoenix_estimated", "false")), "%s series of %s", stage.name, name)
		}
	}

	// Critical processes: redis-server was filtered out, so only the input
	// reports it; the others are present on both sides.
	for _, name := range []string{"nginx", "postgres", "java"} {
		for _, stage := range []string{"input", "output"} {
			assert.Equal(t, 1.0, value(t, samples, "phoenix_cardinality_critical_process_present",
				map[string]string{"phoenix_stage": stage, "process_executable_name": name}), "%s %s", stage, name)
		}
	}
	assert.Equal(t, 1.0, value(t, samples, "phoenix_cardinality_critical_process_present",
		map[string]string{"phoenix_stage": "input", "process_executable_name": "redis-server"}))
	assert.Empty(t, find(samples, "phoenix_cardinality_critical_process_present",
		map[string]string{"phoenix_stage": "output", "process_executable_name": "redis-server"}), "redis-server was dropped by the filter")
	assert.Equal(t, 4.0, value(t, samples, "phoenix_cardinality_critical_processes", map[string]string{"phoenix_stage": "input"}))
	assert.Equal(t, 3.0, value(t, samples, "phoenix_cardinality_critical_processes", map[string]string{"phoenix_stage": "output"}))

	// The top offender on process data: the per-process attributes.
	offenders := find(samples, "phoenix_cardinality_attribute_values", map[string]string{"phoenix_stage": "input"})
	require.NotEmpty(t, offenders)
	top := offenders[0]
	for _, o := range offenders {
		if o.value > top.value {
			top = o
		}
	}
	assert.Contains(t, []string{"process.pid", "process.command_line"}, top.labels["phoenix_attribute_key"])
	assert.Equal(t, float64(allCount.processes), top.value, "each process has its own pid and command line")
}

type exportCount struct {
	series, points, processes, scrapes int
	perMetric                          map[string]int
}

// countExported counts what the sink received, the way a backend would:
// series by metric name + resource attributes + point attributes, processes
// by pid (loadgen never reuses one).
func countExported(batches []pmetric.Metrics) exportCount {
	series := map[string]bool{}
	perMetric := map[string]map[string]bool{}
	procs := map[int64]bool{}
	stamps := map[uint64]bool{}
	c := exportCount{perMetric: map[string]int{}}
	for _, md := range batches {
		for _, rm := range md.ResourceMetrics().All() {
			res := rm.Resource().Attributes()
			if pid, ok := res.Get("process.pid"); ok {
				procs[pid.Int()] = true
			}
			resKey := canonicalMap(res)
			for _, sm := range rm.ScopeMetrics().All() {
				for _, m := range sm.Metrics().All() {
					if m.Type() == pmetric.MetricTypeSum {
						for _, dp := range m.Sum().DataPoints().All() {
							stamps[uint64(dp.Timestamp())] = true
						}
					}
					forEachPointAttrs(m, func(attrs pcommon.Map) {
						c.points++
						k := m.Name() + "\x00" + resKey + "\x01" + canonicalMap(attrs)
						series[k] = true
						if perMetric[m.Name()] == nil {
							perMetric[m.Name()] = map[string]bool{}
						}
						perMetric[m.Name()][k] = true
					})
				}
			}
		}
	}
	c.series, c.processes, c.scrapes = len(series), len(procs), len(stamps)
	for name, set := range perMetric {
		c.perMetric[name] = len(set)
	}
	return c
}

type promSample struct {
	name   string
	labels map[string]string
	value  float64
}

func scrapePrometheus(t *testing.T, url string) []promSample {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return nil // not listening yet
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %s: %s", url, resp.Status, body)
	}
	var out []promSample
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		s, err := parsePromLine(line)
		require.NoError(t, err, "line %q", line)
		out = append(out, s)
	}
	require.NoError(t, sc.Err())
	return out
}

// parsePromLine parses one sample line of the Prometheus text format:
// name{k="v",...} value [timestamp].
func parsePromLine(line string) (promSample, error) {
	s := promSample{labels: map[string]string{}}
	i := strings.IndexAny(line, "{ ")
	if i < 0 {
		return s, fmt.Errorf("no value")
	}
	s.name = line[:i]
	rest := line[i:]
	if rest[0] == '{' {
		rest = rest[1:]
		for {
			rest = strings.TrimLeft(rest, ", ")
			if strings.HasPrefix(rest, "}") {
				rest = rest[1:]
				break
			}
			eq := strings.Index(rest, "=\"")
			if eq < 0 {
				return s, fmt.Errorf("bad labels")
			}
			key := rest[:eq]
			rest = rest[eq+2:]
			var val strings.Builder
			for {
				if rest == "" {
					return s, fmt.Errorf("unterminated label value")
				}
				c := rest[0]
				rest = rest[1:]
				if c == '"' {
					break
				}
				if c == '\\' && rest != "" {
					switch rest[0] {
					case 'n':
						val.WriteByte('\n')
					default:
						val.WriteByte(rest[0])
					}
					rest = rest[1:]
					continue
				}
				val.WriteByte(c)
			}
			s.labels[key] = val.String()
		}
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return s, fmt.Errorf("no value")
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return s, err
	}
	s.value = v
	return s, nil
}

// find returns the samples of name whose labels include want.
func find(samples []promSample, name string, want map[string]string) []promSample {
	var out []promSample
next:
	for _, s := range samples {
		if s.name != name {
			continue
		}
		for k, v := range want {
			if s.labels[k] != v {
				continue next
			}
		}
		out = append(out, s)
	}
	return out
}

func value(t *testing.T, samples []promSample, name string, want map[string]string) float64 {
	t.Helper()
	found := find(samples, name, want)
	if len(found) != 1 {
		t.Errorf("%s%v: %d samples, want 1: %v", name, want, len(found), found)
		return -1
	}
	return found[0].value
}

func with(m map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for kk, vv := range m {
		out[kk] = vv
	}
	return out
}
