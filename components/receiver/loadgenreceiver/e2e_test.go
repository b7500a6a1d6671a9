package loadgenreceiver

import (
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/phoenix-otel/phoenix/internal/testutil"
)

// interval is one scrape of one profile as the exporter delivered it.
type interval struct {
	pids     map[int64]bool
	cmdlines map[string]bool
}

// intervalsByHost groups every received resource by host.name and by the
// timestamp of its data points (one scrape has one timestamp), in time order.
func intervalsByHost(batches []pmetric.Metrics) map[string][]interval {
	type key struct {
		host string
		ts   uint64
	}
	acc := map[key]*interval{}
	var order []key
	for _, md := range batches {
		for i := 0; i < md.ResourceMetrics().Len(); i++ {
			rm := md.ResourceMetrics().At(i)
			attrs := rm.Resource().Attributes()
			host, _ := attrs.Get("host.name")
			pid, _ := attrs.Get("process.pid")
			cmd, _ := attrs.Get("process.command_line")
			ts := uint64(rm.ScopeMetrics().At(0).Metrics().At(0).Sum().DataPoints().At(0).Timestamp())
			k := key{host.Str(), ts}
			iv, ok := acc[k]
			if !ok {
				iv = &interval{pids: map[int64]bool{}, cmdlines: map[string]bool{}}
				acc[k] = iv
				order = append(order, k)
			}
			iv.pids[pid.Int()] = true
			iv.cmdlines[cmd.Str()] = true
		}
	}
	out := map[string][]interval{}
	for _, k := range order { // batches arrive in scrape order per receiver
		out[k.host] = append(out[k.host], *acc[k])
	}
	return out
}

// TestBuiltCollectorRunsEveryProfile runs bin/phoenix-otelcol with one loadgen
// receiver per built-in profile, exports over OTLP/HTTP to a sink, and checks
// the counts per interval.
func TestBuiltCollectorRunsEveryProfile(t *testing.T) {
	sink := testutil.NewOTLPSink(t)
	cfg := fmt.Sprintf(`
receivers:
  loadgen/realistic:
    profile: realistic
    collection_interval: 500ms
    host_name: realistic
  loadgen/highcard:
    profile: high-cardinality
    process_count: 1200
    collection_interval: 1s
    host_name: highcard
  loadgen/churn:
    profile: process-churn
    churn_rate: 25
    collection_interval: 200ms
    host_name: churn
exporters:
  otlp_http:
    endpoint: %s
    compression: none
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    metrics:
      receivers: [loadgen/realistic, loadgen/highcard, loadgen/churn]
      exporters: [otlp_http]
`, sink.Endpoint())
	testutil.StartCollector(t, cfg)
	var c testutil.ScrapeCounter // reads each batch once
	sink.WaitFor(t, 2*time.Minute, func(b []pmetric.Metrics) bool {
		c.Add(b)
		return c.Scrapes("realistic") >= 5 && c.Scrapes("highcard") >= 3 && c.Scrapes("churn") >= 12
	})
	iv := intervalsByHost(sink.Metrics())

	for _, tc := range []struct {
		host string
		want int
	}{{"realistic", 100}, {"highcard", 1200}, {"churn", 80}} {
		// The last interval may still be in flight; check the complete ones.
		for i, x := range iv[tc.host][:len(iv[tc.host])-1] {
			if len(x.pids) != tc.want {
				t.Errorf("%s interval %d: %d resources, want %d", tc.host, i, len(x.pids), tc.want)
			}
		}
	}

	hc := iv["highcard"][0]
	if len(hc.cmdlines) < 1000 {
		t.Errorf("high-cardinality: %d distinct command lines, want >= 1000", len(hc.cmdlines))
	}

	// Churn: 25 replacements per second among the 60 churning processes. At
	// 200 ms a scrape that is 5 kills, of which a few hit a process born in
	// the same interval and never seen: 60*(1-e^(-5/60)) = 4.8 new PIDs per
	// interval is the expectation. Over 10 intervals that is 48; allow ±25%.
	ch := iv["churn"]
	newPIDs := 0
	for i := 1; i <= 10; i++ {
		for pid := range ch[i].pids {
			if !ch[i-1].pids[pid] {
				newPIDs++
			}
		}
	}
	if newPIDs < 36 || newPIDs > 60 {
		t.Errorf("process-churn: %d new PIDs over 10 intervals of 200 ms, want about 48 (25/s)", newPIDs)
	}
	t.Logf("churn: %d new PIDs over 2 s of logical time (%.1f/s)", newPIDs, float64(newPIDs)/2)
}
