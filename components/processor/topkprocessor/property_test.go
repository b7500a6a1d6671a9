package topkprocessor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/phoenix-otel/phoenix/components/internal/processmetrics"
)

// TestPropertySumPreservation runs random process populations with churn,
// PID reuse, rate changes and spikes through topk, and checks at every
// interval, for every host and every series of the other resource:
//   - level metrics (memory): kept + other == input exactly;
//   - cumulative counters (CPU time per state, disk per direction): other
//     never decreases, and it grows by exactly the increments of the
//     processes not kept in that interval (so rates are preserved);
//   - delta input: kept + other == input exactly;
//   - kept resources are the input resources, unchanged; critical processes
//     are always kept; process.count is the number aggregated.
//
// With others_group_by (every third seed in roll-up mode, top_k 0, every
// third with a top K), processes carry random categories (or none) and
// change category now and then; the invariants then hold per (host,
// category) roll-up: levels are the sum of the category's processes not
// kept, cumulative series never decrease and grow by exactly the increments
// of the category's processes not kept, and no two output resources share an
// identity.
func TestPropertySumPreservation(t *testing.T) {
	for seed := uint64(1); seed <= 18; seed++ {
		delta := seed%4 == 0
		mode := []string{"plain", "rollup", "topk+groupby"}[seed%3]
		t.Run(fmt.Sprintf("seed=%d/delta=%v/%s", seed, delta, mode), func(t *testing.T) {
			runProperty(t, seed, delta, mode)
		})
	}
}

type propProc struct {
	pr
	rate   float64
	crit   bool
	alive  bool
	reused bool // its pid went to a new process
}

type seriesID struct {
	host, cat, metric, attr string
}

func runProperty(t *testing.T, seed uint64, delta bool, mode string) {
	rng := rand.New(rand.NewPCG(seed, seed*7919))
	smoothings := []string{"none", "ewma", "max"}
	cfg := testConfig(func(c *Config) {
		c.TopK = 1 + rng.IntN(8)
		c.Hysteresis = Hysteresis{Margin: rng.IntN(4), Band: rng.Float64() * 0.5, Intervals: 1 + rng.IntN(4)}
		c.Probation = time.Duration(rng.IntN(4)) * interval * time.Second
		c.Smoothing = smoothings[rng.IntN(3)]
		c.Window = 1 + rng.IntN(5)
		c.Ranking = []string{RankingCPU, RankingMemory, RankingWeighted}[rng.IntN(3)]
		c.CriticalProcesses = []string{"^critical-"}
		c.PruneAfter = 1 + rng.IntN(4)
		switch mode {
		case "rollup":
			c.TopK, c.OthersGroupBy = 0, catKey
		case "topk+groupby":
			c.OthersGroupBy = catKey
		}
	})
	cats := []string{""}
	if cfg.OthersGroupBy != "" {
		cats = []string{"", "a", "b", "c"}
	}
	h := newHarness(t, cfg)
	hosts := []string{"h1", "h2", ""}[:1+rng.IntN(3)]

	var procs []*propProc
	nextPID := map[string]int64{}
	now := 0.0
	spawn := func(host string, reusePID int64) {
		pid := reusePID
		if pid == 0 {
			nextPID[host]++
			pid = nextPID[host]
		}
		name := fmt.Sprintf("svc-%d", rng.IntN(20))
		crit := rng.IntN(15) == 0
		if crit {
			name = "critical-" + name
		}
		p := &propProc{pr: pr{host: host, pid: pid, name: name, start: now, mem: int64(rng.IntN(1 << 20)), delta: delta, category: cats[rng.IntN(len(cats))]},
			rate: rng.ExpFloat64() * 0.3, crit: crit, alive: true}
		procs = append(procs, p)
	}
	for _, host := range hosts {
		for i := 0; i < 20+rng.IntN(120); i++ {
			spawn(host, 0)
		}
	}

	type ident struct {
		host  string
		pid   int64
		start float64
	}
	last := map[ident]map[string]float64{} // cumulative values seen per process series
	prevOther := map[seriesID]float64{}

	for step := 0; step < 40; step++ {
		now += interval
		// Churn: some die, some are born, some reuse a dead pid.
		for _, p := range procs {
			if p.alive && rng.IntN(12) == 0 {
				p.alive = false
			}
		}
		for _, host := range hosts {
			for i := rng.IntN(6); i > 0; i-- {
				reuse := int64(0)
				if rng.IntN(3) == 0 {
					for _, p := range procs {
						if !p.alive && !p.reused && p.host == host {
							reuse, p.reused = p.pid, true
							break
						}
					}
				}
				spawn(host, reuse)
			}
		}
		// Rates drift, spike, and memory moves.
		var live []pr
		var liveProcs []*propProc
		for _, p := range procs {
			if !p.alive {
				continue
			}
			if rng.IntN(5) == 0 {
				p.rate = rng.ExpFloat64() * 0.3
			}
			if rng.IntN(15) == 0 {
				p.category = cats[rng.IntN(len(cats))] // re-classified, same identity
			}
			r := p.rate
			if rng.IntN(20) == 0 {
				r *= 10
			}
			p.mem = max(0, p.mem+int64(rng.NormFloat64()*1e5))
			inc := [3]float64{r * interval * 0.7, r * interval * 0.25, r * interval * 0.05}
			dinc := [2]int64{int64(rng.IntN(1 << 16)), int64(rng.IntN(1 << 12))}
			if delta {
				p.cpu, p.disk = inc, dinc
			} else {
				for i := range inc {
					p.cpu[i] += inc[i]
				}
				p.disk[0] += dinc[0]
				p.disk[1] += dinc[1]
			}
			live = append(live, p.pr)
			liveProcs = append(liveProcs, p)
		}
		rng.Shuffle(len(live), func(i, j int) {
			live[i], live[j] = live[j], live[i]
			liveProcs[i], liveProcs[j] = liveProcs[j], liveProcs[i]
		})

		in := scrape(now, live...)
		inCopy := pmetric.NewMetrics()
		in.CopyTo(inCopy)
		out := h.run(in)

		// Index the output's process resources by (host, pid).
		type hp struct {
			host string
			pid  int64
		}
		outProcs := map[hp]pmetric.ResourceMetrics{}
		rms := out.ResourceMetrics()
		for i := 0; i < rms.Len(); i++ {
			a := rms.At(i).Resource().Attributes()
			if pid, ok := processmetrics.PID(a); ok {
				host, _ := processmetrics.HostName(a)
				outProcs[hp{host, pid}] = rms.At(i)
			}
		}

		resourceIdentities(t, out)
		inputSum := map[seriesID]float64{}  // per host (cat "")
		keptSum := map[seriesID]float64{}   // per host (cat "")
		otherSum := map[seriesID]float64{}  // per host (cat ""), over its roll-ups
		wantLevel := map[seriesID]float64{} // per host and category
		wantInc := map[seriesID]float64{}   // per host and category
		aggregated := map[[2]string]int64{}
		keptNonCritical := map[string]int{}
		candidates := map[string]int{}
		liveHosts := map[string]bool{}
		for i, p := range liveProcs {
			liveHosts[p.host] = true
			rmIn := inCopy.ResourceMetrics().At(i)
			rmOut, kept := outProcs[hp{p.host, p.pid}]
			if kept && !equalRM(rmOut, rmIn) {
				t.Fatalf("step %d: kept process %s/%d was modified", step, p.host, p.pid)
			}
			if p.crit && !kept {
				t.Fatalf("step %d: critical process %s/%d (%s) not kept", step, p.host, p.pid, p.name)
			}
			// Past probation: its age from its start time (the memory
			// series carry it, delta input too).
			born := p.start
			switch {
			case p.crit:
			case now-born >= cfg.Probation.Seconds():
				candidates[p.host]++
				if kept {
					keptNonCritical[p.host]++
				}
			case kept:
				t.Fatalf("step %d: %s/%d kept at age %vs, on probation (%v)", step, p.host, p.pid, now-born, cfg.Probation)
			}
			if !kept {
				aggregated[[2]string{p.host, p.category}]++
			}
			id := ident{p.host, p.pid, p.start}
			if last[id] == nil {
				last[id] = map[string]float64{}
			}
			forEachPoint(rmIn, func(metric, attr string, v float64, cumulative bool) {
				sid := seriesID{p.host, "", metric, attr}
				cid := seriesID{p.host, p.category, metric, attr}
				inputSum[sid] += v
				if kept {
					keptSum[sid] += v
				} else if !cumulative {
					wantLevel[cid] += v
				}
				if cumulative {
					inc := v
					if prev, ok := last[id][metric+attr]; ok && v >= prev {
						inc = v - prev
					}
					last[id][metric+attr] = v
					if !kept {
						wantInc[cid] += inc
					}
				}
			})
		}

		// The roll-ups of the output, by (host, category).
		rollups := map[[2]string]pmetric.ResourceMetrics{}
		for i := 0; i < rms.Len(); i++ {
			a := rms.At(i).Resource().Attributes()
			if _, hasPID := a.Get(processmetrics.AttrPID); hasPID {
				continue
			}
			if processmetrics.ExecutableName(a) != "_other" {
				t.Fatalf("step %d: unexpected resource %v", step, a.AsRaw())
			}
			host, _ := processmetrics.HostName(a)
			cat := ""
			if v, ok := a.Get(catKey); ok {
				cat = v.Str()
			}
			rollups[[2]string{host, cat}] = rms.At(i)
		}
		for hc, n := range aggregated {
			if _, ok := rollups[hc]; !ok && n > 0 {
				t.Fatalf("step %d %v: %d processes aggregated but no other resource", step, hc, n)
			}
		}
		for sid := range prevOther {
			if _, ok := rollups[[2]string{sid.host, sid.cat}]; !ok && liveHosts[sid.host] {
				t.Fatalf("step %d: the roll-up of %q/%q disappeared", step, sid.host, sid.cat)
			}
		}
		for _, host := range hosts {
			if keptNonCritical[host] < min(cfg.TopK, candidates[host]) {
				t.Fatalf("step %d host %q: %d non-critical kept, want at least min(top_k=%d, %d)", step, host, keptNonCritical[host], cfg.TopK, candidates[host])
			}
			if cfg.TopK == 0 && keptNonCritical[host] != 0 {
				t.Fatalf("step %d host %q: roll-up mode kept %d non-critical processes", step, host, keptNonCritical[host])
			}
		}
		for hc, other := range rollups {
			host, cat := hc[0], hc[1]
			if dp, _ := point(other, "process.count", "", ""); dp.IntValue() != aggregated[hc] {
				t.Fatalf("step %d %v: process.count %d, want %d", step, hc, dp.IntValue(), aggregated[hc])
			}
			forEachPoint(other, func(metric, attr string, v float64, cumulative bool) {
				if metric == "process.count" {
					return
				}
				cid := seriesID{host, cat, metric, attr}
				if cumulative {
					prev := prevOther[cid]
					if v < prev {
						t.Fatalf("step %d %v: other went down %v -> %v", step, cid, prev, v)
					}
					if d := v - prev; math.Abs(d-wantInc[cid]) > 1e-6*math.Max(1, math.Abs(d)) {
						t.Fatalf("step %d %v: other grew by %v, want %v (increments of the processes not kept)", step, cid, d, wantInc[cid])
					}
					prevOther[cid] = v
					return
				}
				if want := wantLevel[cid]; math.Abs(v-want) > 1e-6*math.Max(1, math.Abs(want)) {
					t.Fatalf("step %d %v: other %v, want the sum of its processes not kept %v", step, cid, v, want)
				}
				otherSum[seriesID{host, "", metric, attr}] += v
			})
		}
		// Levels and deltas: kept + all roll-ups == input, per host.
		for sid, in := range inputSum {
			if !delta && (sid.metric == "process.cpu.time" || sid.metric == "process.disk.io") {
				continue // cumulative: checked by increments above
			}
			if got := keptSum[sid] + otherSum[sid]; math.Abs(got-in) > 1e-6*math.Max(1, math.Abs(in)) {
				t.Fatalf("step %d %v: kept %v + other %v = %v, input %v", step, sid, keptSum[sid], otherSum[sid], got, in)
			}
		}
	}
}

// forEachPoint calls fn for every number data point of rm with its metric
// name, its attributes as a string and whether it is a monotonic cumulative
// sum.
func forEachPoint(rm pmetric.ResourceMetrics, fn func(metric, attr string, v float64, cumulative bool)) {
	sms := rm.ScopeMetrics()
	for i := 0; i < sms.Len(); i++ {
		ms := sms.At(i).Metrics()
		for j := 0; j < ms.Len(); j++ {
			m := ms.At(j)
			var dps pmetric.NumberDataPointSlice
			cumulative := false
			switch m.Type() {
			case pmetric.MetricTypeSum:
				dps = m.Sum().DataPoints()
				cumulative = m.Sum().IsMonotonic() && m.Sum().AggregationTemporality() == pmetric.AggregationTemporalityCumulative
			case pmetric.MetricTypeGauge:
				dps = m.Gauge().DataPoints()
			default:
				continue
			}
			for k := 0; k < dps.Len(); k++ {
				dp := dps.At(k)
				fn(m.Name(), fmt.Sprint(dp.Attributes().AsRaw()), num(dp), cumulative)
			}
		}
	}
}
