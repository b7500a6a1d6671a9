package adaptivefilterprocessor

import (
	"fmt"
	"regexp"
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/phoenix-otel/phoenix/components/internal/processmetrics"
	"github.com/phoenix-otel/phoenix/internal/testutil"
)

// e2eInterval is one scrape of one host as a sink received it.
type e2eInterval struct {
	ts        pcommon.Timestamp
	processes int
	series    int
	critical  map[int64]bool
	pids      map[int64]bool
}

var e2eCritical = regexp.MustCompile(`^(nginx|postgres|mysqld|redis-server|kubelet|containerd|dockerd)$|kafka\.Kafka`)

// e2eIntervals groups the process resources of a sink by host and scrape
// timestamp (one scrape carries one timestamp), in time order.
func e2eIntervals(batches []pmetric.Metrics) map[string]map[pcommon.Timestamp]*e2eInterval {
	out := map[string]map[pcommon.Timestamp]*e2eInterval{}
	var r processmetrics.Resource
	for _, md := range batches {
		rms := md.ResourceMetrics()
		for i := 0; i < rms.Len(); i++ {
			if !processmetrics.Read(rms.At(i), &r) {
				continue
			}
			if out[r.Host] == nil {
				out[r.Host] = map[pcommon.Timestamp]*e2eInterval{}
			}
			iv := out[r.Host][r.Sample.Timestamp]
			if iv == nil {
				iv = &e2eInterval{ts: r.Sample.Timestamp, critical: map[int64]bool{}, pids: map[int64]bool{}}
				out[r.Host][r.Sample.Timestamp] = iv
			}
			iv.processes++
			iv.pids[r.PID] = true
			iv.series += dataPoints(rms.At(i))
			attrs := rms.At(i).Resource().Attributes()
			if e2eCritical.MatchString(r.Name) || e2eCritical.MatchString(processmetrics.CommandLine(attrs)) {
				iv.critical[r.PID] = true
			}
		}
	}
	return out
}

func sortedTS(m map[pcommon.Timestamp]*e2eInterval) []pcommon.Timestamp {
	ts := make([]pcommon.Timestamp, 0, len(m))
	for k := range m {
		ts = append(ts, k)
	}
	slices.Sort(ts)
	return ts
}

// TestBuiltCollector runs bin/phoenix-otelcol with loadgen high-cardinality
// (2,000 processes) and process-churn (400 processes, 50 replaced per
// second) at 1 s intervals. The same receivers
// feed three pipelines: the raw input, adaptive_filter with its defaults
// (enforce_budget on), and adaptive_filter with the cap off so that the
// controller alone has to hold the budget. Each exports over OTLP/HTTP to
// its own sink.
func TestBuiltCollector(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the built collector for about 40 s")
	}
	const budget = 100
	const warmup = 10 // intervals to converge (the bound is 6; 1 s intervals)
	const measured = 20
	in, out, nocap := testutil.NewOTLPSink(t), testutil.NewOTLPSink(t), testutil.NewOTLPSink(t)
	cfg := fmt.Sprintf(`
receivers:
  loadgen/highcard:
    profile: high-cardinality
    process_count: 2000
    collection_interval: 1s
    host_name: highcard
  loadgen/churn:
    profile: process-churn
    process_count: 400
    churn_rate: 50
    collection_interval: 1s
    host_name: churn
processors:
  adaptive_filter:
    max_cardinality: %[1]d
    critical_processes: ['^(nginx|postgres|mysqld|redis-server|kubelet|containerd|dockerd)$', 'kafka\.Kafka']
    retention: 10s
    host_load:
      cpu_count: 64
  adaptive_filter/nocap:
    max_cardinality: %[1]d
    critical_processes: ['^(nginx|postgres|mysqld|redis-server|kubelet|containerd|dockerd)$', 'kafka\.Kafka']
    retention: 10s
    host_load:
      cpu_count: 64
    controller:
      enforce_budget: false
exporters:
  otlp_http/in:
    endpoint: %[2]s
    compression: none
  otlp_http/out:
    endpoint: %[3]s
    compression: none
  otlp_http/nocap:
    endpoint: %[4]s
    compression: none
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    metrics/in:
      receivers: [loadgen/highcard, loadgen/churn]
      exporters: [otlp_http/in]
    metrics/out:
      receivers: [loadgen/highcard, loadgen/churn]
      processors: [adaptive_filter]
      exporters: [otlp_http/out]
    metrics/nocap:
      receivers: [loadgen/highcard, loadgen/churn]
      processors: [adaptive_filter/nocap]
      exporters: [otlp_http/nocap]
`, budget, in.Endpoint(), out.Endpoint(), nocap.Endpoint())
	testutil.StartCollector(t, cfg)
	for _, sink := range []struct {
		s       *testutil.OTLPSink
		timeout time.Duration
	}{{out, 3 * time.Minute}, {nocap, time.Minute}, {in, time.Minute}} {
		var c testutil.ScrapeCounter
		sink.s.WaitFor(t, sink.timeout, func(b []pmetric.Metrics) bool {
			c.Add(b)
			return c.Scrapes("highcard") >= warmup+measured+1 && c.Scrapes("churn") >= warmup+measured+1
		})
	}

	inIv, outIv, nocapIv := e2eIntervals(in.Metrics()), e2eIntervals(out.Metrics()), e2eIntervals(nocap.Metrics())
	for _, host := range []string{"highcard", "churn"} {
		ts := sortedTS(inIv[host])
		// The last interval may still be in flight.
		ts = ts[:len(ts)-1]
		var inSeries, outSeries, inProcs, outProcs, critIn, critOut int
		overAll, overNocap, maxNocap, n := 0, 0, 0, 0
		convergedAt := -1
		// Flaps: a process that was in the output, left it while still in
		// the input, and came back (a gap in its series).
		wasOut, leftOut := map[int64]bool{}, map[int64]bool{}
		flaps := 0
		for i, stamp := range ts {
			src := inIv[host][stamp]
			got := outIv[host][stamp]
			nc := nocapIv[host][stamp]
			if got == nil || nc == nil {
				t.Fatalf("%s interval %d: missing from the filtered output", host, i)
			}
			// Always: the cap holds the budget and every critical process
			// is kept.
			if got.processes > budget {
				t.Errorf("%s interval %d: %d processes out, over the budget of %d", host, i, got.processes, budget)
				overAll++
			}
			for pid := range src.critical {
				if !got.critical[pid] || !nc.critical[pid] {
					t.Errorf("%s interval %d: critical pid %d missing from the output", host, i, pid)
				}
			}
			critIn += len(src.critical)
			critOut += len(got.critical)
			// Convergence: the first interval the controller alone gets the
			// output under the budget; how well it then holds it is
			// overNocap below (a single noisy interval must not count as
			// never having converged).
			if nc.processes <= budget && convergedAt < 0 {
				convergedAt = i
			}
			for pid := range src.pids {
				if i < warmup {
					continue // start-up transients are not flaps
				}
				switch {
				case got.pids[pid] && leftOut[pid]:
					flaps++
					delete(leftOut, pid)
				case got.pids[pid]:
					wasOut[pid] = true
				case wasOut[pid]:
					leftOut[pid] = true
				}
			}
			if i < warmup {
				continue
			}
			n++
			inSeries += src.series
			outSeries += got.series
			inProcs += src.processes
			outProcs += got.processes
			maxNocap = max(maxNocap, nc.processes)
			if nc.processes > budget {
				overNocap++
			}
		}
		reduction := 100 * (1 - float64(outSeries)/float64(inSeries))
		t.Logf("%s: %d intervals after %d of warm-up: input %.0f processes / %.0f series per interval, output %.0f / %.0f: %.1f%% fewer series; "+
			"critical retention %d/%d (%.0f%%) over all %d intervals; %d re-entries (flaps) in the output; "+
			"without the cap: first under budget at interval %d, max %d processes after warm-up, %d intervals over budget",
			host, n, warmup, float64(inProcs)/float64(n), float64(inSeries)/float64(n), float64(outProcs)/float64(n), float64(outSeries)/float64(n),
			reduction, critOut, critIn, 100*float64(critOut)/float64(critIn), len(ts), flaps, convergedAt, maxNocap, overNocap)
		if n < measured {
			t.Errorf("%s: only %d intervals measured", host, n)
		}
		if critIn == 0 {
			t.Errorf("%s: no critical process in the input", host)
		}
		// The controller alone (no cap) holds the budget after convergence,
		// allowing one noisy interval in ten.
		if overNocap > n/10 {
			t.Errorf("%s: without the cap, %d of %d intervals after convergence were over the budget", host, overNocap, n)
		}
		if convergedAt < 0 || convergedAt > warmup {
			t.Errorf("%s: without the cap the output did not get under the budget within %d intervals (converged at %d)", host, warmup, convergedAt)
		}
		if host == "highcard" && reduction < 90 {
			t.Errorf("highcard: %.1f%% reduction, want >= 90%% (2,000 processes into a budget of %d)", reduction, budget)
		}
	}
}
