package pipelines

import (
	"flag"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/phoenix-otel/phoenix/internal/testutil"
)

var churnAdaptiveDebug = flag.Bool("churn-adaptive-debug", false, "TestAdaptiveSeriesStayPut: log the processes that were not in every scrape")

var churnAdaptiveCheck = flag.Bool("churn-adaptive-check", false, "TestAdaptiveSeriesStayPut: fail when a goal case misses 1.2x distinct over 10 min or 90% of intervals in band")

// TestAdaptiveSeriesStayPut is TestSeriesStayPut for the adaptive filter
// alone, at the template's default budget and at budgets that bind, with the
// processor's probation set per case. With -churn-adaptive-check, cases
// marked ratio must keep distinct series over 10 minutes within 1.2x the
// per-scrape count, and cases marked band (the budget binds) the output
// inside the controller's band in at least 90% of intervals. Where the budget
// does not bind the controller is saturated_low (every eligible process
// kept), which the adaptive filter's TestSeriesStayPutInAdaptiveFilter reads
// from the processor's telemetry; here only the output is seen.
//
//	go test ./pipelines -run TestAdaptiveSeriesStayPut -churn-scrapes 62 -churn-adaptive-check -v
//
// A full 1-hour window needs -churn-scrapes 364: two scrapes of warm-up and
// the last one (cut by the stop) do not count, and 360 leave 359.
func TestAdaptiveSeriesStayPut(t *testing.T) {
	if *churnScrapes == 0 {
		t.Skip("pass -churn-scrapes 62 (10 minutes of 10 s scrapes) or 364 (an hour)")
	}
	bin := testutil.OtelcolBinary(t)
	for _, c := range []struct {
		profile   string
		budget    int
		probation string // "" = the processor's default
		ratio     bool
		band      bool
	}{
		{"realistic", 100, "0s", false, false},
		{"realistic", 100, "", true, false},
		{"realistic", 60, "", true, true},
		{"process-churn", 100, "2m", false, false},
		{"process-churn", 100, "5m", false, false},
		{"process-churn", 100, "", true, false},
		{"process-churn", 24, "", true, true},
	} {
		name := c.profile + "/budget=" + itoa(c.budget) + "/probation=" + map[bool]string{true: "default", false: c.probation}[c.probation == ""]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			requireComponents(t, bin, TemplateAdaptiveFilter)
			sim := &LoadSim{Profile: c.profile, Seed: 1}
			if c.profile == "process-churn" {
				sim.ChurnRate = 1 // per second: 10 replacements per scrape
			}
			params := map[string]any{"collection_interval": "1s", "batch_timeout": "200ms", "host_load": false, "max_cardinality": c.budget}
			sink := testutil.NewOTLPSink(t)
			r, err := Render(Spec{Template: TemplateAdaptiveFilter, Params: params, Input: Input{Mode: InputLoadGen, LoadGen: sim},
				Destination: Destination{Type: DestOTLPHTTP, Endpoint: sink.Endpoint()}}, Context{HostName: "churn-host"})
			if err != nil {
				t.Fatal(err)
			}
			cfg := editConfig(t, r.YAML, func(m map[string]any) {
				m["receivers"].(map[string]any)[idLoadGen].(map[string]any)["step"] = "10s"
				for id, p := range m["processors"].(map[string]any) {
					if strings.HasPrefix(id, "adaptive_filter") && c.probation != "" {
						p.(map[string]any)["probation"] = c.probation
					}
				}
				withTelemetry(t, m)
			})
			col := testutil.StartCollector(t, cfg)
			want := *churnScrapes + 2
			sink.WaitFor(t, time.Duration(want)*3*time.Second+time.Minute, func(bs []pmetric.Metrics) bool {
				if exited, err := col.Exited(); exited {
					t.Fatalf("collector exited: %v", err)
				}
				return len(stampsOf(bs)) >= want
			})
			col.Stop()
			s := seriesByScrape(sink.Metrics())
			if *churnAdaptiveDebug {
				seen := map[string]int{}
				for _, sc := range byScrape(sink.Metrics()) {
					for _, r := range sc.resources {
						seen[fmt.Sprint(r.attrs["process.command_line"], " pid=", r.attrs[attrPID])]++
					}
				}
				for k, v := range seen {
					if v < len(s.stamps)-2 {
						t.Logf("transient: %s in %d scrapes", k, v)
					}
				}
			}
			lo, hi := float64(c.budget)*(1-0.10)/(1+0.10), float64(c.budget)
			in, n := s.processesInBand(2, lo, hi)
			ratio := s.meanWindowRatio(2, 60)
			t.Logf("%s: %.0f series/scrape, %.1f processes/scrape; distinct ÷ per scrape over 10 min %s, over 1 h %s; inside the band [%.1f, %.0f] in %d of %d intervals (%.0f%%)",
				name, s.meanPerScrape(2), s.meanProcesses(2), s.windowRatios(2, 60), s.windowRatios(2, 360), lo, hi, in, n, 100*float64(in)/float64(max(n, 1)))
			if *churnAdaptiveCheck {
				if c.ratio && ratio > 1.2 {
					t.Errorf("distinct series over 10 min are %.2fx the per-scrape count, goal <= 1.2x", ratio)
				}
				if c.band && float64(in) < 0.9*float64(n) {
					t.Errorf("output inside its band in %d of %d intervals, goal >= 90%%", in, n)
				}
			}
		})
	}
}

// meanWindowRatio is windowRatios' mean as a number (0 without a full window).
func (s scrapes) meanWindowRatio(skip, w int) float64 {
	var sum float64
	var k int
	for i := skip; i+w <= len(s.stamps); i += w {
		distinct := map[string]bool{}
		total := 0
		for _, ts := range s.stamps[i : i+w] {
			for key := range s.series[ts] {
				distinct[key] = true
			}
			total += len(s.series[ts])
		}
		sum += float64(len(distinct)) / (float64(total) / float64(w))
		k++
	}
	if k == 0 {
		return 0
	}
	return sum / float64(k)
}

func (s scrapes) meanProcesses(skip int) float64 {
	skip = min(skip, len(s.stamps))
	sum := 0
	for _, ts := range s.stamps[skip:] {
		sum += s.procs[ts]
	}
	return float64(sum) / float64(max(len(s.stamps)-skip, 1))
}
