package topkprocessor

import (
	"bufio"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/phoenix-otel/phoenix/components/internal/processmetrics"
	"github.com/phoenix-otel/phoenix/internal/testutil"
)

// The core services loadgen runs in every profile.
var e2eCritical = []string{"^nginx$", "^postgres$", "^mysqld$", "^redis-server$", `kafka\.Kafka`, "^kubelet$", "^containerd$", "^dockerd$"}

const (
	e2eK         = 20
	e2eMargin    = 5
	e2eIntervals = 3
)

// TestBuiltCollectorEveryProfile runs bin/phoenix-otelcol with the three
// built-in loadgen profiles (one host each) feeding three pipelines:
//
//	loadgen ─┬─> otlp_http -> sink "in"                         (the input)
//	         ├─> topk (K=20, margin 5, 3 intervals, ewma 3) -> otlp_http -> sink "out"
//	         └─> topk/nohyst (K=20, no margin, 1 interval, no smoothing) -> sink "nohyst"
//
// and measures, per profile and per scrape interval: the series reduction,
// critical-process presence, memory sum preservation, and, under churn, how
// often the kept set changes with and without hysteresis. Both run without
// probation: it measures hysteresis, and with probation (10m) loadgen's
// churners never enter either kept set, so neither flaps.
func TestBuiltCollectorEveryProfile(t *testing.T) {
	in, out, nohyst := testutil.NewOTLPSink(t), testutil.NewOTLPSink(t), testutil.NewOTLPSink(t)
	promPort := testutil.FreePort(t)
	crit := `["` + strings.Join(e2eCritical, `", "`) + `"]`
	crit = strings.ReplaceAll(crit, `\.`, `\\.`) // YAML double-quoted string
	cfg := fmt.Sprintf(`
receivers:
  loadgen/realistic:
    profile: realistic
    collection_interval: 500ms
    host_name: realistic
  loadgen/highcard:
    profile: high-cardinality
    collection_interval: 1s
    host_name: highcard
  loadgen/churn:
    profile: process-churn
    collection_interval: 250ms
    host_name: churn
processors:
  topk:
    top_k: %[1]d
    ranking: cpu
    smoothing: ewma
    window: 3
    critical_processes: %[2]s
    probation: 0s
    hysteresis:
      margin: %[3]d
      intervals: %[4]d
  topk/nohyst:
    top_k: %[1]d
    ranking: cpu
    smoothing: none
    window: 1
    critical_processes: %[2]s
    probation: 0s
    hysteresis:
      margin: 0
      intervals: 1
      band: 0
exporters:
  otlp_http/in:
    endpoint: %[5]s
    compression: none
  otlp_http/out:
    endpoint: %[6]s
    compression: none
  otlp_http/nohyst:
    endpoint: %[7]s
    compression: none
service:
  telemetry:
    metrics:
      level: normal
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: %[8]d
                without_scope_info: true
                without_type_suffix: true
                without_units: true
  pipelines:
    metrics/in:
      receivers: [loadgen/realistic, loadgen/highcard, loadgen/churn]
      exporters: [otlp_http/in]
    metrics/out:
      receivers: [loadgen/realistic, loadgen/highcard, loadgen/churn]
      processors: [topk]
      exporters: [otlp_http/out]
    metrics/nohyst:
      receivers: [loadgen/churn]
      processors: [topk/nohyst]
      exporters: [otlp_http/nohyst]
`, e2eK, crit, e2eMargin, e2eIntervals, in.Endpoint(), out.Endpoint(), nohyst.Endpoint(), promPort)
	col := testutil.StartCollector(t, cfg)

	// About 30 s: 30 high-cardinality intervals, 60 realistic, 120 churn.
	// The conditions read each batch once (testutil.ScrapeCounter).
	enough := func() func([]pmetric.Metrics) bool {
		var c testutil.ScrapeCounter
		return func(b []pmetric.Metrics) bool {
			c.Add(b)
			return c.Scrapes("highcard") >= 31 && c.Scrapes("realistic") >= 61 && c.Scrapes("churn") >= 121
		}
	}
	var nhc testutil.ScrapeCounter
	out.WaitFor(t, 3*time.Minute, enough()) // bounds a hung collector; not a performance check
	nohyst.WaitFor(t, time.Minute, func(b []pmetric.Metrics) bool { nhc.Add(b); return nhc.Scrapes("churn") >= 121 })
	in.WaitFor(t, time.Minute, enough())
	prom := scrapeText(t, fmt.Sprintf("http://127.0.0.1:%d/metrics", promPort))
	col.Stop()

	inIv, outIv, nhIv := e2eIntervalsByHost(in.Metrics()), e2eIntervalsByHost(out.Metrics()), e2eIntervalsByHost(nohyst.Metrics())
	for _, host := range []string{"realistic", "highcard", "churn"} {
		r := compare(t, host, inIv[host], outIv[host])
		t.Logf("%-9s %3d intervals: input %6.0f series/interval, output %5.1f (%.1f%% fewer); over the run %6d -> %4d unique series (%.1f%% fewer); critical present %d/%d; kept-set changes %.2f/interval, shortest kept run of a live process %d (-1: none left)",
			host, r.intervals, r.inSeriesPerInterval, r.outSeriesPerInterval, r.intervalReduction, r.inUnique, r.outUnique, r.uniqueReduction,
			r.criticalPresent, r.criticalExpected, r.changesPerInterval, r.shortestRun)
		if r.criticalPresent != r.criticalExpected {
			t.Errorf("%s: critical processes present %d of %d interval-slots", host, r.criticalPresent, r.criticalExpected)
		}
		if r.shortestRun >= 0 && r.shortestRun < e2eIntervals {
			t.Errorf("%s: a live process left the kept set after %d intervals; hysteresis allows no less than %d", host, r.shortestRun, e2eIntervals)
		}
		if host == "highcard" {
			if r.intervalReduction < 90 || r.uniqueReduction < 90 {
				t.Errorf("high-cardinality: reduction %.1f%% per interval, %.1f%% over the run; want >= 90%%", r.intervalReduction, r.uniqueReduction)
			}
		}
	}
	nh := compare(t, "churn", inIv["churn"], nhIv["churn"])
	hy := compare(t, "churn", inIv["churn"], outIv["churn"])
	t.Logf("churn without hysteresis: kept-set changes %.2f/interval (with: %.2f), unique output series %d (with: %d), shortest kept run %d",
		nh.changesPerInterval, hy.changesPerInterval, nh.outUnique, hy.outUnique, nh.shortestRun)
	if hy.changesPerInterval >= nh.changesPerInterval {
		t.Errorf("hysteresis did not reduce flapping: %.2f changes/interval with, %.2f without", hy.changesPerInterval, nh.changesPerInterval)
	}

	// The processor's own telemetry reached the collector's metrics endpoint,
	// per group.
	for _, host := range []string{"realistic", "highcard", "churn"} {
		if !strings.Contains(prom, "phoenix_topk_processes_in{") || !promHas(prom, "phoenix_topk_processes_kept", `host_name="`+host+`"`) {
			t.Errorf("collector metrics endpoint lacks phoenix_topk_processes_kept for host %s", host)
		}
	}
	for _, name := range []string{"phoenix_topk_processes_aggregated", "phoenix_topk_processes_critical_kept", "phoenix_topk_tracked_processes", "phoenix_topk_keep_set_changes"} {
		if !strings.Contains(prom, name) {
			t.Errorf("collector metrics endpoint lacks %s", name)
		}
	}
}

// e2eInterval is one scrape of one host as an exporter delivered it.
type e2eInterval struct {
	ts        pcommon.Timestamp
	procs     map[int64]e2eProc // by pid
	series    map[uint64]bool
	other     pmetric.ResourceMetrics
	hasOther  bool
	memory    float64 // process.memory.usage over all resources (other included)
	resources int
}

type e2eProc struct {
	critical bool
	start    pcommon.Timestamp
}

// e2eIntervalsByHost groups every received resource by host.name and data
// point timestamp (one scrape has one timestamp; the other resource carries
// the same), in time order. The last interval of each host may be partial
// and is dropped.
func e2eIntervalsByHost(batches []pmetric.Metrics) map[string][]*e2eInterval {
	critical, _ := processmetrics.NewCriticalMatcher(e2eCritical)
	type key struct {
		host string
		ts   pcommon.Timestamp
	}
	acc := map[key]*e2eInterval{}
	for _, md := range batches {
		for i := 0; i < md.ResourceMetrics().Len(); i++ {
			rm := md.ResourceMetrics().At(i)
			var r processmetrics.Resource
			if !processmetrics.Read(rm, &r) {
				continue
			}
			k := key{r.Host, r.Sample.Timestamp}
			iv, ok := acc[k]
			if !ok {
				iv = &e2eInterval{ts: k.ts, procs: map[int64]e2eProc{}, series: map[uint64]bool{}}
				acc[k] = iv
			}
			iv.resources++
			resHash := processmetrics.HashAttributes(rm.Resource().Attributes())
			forEachPoint(rm, func(metric, attr string, v float64, _ bool) {
				iv.series[processmetrics.Combine(processmetrics.Combine(resHash, processmetrics.HashString(metric)), processmetrics.HashString(attr))] = true
				if metric == "process.memory.usage" {
					iv.memory += v
				}
			})
			if r.HasPID {
				iv.procs[r.PID] = e2eProc{critical: critical.MatchResource(&r) >= 0, start: r.Sample.StartTime}
			} else {
				iv.other, iv.hasOther = rm, true
			}
		}
	}
	out := map[string][]*e2eInterval{}
	for k, iv := range acc {
		out[k.host] = append(out[k.host], iv)
	}
	for h, ivs := range out {
		sort.Slice(ivs, func(i, j int) bool { return ivs[i].ts < ivs[j].ts })
		if len(ivs) > 0 {
			out[h] = ivs[:len(ivs)-1]
		}
	}
	return out
}

type e2eResult struct {
	intervals                                 int
	inSeriesPerInterval, outSeriesPerInterval float64
	intervalReduction, uniqueReduction        float64
	inUnique, outUnique                       int
	criticalPresent, criticalExpected         int
	changesPerInterval                        float64
	shortestRun                               int
}

// compare lines up input and output intervals of one host by timestamp.
func compare(t *testing.T, host string, in, out []*e2eInterval) e2eResult {
	t.Helper()
	byTS := map[pcommon.Timestamp]*e2eInterval{}
	for _, iv := range out {
		byTS[iv.ts] = iv
	}
	var r e2eResult
	inU, outU := map[uint64]bool{}, map[uint64]bool{}
	var inS, outS int
	// Kept-set bookkeeping for live non-critical processes.
	type procKey struct {
		pid   int64
		start pcommon.Timestamp
	}
	runLen := map[procKey]int{}
	r.shortestRun = 1 << 30
	changes := 0
	var prevOut, prevIn *e2eInterval
	for _, iv := range in {
		o, ok := byTS[iv.ts]
		if !ok {
			continue // the output of this interval is not complete yet
		}
		r.intervals++
		inS += len(iv.series)
		outS += len(o.series)
		for s := range iv.series {
			inU[s] = true
		}
		for s := range o.series {
			outU[s] = true
		}
		// Memory: kept + other == input.
		if diff := o.memory - iv.memory; diff > 0.5 || diff < -0.5 {
			t.Errorf("%s at %v: output memory %v != input %v", host, iv.ts, o.memory, iv.memory)
		}
		for pid, p := range iv.procs {
			if p.critical {
				r.criticalExpected++
				if _, kept := o.procs[pid]; kept {
					r.criticalPresent++
				}
			}
		}
		if prevOut != nil {
			for pid, p := range iv.procs {
				if p.critical {
					continue
				}
				k := procKey{pid, p.start}
				_, keptNow := o.procs[pid]
				_, keptBefore := prevOut.procs[pid]
				_, aliveBefore := prevIn.procs[pid]
				if keptNow {
					runLen[k]++
				}
				if keptNow != keptBefore && aliveBefore {
					changes++
				}
				if !keptNow && keptBefore && aliveBefore && runLen[k] > 0 {
					// A live process left the kept set: how long was it in?
					r.shortestRun = min(r.shortestRun, runLen[k])
					runLen[k] = 0
				}
			}
		} else {
			for pid, p := range iv.procs {
				if _, kept := o.procs[pid]; kept && !p.critical {
					runLen[procKey{pid, p.start}] = 1
				}
			}
		}
		prevOut, prevIn = o, iv
	}
	if r.intervals == 0 {
		t.Fatalf("%s: no complete intervals", host)
	}
	if r.shortestRun == 1<<30 {
		r.shortestRun = -1 // no live process left the kept set
	}
	r.inSeriesPerInterval = float64(inS) / float64(r.intervals)
	r.outSeriesPerInterval = float64(outS) / float64(r.intervals)
	r.intervalReduction = 100 * (1 - r.outSeriesPerInterval/r.inSeriesPerInterval)
	r.inUnique, r.outUnique = len(inU), len(outU)
	r.uniqueReduction = 100 * (1 - float64(r.outUnique)/float64(r.inUnique))
	r.changesPerInterval = float64(changes) / float64(max(1, r.intervals-1))
	return r
}

func scrapeText(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		b.WriteString(sc.Text())
		b.WriteByte('\n')
	}
	return b.String()
}

func promHas(text, name, label string) bool {
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, name+"{") && strings.Contains(line, label) {
			return true
		}
	}
	return false
}
