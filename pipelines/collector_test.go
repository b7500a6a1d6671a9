package pipelines

import (
	"context"
	"encoding/json"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.yaml.in/yaml/v3"

	"github.com/phoenix-otel/phoenix/internal/testutil"
	"github.com/phoenix-otel/phoenix/loadgen"
)

// Helpers shared by the tests that run the built phoenix-otelcol.

var (
	componentsOnce sync.Once
	binComponents  map[string][]string
	componentsErr  error
)

// builtComponents returns the component types of the built collector, by kind.
func builtComponents(t *testing.T, bin string) map[string][]string {
	t.Helper()
	componentsOnce.Do(func() {
		out, err := exec.Command(bin, "components").Output()
		if err != nil {
			componentsErr = err
			return
		}
		var doc map[string]any
		if err := yaml.Unmarshal(out, &doc); err != nil {
			componentsErr = err
			return
		}
		binComponents = map[string][]string{}
		for _, kind := range []string{KindReceiver, KindProcessor, KindExporter, KindExtension, KindConnector} {
			list, _ := doc[kind].([]any)
			for _, e := range list {
				if m, ok := e.(map[string]any); ok {
					binComponents[kind] = append(binComponents[kind], m["name"].(string))
				}
			}
		}
	})
	if componentsErr != nil {
		t.Fatalf("%s components: %v", bin, componentsErr)
	}
	return binComponents
}

// requireComponents skips (fails in CI) when the built collector lacks a
// processor the template needs: the binary predates the component.
func requireComponents(t *testing.T, bin string, templates ...string) {
	t.Helper()
	have := builtComponents(t, bin)[KindProcessor]
	for _, name := range templates {
		tmpl, err := Get(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range append([]string{"cardinality"}, tmpl.Processors...) {
			if !slices.Contains(have, p) {
				msg := "the built phoenix-otelcol has no " + p + " processor (needed by " + name + "): add it to builder-config.yaml and run `make otelcol`"
				if testutil.InCI() {
					t.Fatal(msg)
				}
				t.Skip(msg)
			}
		}
	}
}

func validateBinary(t *testing.T, bin, what string, data []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := ValidateWithBinary(ctx, bin, data); err != nil {
		t.Errorf("%s: %v\n%s", what, err, data)
	}
}

// series is the identity of one series: resource attributes (minus the
// experiment's own labels), scope, metric name, data point attributes.
func seriesKey(res pcommon.Map, scope string, metric string, dp pcommon.Map) string {
	r := res.AsRaw()
	delete(r, AttrVariant)
	delete(r, AttrExperimentID)
	b, _ := json.Marshal([]any{r, scope, metric, dp.AsRaw()})
	return string(b)
}

// scrape is what one scrape (one data point timestamp) looked like at a sink.
type scrape struct {
	series     map[string]int // series -> data points (more than 1 = duplicate)
	resources  map[string]*resourceView
	duplicates int
	// counters are the metric names that are monotonic cumulative sums.
	counters map[string]bool
}

// resourceView is one resource of a scrape: its attributes and its points.
type resourceView struct {
	attrs  map[string]any
	points map[string]float64 // metric + dp attributes -> value
}

func pointKey(metric string, dp pcommon.Map) string {
	b, _ := json.Marshal([]any{metric, dp.AsRaw()})
	return string(b)
}

func numberValue(dp pmetric.NumberDataPoint) float64 {
	if dp.ValueType() == pmetric.NumberDataPointValueTypeInt {
		return float64(dp.IntValue())
	}
	return dp.DoubleValue()
}

// byScrape splits what a sink received by data point timestamp.
func byScrape(batches []pmetric.Metrics) map[pcommon.Timestamp]*scrape {
	out := map[pcommon.Timestamp]*scrape{}
	for _, md := range batches {
		rms := md.ResourceMetrics()
		for i := range rms.Len() {
			rm := rms.At(i)
			resAttrs := rm.Resource().Attributes()
			raw := resAttrs.AsRaw()
			delete(raw, AttrVariant)
			delete(raw, AttrExperimentID)
			rb, _ := json.Marshal(raw)
			for j := range rm.ScopeMetrics().Len() {
				sm := rm.ScopeMetrics().At(j)
				for k := range sm.Metrics().Len() {
					m := sm.Metrics().At(k)
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
						dp := dps.At(d)
						s := out[dp.Timestamp()]
						if s == nil {
							s = &scrape{series: map[string]int{}, resources: map[string]*resourceView{}, counters: map[string]bool{}}
							out[dp.Timestamp()] = s
						}
						if m.Type() == pmetric.MetricTypeSum && m.Sum().IsMonotonic() && m.Sum().AggregationTemporality() == pmetric.AggregationTemporalityCumulative {
							s.counters[m.Name()] = true
						}
						key := seriesKey(resAttrs, sm.Scope().Name(), m.Name(), dp.Attributes())
						s.series[key]++
						if s.series[key] == 2 {
							s.duplicates++
						}
						rv := s.resources[string(rb)]
						if rv == nil {
							rv = &resourceView{attrs: raw, points: map[string]float64{}}
							s.resources[string(rb)] = rv
						}
						rv.points[pointKey(m.Name(), dp.Attributes())] += numberValue(dp)
					}
				}
			}
		}
	}
	return out
}

// coreCommandLines are the critical services every loadgen profile runs.
func coreCommandLines() map[string]bool {
	out := map[string]bool{}
	for _, g := range loadgen.CoreServices() {
		out[g.NameTemplate] = true
	}
	return out
}

// corePIDs returns the PIDs of the core services whole in a scrape: with
// their process attributes and every metric point they had in ref (when
// ref is given).
func corePIDs(s *scrape, ref *scrape) map[int64]bool {
	core := coreCommandLines()
	refPoints := map[int64]int{}
	if ref != nil {
		for _, r := range ref.resources {
			if cl, _ := r.attrs["process.command_line"].(string); core[cl] {
				refPoints[r.attrs["process.pid"].(int64)] = len(r.points)
			}
		}
	}
	out := map[int64]bool{}
	for _, r := range s.resources {
		cl, _ := r.attrs["process.command_line"].(string)
		if !core[cl] {
			continue
		}
		pid, _ := r.attrs["process.pid"].(int64)
		if ref != nil && len(r.points) < refPoints[pid] {
			continue // not whole: some of its series were dropped
		}
		out[pid] = true
	}
	return out
}

// experimentRun is one run of an experiment in the built collector on
// loadgen input: the baseline variant's and the candidate's scrapes.
type experimentRun struct {
	baseline, candidate map[pcommon.Timestamp]*scrape
	measured            []pcommon.Timestamp // scrapes in both, after warm-up
	config              []byte
	log                 string
}

const (
	measureInterval = "1s"
	warmupScrapes   = 2 // rate-based processors need two scrapes; controllers a few
	measuredScrapes = 4
)

// runExperiment runs baseline vs candidate (both with candParams' shared
// settings) on a loadgen profile until enough scrapes arrived, then stops
// the collector so that everything in flight is flushed.
func runExperiment(t *testing.T, profile string, baseline, candidate Spec) *experimentRun {
	t.Helper()
	return runExperimentOn(t, Input{Mode: InputLoadGen, LoadGen: &LoadSim{Profile: profile, Seed: 1}}, baseline, candidate)
}

// runExperimentOn is runExperiment on any input.
func runExperimentOn(t *testing.T, input Input, baseline, candidate Spec) *experimentRun {
	t.Helper()
	bin := testutil.OtelcolBinary(t)
	requireComponents(t, bin, baseline.Template, candidate.Template)
	sinkB, sinkC := testutil.NewOTLPSink(t), testutil.NewOTLPSink(t)
	for _, s := range []*Spec{&baseline, &candidate} {
		p := map[string]any{"collection_interval": measureInterval, "batch_timeout": "200ms"}
		for k, v := range s.Params {
			p[k] = v
		}
		s.Params = p
	}
	baseline.Destination = Destination{Type: DestOTLPHTTP, Endpoint: sinkB.Endpoint()}
	candidate.Destination = Destination{Type: DestOTLPHTTP, Endpoint: sinkC.Endpoint()}
	baseline.Input = input
	r, err := RenderExperiment(ExperimentSpec{ID: "measure", Baseline: baseline, Candidate: candidate}, Context{HostName: "measure-host"})
	if err != nil {
		t.Fatal(err)
	}
	c := testutil.StartCollector(t, string(r.YAML))
	need := warmupScrapes + measuredScrapes + 1
	distinct := func(bs []pmetric.Metrics) int {
		seen := map[pcommon.Timestamp]bool{}
		for _, md := range bs {
			rms := md.ResourceMetrics()
			for i := range rms.Len() {
				sms := rms.At(i).ScopeMetrics()
				for j := range sms.Len() {
					ms := sms.At(j).Metrics()
					for k := range ms.Len() {
						if ms.At(k).Type() == pmetric.MetricTypeSum && ms.At(k).Sum().DataPoints().Len() > 0 {
							seen[ms.At(k).Sum().DataPoints().At(0).Timestamp()] = true
						}
					}
				}
			}
		}
		return len(seen)
	}
	// The timeout only bounds a hung collector.
	sinkC.WaitFor(t, 2*time.Minute, func(bs []pmetric.Metrics) bool {
		if exited, err := c.Exited(); exited {
			t.Fatalf("collector exited: %v\n%s", err, c.Log())
		}
		return distinct(bs) >= need && distinct(sinkB.Metrics()) >= need
	})
	c.Stop()
	run := &experimentRun{baseline: byScrape(sinkB.Metrics()), candidate: byScrape(sinkC.Metrics()), config: r.YAML, log: c.Log()}
	var ts []pcommon.Timestamp
	for k := range run.baseline {
		if _, ok := run.candidate[k]; ok {
			ts = append(ts, k)
		}
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
	if len(ts) < warmupScrapes+measuredScrapes {
		t.Fatalf("only %d scrapes reached both sinks", len(ts))
	}
	run.measured = ts[warmupScrapes : warmupScrapes+measuredScrapes]
	if strings.Contains(c.Log(), "\terror\t") {
		t.Logf("collector logged errors:\n%s", c.Log())
	}
	return run
}

func (r *experimentRun) measure(template, profile string) Measurement {
	m := Measurement{Template: template, Profile: profile, Scrapes: len(r.measured)}
	for _, ts := range r.measured {
		b, c := r.baseline[ts], r.candidate[ts]
		m.InputSeries += float64(len(b.series))
		m.OutputSeries += float64(len(c.series))
		m.DuplicateSeries += c.duplicates
		seen, kept := corePIDs(b, nil), corePIDs(c, b)
		m.CriticalSeen += len(seen)
		for pid := range seen {
			if kept[pid] {
				m.CriticalKept++
			}
		}
	}
	n := float64(len(r.measured))
	m.InputSeries /= n
	m.OutputSeries /= n
	if m.InputSeries > 0 {
		m.ReductionPct = 100 * (1 - m.OutputSeries/m.InputSeries)
	}
	if m.CriticalSeen > 0 {
		m.CriticalPct = 100 * float64(m.CriticalKept) / float64(m.CriticalSeen)
	}
	return m
}
