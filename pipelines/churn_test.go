package pipelines

import (
	"flag"
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/phoenix-otel/phoenix/internal/testutil"
)

var churnScrapes = flag.Int("churn-scrapes", 0, "TestSeriesStayPut: logical 10 s scrapes to play per template (360 = 1 h); 0 skips the test")

// TestSeriesStayPut measures what a backend bills: distinct series over
// windows of 10 minutes and 1 hour, against the series per scrape, for each
// template under churn, in the built collector. Time is compressed: the
// loadgen receiver scrapes every second and advances its simulation by 10 s
// with logical timestamps (Config.Step), so the processors, which read only
// data timestamps and batch order, see 10 s scrapes. (The adaptive filter's
// host-load input is off: it would read the real host's load.)
//
//	go test ./pipelines -run TestSeriesStayPut -churn-scrapes 360 -v -timeout 30m
func TestSeriesStayPut(t *testing.T) {
	if *churnScrapes == 0 {
		t.Skip("pass -churn-scrapes 360 (an hour of 10 s scrapes, about 6 minutes)")
	}
	bin := testutil.OtelcolBinary(t)
	for _, profile := range []string{"realistic", "process-churn"} {
		for _, tmpl := range []string{TemplatePriorityBased, TemplateTopK, TemplateAggregated, TemplateAdaptiveFilter} {
			t.Run(profile+"/"+tmpl, func(t *testing.T) {
				t.Parallel()
				requireComponents(t, bin, tmpl)
				sim := &LoadSim{Profile: profile, Seed: 1}
				if profile == "process-churn" {
					sim.ChurnRate = 1 // per second: 10 replacements per scrape
				}
				params := map[string]any{"collection_interval": "1s", "batch_timeout": "200ms"}
				if tmpl == TemplateAdaptiveFilter {
					params["host_load"] = false
				}
				sinkB, sinkC := testutil.NewOTLPSink(t), testutil.NewOTLPSink(t)
				r, err := RenderExperiment(ExperimentSpec{ID: "churn",
					Baseline:  Spec{Template: TemplateBaseline, Params: map[string]any{"collection_interval": "1s", "batch_timeout": "200ms"}, Input: Input{Mode: InputLoadGen, LoadGen: sim}, Destination: Destination{Type: DestOTLPHTTP, Endpoint: sinkB.Endpoint()}},
					Candidate: Spec{Template: tmpl, Params: params, Destination: Destination{Type: DestOTLPHTTP, Endpoint: sinkC.Endpoint()}},
				}, Context{HostName: "churn-host"})
				if err != nil {
					t.Fatal(err)
				}
				cfg := editConfig(t, r.YAML, func(m map[string]any) {
					m["receivers"].(map[string]any)[idLoadGen].(map[string]any)["step"] = "10s"
					withTelemetry(t, m) // its own port: the collectors run side by side
				})
				c := testutil.StartCollector(t, cfg)
				// Two warm-up scrapes are skipped and the last one may be
				// cut by the stop: 360 leaves one full hour.
				want := *churnScrapes + 3
				sinkC.WaitFor(t, time.Duration(want)*3*time.Second+time.Minute, func(bs []pmetric.Metrics) bool {
					if exited, err := c.Exited(); exited {
						t.Fatalf("collector exited: %v", err)
					}
					return len(stampsOf(bs)) >= want && len(stampsOf(sinkB.Metrics())) >= want
				})
				c.Stop()
				base, cand := seriesByScrape(sinkB.Metrics()), seriesByScrape(sinkC.Metrics())
				line := func(name string, s scrapes) string {
					return fmt.Sprintf("%s: %.0f series/scrape; distinct ÷ per scrape over 10 min %s, over 1 h %s", name, s.meanPerScrape(2),
						s.windowRatios(2, 60), s.windowRatios(2, 360))
				}
				t.Logf("%s\n%s", line("baseline", base), line(tmpl, cand))
				if tmpl == TemplateAdaptiveFilter {
					in, n := cand.processesInBand(2, 100*(1-0.10)/(1+0.10), 100)
					t.Logf("adaptive-filter: processes per interval inside its band [%.1f, 100] in %d of %d intervals (%.0f%%)", 100*0.9/1.1, in, n, 100*float64(in)/float64(max(n, 1)))
				}
			})
		}
	}
}

// scrapes is what a sink received, by logical scrape timestamp: the series
// and process resources of each.
type scrapes struct {
	stamps []pcommon.Timestamp
	series map[pcommon.Timestamp]map[string]bool
	procs  map[pcommon.Timestamp]int
}

func stampsOf(bs []pmetric.Metrics) map[pcommon.Timestamp]bool {
	out := map[pcommon.Timestamp]bool{}
	for _, md := range bs {
		for _, rm := range md.ResourceMetrics().All() {
			for _, sm := range rm.ScopeMetrics().All() {
				for _, m := range sm.Metrics().All() {
					if m.Type() == pmetric.MetricTypeSum && m.Sum().DataPoints().Len() > 0 {
						out[m.Sum().DataPoints().At(0).Timestamp()] = true
					}
				}
			}
		}
	}
	return out
}

func seriesByScrape(bs []pmetric.Metrics) scrapes {
	s := scrapes{series: map[pcommon.Timestamp]map[string]bool{}, procs: map[pcommon.Timestamp]int{}}
	for ts, sc := range byScrape(bs) {
		set := map[string]bool{}
		for k := range sc.series {
			set[k] = true
		}
		s.series[ts] = set
		for _, r := range sc.resources {
			if _, ok := r.attrs[attrPID]; ok {
				s.procs[ts]++
			}
		}
		s.stamps = append(s.stamps, ts)
	}
	sort.Slice(s.stamps, func(i, j int) bool { return s.stamps[i] < s.stamps[j] })
	// The last scrape may be cut by the stop.
	if len(s.stamps) > 0 {
		s.stamps = s.stamps[:len(s.stamps)-1]
	}
	return s
}

func (s scrapes) meanPerScrape(skip int) float64 {
	skip = min(skip, len(s.stamps))
	n, sum := 0, 0
	for _, ts := range s.stamps[skip:] {
		sum += len(s.series[ts])
		n++
	}
	return float64(sum) / float64(max(n, 1))
}

// windowRatios is distinct series ÷ mean series per scrape for every full
// window of w scrapes after skip: "mean (max)".
func (s scrapes) windowRatios(skip, w int) string {
	var rs []float64
	for i := skip; i+w <= len(s.stamps); i += w {
		distinct := map[string]bool{}
		sum := 0
		for _, ts := range s.stamps[i : i+w] {
			for k := range s.series[ts] {
				distinct[k] = true
			}
			sum += len(s.series[ts])
		}
		rs = append(rs, float64(len(distinct))/(float64(sum)/float64(w)))
	}
	if len(rs) == 0 {
		return "(no full window)"
	}
	mean, hi := 0.0, 0.0
	for _, r := range rs {
		mean += r
		hi = math.Max(hi, r)
	}
	parts := []string{fmt.Sprintf("%.2f×", mean/float64(len(rs)))}
	if len(rs) > 1 {
		parts = append(parts, fmt.Sprintf("(max %.2f×, %d windows)", hi, len(rs)))
	}
	return strings.Join(parts, " ")
}

func (s scrapes) processesInBand(skip int, lo, hi float64) (in, n int) {
	skip = min(skip, len(s.stamps))
	for _, ts := range s.stamps[skip:] {
		p := float64(s.procs[ts])
		if p >= lo && p <= hi {
			in++
		}
		n++
	}
	return in, n
}
