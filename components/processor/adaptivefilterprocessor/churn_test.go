package adaptivefilterprocessor_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.yaml.in/yaml/v3"

	"github.com/phoenix-otel/phoenix/components/processor/adaptivefilterprocessor"
	"github.com/phoenix-otel/phoenix/components/receiver/loadgenreceiver"
	"github.com/phoenix-otel/phoenix/pipelines"
)

var churnHour = flag.Bool("churn-hour", false, "TestSeriesStayPutInAdaptiveFilter: play an hour and a half (542 scrapes) instead of 20 minutes")

// churnCase is one run: a loadgen profile through adaptive_filter as the
// catalog's process-adaptive-filter-v1 renders it (params over its
// defaults), then edit.
type churnCase struct {
	profile string
	churn   float64
	params  map[string]any
	edit    func(*adaptivefilterprocessor.Config)
}

// churnResult is what a run saw, per scrape after the first.
type churnResult struct {
	in, out []map[string]bool
	procs   []int    // process resources in the output
	states  []string // the controller's state after the scrape
	budget  float64
	dead    float64
}

// renderedConfig is the processor's config as the catalog renders it.
func renderedConfig(t *testing.T, params map[string]any) *adaptivefilterprocessor.Config {
	t.Helper()
	r, err := pipelines.Render(pipelines.Spec{Template: pipelines.TemplateAdaptiveFilter, Params: params,
		Input:       pipelines.Input{Mode: pipelines.InputLoadGen, LoadGen: &pipelines.LoadSim{Profile: "realistic"}},
		Destination: pipelines.Destination{Type: pipelines.DestNone}}, pipelines.Context{HostName: "churn-host"})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Processors map[string]map[string]any `yaml:"processors"`
	}
	if err := yaml.Unmarshal(r.YAML, &doc); err != nil {
		t.Fatal(err)
	}
	cfg := adaptivefilterprocessor.NewFactory().CreateDefaultConfig().(*adaptivefilterprocessor.Config)
	n := 0
	for id, m := range doc.Processors {
		if strings.HasPrefix(id, "adaptive_filter") {
			if err := confmap.NewFromStringMap(m).Unmarshal(cfg); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	if n != 1 {
		t.Fatalf("the template rendered %d adaptive_filter processors, want 1", n)
	}
	return cfg
}

// churnRun plays a loadgen profile (logical 10 s scrapes) through the
// processor and returns the input's and the output's series by scrape, with
// the controller's state from the processor's own telemetry.
func churnRun(t *testing.T, c churnCase, scrapes int) churnResult {
	t.Helper()
	cfg := renderedConfig(t, c.params)
	if c.edit != nil {
		c.edit(cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tel := componenttest.NewTelemetry()
	defer func() { _ = tel.Shutdown(ctx) }()
	f := adaptivefilterprocessor.NewFactory()
	set := processortest.NewNopSettings(f.Type())
	set.TelemetrySettings = tel.NewTelemetrySettings()
	res := churnResult{budget: float64(cfg.MaxCardinality), dead: cfg.Controller.DeadBand}
	var last map[string]bool
	out := consumerFunc(func(_ context.Context, md pmetric.Metrics) error {
		last = seriesOf(md)
		return nil
	})
	proc, err := f.CreateMetrics(ctx, set, cfg, out)
	if err != nil {
		t.Fatal(err)
	}
	rf := loadgenreceiver.NewFactory()
	rcfg := rf.CreateDefaultConfig().(*loadgenreceiver.Config)
	rcfg.Profile = c.profile
	rcfg.ChurnRate = c.churn
	rcfg.HostName = "churn-host"
	rcfg.CollectionInterval = time.Millisecond
	rcfg.InitialDelay = 0
	rcfg.Step = 10 * time.Second
	done := make(chan struct{})
	tee := consumerFunc(func(ctx context.Context, md pmetric.Metrics) error {
		if len(res.in) >= scrapes {
			return nil
		}
		in := seriesOf(md)
		last = map[string]bool{} // a batch that is all dropped is not passed on
		if err := proc.ConsumeMetrics(ctx, md); err != nil {
			return err
		}
		res.in = append(res.in, in)
		res.out = append(res.out, last)
		res.procs = append(res.procs, resources(last))
		res.states = append(res.states, controllerState(t, tel))
		if len(res.in) == scrapes {
			close(done)
		}
		return nil
	})
	rcv, err := rf.CreateMetrics(ctx, receivertest.NewNopSettings(rf.Type()), rcfg, tee)
	if err != nil {
		t.Fatal(err)
	}
	if err := proc.Start(ctx, componentHost{}); err != nil {
		t.Fatal(err)
	}
	if err := rcv.Start(ctx, componentHost{}); err != nil {
		t.Fatal(err)
	}
	<-done
	if err := rcv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := proc.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	return res
}

// controllerState is the state label of controller.state (the processor
// reports 1 for its current state only).
func controllerState(t *testing.T, tel *componenttest.Telemetry) string {
	m, err := tel.GetMetric("phoenix.adaptive_filter.controller.state")
	if err != nil {
		return "" // no batch decided yet
	}
	g, ok := m.Data.(metricdata.Gauge[float64])
	if !ok {
		t.Fatalf("controller.state is %T", m.Data)
	}
	for _, dp := range g.DataPoints {
		if v, ok := dp.Attributes.Value(attribute.Key("state")); ok && dp.Value == 1 {
			return v.AsString()
		}
	}
	return ""
}

// resources counts the process resources behind a scrape's series.
func resources(s map[string]bool) int {
	rs := map[string]bool{}
	for k := range s {
		rs[k[:strings.IndexByte(k, '|')]] = true
	}
	return len(rs)
}

// inBand counts the intervals after skip whose output lies in the
// controller's band, strictly, and also counting the intervals where the
// controller is saturated_low (every eligible process kept, fewer than the
// band's floor: the budget does not bind).
func (r churnResult) inBand(skip int) (strict, orSatLow, n int) {
	sp := r.budget / (1 + r.dead)
	lo, hi := sp*(1-r.dead), r.budget
	for i := skip; i < len(r.procs); i++ {
		n++
		p := float64(r.procs[i])
		if p >= lo && p <= hi {
			strict++
			orSatLow++
		} else if r.states[i] == "saturated_low" && p < lo {
			orSatLow++
		}
	}
	return strict, orSatLow, n
}

type componentHost struct{}

func (componentHost) GetExtensions() map[component.ID]component.Component { return nil }

type consumerFunc func(context.Context, pmetric.Metrics) error

func (f consumerFunc) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }
func (f consumerFunc) ConsumeMetrics(ctx context.Context, md pmetric.Metrics) error {
	return f(ctx, md)
}

// seriesOf is the set of series of one scrape, as a backend identifies
// them: resource attributes, metric name, data-point attributes.
func seriesOf(md pmetric.Metrics) map[string]bool {
	out := map[string]bool{}
	for _, rm := range md.ResourceMetrics().All() {
		ra, _ := json.Marshal(rm.Resource().Attributes().AsRaw())
		for _, sm := range rm.ScopeMetrics().All() {
			for _, m := range sm.Metrics().All() {
				var dps pmetric.NumberDataPointSlice
				switch m.Type() {
				case pmetric.MetricTypeSum:
					dps = m.Sum().DataPoints()
				case pmetric.MetricTypeGauge:
					dps = m.Gauge().DataPoints()
				default:
					continue
				}
				for _, dp := range dps.All() {
					key := string(ra) + "|" + m.Name()
					for k, v := range dp.Attributes().All() {
						key += "|" + k + "=" + v.AsString()
					}
					out[key] = true
				}
			}
		}
	}
	return out
}

// windowRatio is distinct series ÷ mean series per scrape over windows of w
// scrapes after skip: the mean and the worst window.
func windowRatio(s []map[string]bool, skip, w int) (mean, worst float64, n int) {
	for i := skip; i+w <= len(s); i += w {
		distinct := map[string]bool{}
		sum := 0
		for _, sc := range s[i : i+w] {
			for k := range sc {
				distinct[k] = true
			}
			sum += len(sc)
		}
		r := float64(len(distinct)) / (float64(max(sum, 1)) / float64(w))
		mean += r
		worst = max(worst, r)
		n++
	}
	if n > 0 {
		mean /= float64(n)
	}
	return mean, worst, n
}

func meanOf[T int | float64](s []T) float64 {
	var sum T
	for _, v := range s {
		sum += v
	}
	return float64(sum) / float64(max(len(s), 1))
}

// figure is one line of the README's churn table.
func (r churnResult) figure(name string, skip int) string {
	m10, w10, _ := windowRatio(r.out, skip, 60)
	strict, sat, n := r.inBand(skip)
	sizes := make([]int, 0, len(r.out))
	for _, s := range r.out[skip:] {
		sizes = append(sizes, len(s))
	}
	line := fmt.Sprintf("%s: %.0f series/scrape, %.1f processes/scrape; 10 min %.2f× (worst %.2f×)", name, meanOf(sizes), meanOf(r.procs[skip:]), m10, w10)
	if m60, w60, k := windowRatio(r.out, skip, 360); k > 0 {
		line += fmt.Sprintf(", 1 h %.2f× (worst %.2f×)", m60, w60)
	}
	return line + fmt.Sprintf("; in band %d/%d (%.0f%%), in band or saturated_low %d/%d (%.0f%%)", strict, n, 100*float64(strict)/float64(n), sat, n, 100*float64(sat)/float64(n))
}

var churnSweep = flag.Bool("churn-sweep", false, "TestChurnSweep: log the figures for probation × budget on realistic and process-churn")

// TestChurnSweep logs the figures the README's churn table and the
// template's defaults come from (no check).
//
//	go test -run TestChurnSweep -churn-sweep -v
func TestChurnSweep(t *testing.T) {
	if !*churnSweep {
		t.Skip("pass -churn-sweep")
	}
	scrapes := 2 + 2*60
	if *churnHour {
		scrapes = 2 + 9*60
	}
	for _, prof := range []struct {
		name  string
		churn float64
	}{{"realistic", 0}, {"process-churn", 1}} {
		for _, budget := range []int{100, 60, 24} {
			for _, prob := range []time.Duration{0, 2 * time.Minute, 5 * time.Minute, 6 * time.Minute, 8 * time.Minute, 10 * time.Minute} {
				r := churnRun(t, churnCase{profile: prof.name, churn: prof.churn,
					params: map[string]any{"host_load": false, "max_cardinality": budget},
					edit:   func(c *adaptivefilterprocessor.Config) { c.Probation = prob }}, scrapes)
				t.Log(r.figure(fmt.Sprintf("%s budget=%d probation=%s", prof.name, budget, prob), 2))
			}
		}
	}
	// The other knobs at the default probation.
	for _, c := range []struct {
		name  string
		churn float64
		edit  func(*adaptivefilterprocessor.Config)
	}{
		{"retention=0", 1, func(c *adaptivefilterprocessor.Config) { c.Retention = 0 }},
		{"retention=15m", 1, func(c *adaptivefilterprocessor.Config) { c.Retention = 15 * time.Minute }},
		{"dead_band=0.05", 1, func(c *adaptivefilterprocessor.Config) { c.Controller.DeadBand = 0.05 }},
		{"dead_band=0.2", 1, func(c *adaptivefilterprocessor.Config) { c.Controller.DeadBand = 0.2 }},
	} {
		for _, prof := range []string{"realistic", "process-churn"} {
			churn := c.churn
			if prof == "realistic" {
				if c.churn != 1 {
					continue
				}
				churn = 0
			}
			for _, budget := range []int{100, map[string]int{"realistic": 60, "process-churn": 24}[prof]} {
				r := churnRun(t, churnCase{profile: prof, churn: churn,
					params: map[string]any{"host_load": false, "max_cardinality": budget}, edit: c.edit}, scrapes)
				t.Log(r.figure(fmt.Sprintf("%s budget=%d %s", prof, budget, c.name), 2))
			}
		}
	}
}

// TestSeriesStayPutInAdaptiveFilter is issue 12's goals for the adaptive
// filter, on loadgen's profiles played through the processor as the
// catalog's process-adaptive-filter-v1 renders it with its defaults (host
// load off: the simulated CPU is not this machine's):
//
//   - distinct series over every 10-minute window (60 scrapes of 10 s)
//     within 1.2x the series per scrape;
//   - the output inside the controller's band in at least 90% of intervals
//     after two of warm-up, where an interval in which the controller is
//     saturated_low (every eligible process kept, fewer than the band's
//     floor: the budget does not bind) counts as inside. The strict figure
//     is logged, and held to 90% where the budget binds.
//
// pipelines.TestAdaptiveSeriesStayPut measures the same in the built
// collector.
func TestSeriesStayPutInAdaptiveFilter(t *testing.T) {
	scrapes := 2 + 2*60 // two 10-minute windows
	switch {
	case *churnHour:
		scrapes = 2 + 9*60
	case testing.Short():
		scrapes = 2 + 60 // one window: the mutation run plays it per mutant
	}
	for _, c := range []struct {
		profile string
		churn   float64
		budget  int  // 0: the template's default
		binds   bool // the budget is under the eligible processes: hold the strict band to 90%
	}{
		{"realistic", 0, 0, false},
		{"process-churn", 1, 0, false},
		{"realistic", 0, 60, true},
		{"process-churn", 1, 24, true},
	} {
		params := map[string]any{"host_load": false}
		if c.budget > 0 {
			params["max_cardinality"] = c.budget
		}
		name := fmt.Sprintf("%s budget=%v", c.profile, map[bool]any{true: c.budget, false: "default"}[c.budget > 0])
		r := churnRun(t, churnCase{profile: c.profile, churn: c.churn, params: params}, scrapes)
		t.Log(r.figure(name, 2))
		for w, i := 0, 2; i+60 <= len(r.out); w, i = w+1, i+60 {
			if x, _, _ := windowRatio(r.out[i:i+60], 0, 60); x > 1.2 {
				t.Errorf("%s: window %d (scrapes %d-%d): distinct series %.2fx the series per scrape, goal <= 1.2x", name, w, i, i+59, x)
			}
		}
		strict, sat, n := r.inBand(2)
		if float64(sat) < 0.9*float64(n) {
			t.Errorf("%s: output inside its band or saturated_low in %d of %d intervals, goal >= 90%%", name, sat, n)
		}
		if c.binds && float64(strict) < 0.9*float64(n) {
			t.Errorf("%s: output inside its band in %d of %d intervals, goal >= 90%% where the budget binds", name, strict, n)
		}
	}
}
