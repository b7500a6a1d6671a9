package pipelines

import (
	"encoding/json"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/phoenix-otel/phoenix/loadgen"
)

// matcher mirrors matchProcess: any of the regexes on the executable name,
// the command or the command line.
func matcher(t *testing.T, res []string) func(attrs map[string]any) bool {
	t.Helper()
	if len(res) == 0 {
		return func(map[string]any) bool { return false }
	}
	re := regexp.MustCompile(anyOf(res))
	return func(attrs map[string]any) bool {
		exe, _ := attrs[attrExe].(string)
		cmd, _ := attrs[attrCommand].(string)
		cl, _ := attrs[attrCmdline].(string)
		return (exe != "" && re.MatchString(exe)) || (cmd != "" && re.MatchString(cmd)) || (cl != "" && re.MatchString(cl))
	}
}

func pointMetric(key string) string {
	var v []any
	_ = json.Unmarshal([]byte(key), &v)
	return v[0].(string)
}

// The filter processor drops what its conditions match. This test runs the
// priority-based template in the collector next to the baseline on identical
// input and checks, process by process, that what reaches the output is what
// the lists mean: critical and high whole, medium with medium_metrics only,
// low not at all, and nothing else.
func TestPriorityBasedKeepsWhatTheListsMean(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the collector")
	}
	cases := map[string]map[string]any{
		"defaults": nil,
		"custom lists": {
			"critical_processes": []any{"^postgres$", `kafka\.Kafka`},
			"high_processes":     []any{"^sshd$", "^node$"},
			"medium_processes":   []any{"^python3$", "^cron$"},
			"medium_metrics":     []any{"process.memory.usage"},
		},
	}
	for name, params := range cases {
		t.Run(name, func(t *testing.T) {
			tmpl, _ := Get(TemplatePriorityBased)
			vals, err := ResolveParams(tmpl, params)
			if err != nil {
				t.Fatal(err)
			}
			v := values(vals)
			classes := []struct {
				name  string
				match func(map[string]any) bool
			}{
				{"critical", matcher(t, v.list("critical_processes"))},
				{"high", matcher(t, v.list("high_processes"))},
				{"medium", matcher(t, v.list("medium_processes"))},
			}
			classify := func(attrs map[string]any) string {
				for _, c := range classes {
					if c.match(attrs) {
						return c.name
					}
				}
				return "low"
			}
			run := runExperiment(t, loadgen.ProfileRealistic, Spec{Template: TemplateBaseline}, Spec{Template: TemplatePriorityBased, Params: params})
			counts := map[string]int{}
			for _, ts := range run.measured {
				in, out := run.baseline[ts], run.candidate[ts]
				outByPID := map[int64]*resourceView{}
				for _, r := range out.resources {
					pid, ok := r.attrs[attrPID].(int64)
					if !ok {
						t.Fatalf("output resource without a pid: %v", r.attrs)
					}
					outByPID[pid] = r
				}
				for _, r := range in.resources {
					pid := r.attrs[attrPID].(int64)
					class := classify(r.attrs)
					counts[class]++
					got := outByPID[pid]
					delete(outByPID, pid)
					desc := func() string {
						return class + " process " + r.attrs[attrExe].(string) + " (" + r.attrs[attrCmdline].(string) + ")"
					}
					if class == "low" {
						if got != nil {
							t.Errorf("%s reached the output", desc())
						}
						continue
					}
					if got == nil {
						t.Errorf("%s was dropped", desc())
						continue
					}
					if got.attrs[AttrPriority] != class {
						t.Errorf("%s: %s = %v", desc(), AttrPriority, got.attrs[AttrPriority])
					}
					var want []string
					for k := range r.points {
						if class != "medium" || slices.Contains(v.list("medium_metrics"), pointMetric(k)) {
							want = append(want, k)
						}
					}
					var have []string
					for k, val := range got.points {
						have = append(have, k)
						if r.points[k] != val {
							t.Errorf("%s: %s changed from %v to %v", desc(), k, r.points[k], val)
						}
					}
					sort.Strings(want)
					sort.Strings(have)
					if !slices.Equal(want, have) {
						t.Errorf("%s: points %v, want %v", desc(), have, want)
					}
				}
				for pid, r := range outByPID {
					t.Errorf("output has process %d (%v) that the input did not have", pid, r.attrs)
				}
			}
			// Every class must have occurred, or the test proves nothing.
			for _, c := range []string{"critical", "high", "medium", "low"} {
				if counts[c] == 0 {
					t.Errorf("no %s process in the input: the test cannot check that class", c)
				}
			}
			t.Logf("process-scrapes by class: %v", counts)
		})
	}
}

// The aggregated template must produce real sums without duplicate series,
// on identical input (the baseline variant of the same receiver), while
// processes churn:
//   - critical processes arrive whole (every point, unchanged);
//   - every other process is gone, and each (host, category) is one resource
//     identified by host.name, process.executable.name _other and the
//     category, with the series of its processes (one per metric and
//     attribute set) and a process.count;
//   - levels (memory and the other non-cumulative series) are the sum over
//     the category's processes at that scrape, process.count their number;
//   - cumulative counters (CPU time, disk I/O, ...) never decrease, and grow
//     from one scrape to the next by exactly the sum of the increments of
//     the category's processes (a process new since the previous scrape
//     brings its whole counter); processes that exit make no counter drop.
func TestAggregatedRollsUpIntoRealSums(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the collector")
	}
	tmpl, _ := Get(TemplateAggregated)
	vals, _ := ResolveParams(tmpl, nil)
	v := values(vals)
	critical := matcher(t, v.list("critical_processes"))
	cats := v.dict("categories")
	names := sortedKeys(cats)
	category := func(attrs map[string]any) string {
		if critical(attrs) {
			return "critical"
		}
		for _, n := range names {
			if matcher(t, []string{cats[n]})(attrs) {
				return n
			}
		}
		return v.str("other_category")
	}
	for _, c := range []struct {
		profile string
		cats    []string // categories the profile must exercise
		churns  bool     // processes must exit during the run
	}{
		{loadgen.ProfileProcessChurn, []string{"runtimes", "system"}, true},
		{loadgen.ProfileRealistic, []string{"runtimes", "system", "other"}, false},
	} {
		t.Run(c.profile, func(t *testing.T) {
			run := runExperiment(t, c.profile, Spec{Template: TemplateBaseline}, Spec{Template: TemplateAggregated})
			checkAggregated(t, run, category, c.cats, c.churns)
		})
	}
}

// catView is one category's expectation or output at one scrape.
type catView struct {
	points map[string]float64
	count  float64
	pids   map[int64]bool
}

func checkAggregated(t *testing.T, run *experimentRun, category func(map[string]any) string, mustSee []string, churns bool) {
	t.Helper()
	var ts []pcommon.Timestamp
	for k := range run.candidate {
		if _, ok := run.baseline[k]; ok {
			ts = append(ts, k)
		}
	}
	slices.Sort(ts)
	if len(ts) < 4 {
		t.Fatalf("only %d scrapes in both variants", len(ts))
	}
	gaps := make([]pcommon.Timestamp, 0, len(ts))
	for i := 1; i < len(ts); i++ {
		gaps = append(gaps, ts[i]-ts[i-1])
	}
	slices.Sort(gaps)
	step := gaps[len(gaps)/2]

	type hostCat struct{ host, cat string }
	near := func(got, want float64) bool { return math.Abs(got-want) <= 1e-9*math.Max(1, math.Abs(want)) }
	seenCats := map[string]bool{}
	var exits, checkedIncrements int
	var prevIn map[int64]*resourceView
	var prevOut map[hostCat]*catView
	var prevTS pcommon.Timestamp
	for _, now := range ts {
		in, out := run.baseline[now], run.candidate[now]
		if out.duplicates != 0 {
			t.Errorf("%d duplicate series in the output", out.duplicates)
		}
		counters := in.counters
		// What each category must hold: its processes and their sums.
		want := map[hostCat]*catView{}
		wantCritical := map[int64]*resourceView{}
		inByPID := map[int64]*resourceView{}
		for _, r := range in.resources {
			pid := r.attrs[attrPID].(int64)
			inByPID[pid] = r
			c := category(r.attrs)
			if c == "critical" {
				wantCritical[pid] = r
				continue
			}
			seenCats[c] = true
			host, _ := r.attrs["host.name"].(string)
			hc := hostCat{host, c}
			w := want[hc]
			if w == nil {
				w = &catView{points: map[string]float64{}, pids: map[int64]bool{}}
				want[hc] = w
			}
			w.count++
			w.pids[pid] = true
			for k, val := range r.points {
				if !counters[pointMetric(k)] {
					w.points[k] += val
					continue
				}
				// The increment topk carries: since the previous scrape, or
				// the whole counter of a process new since then.
				inc := val
				if p := prevIn[pid]; p != nil {
					if pv, ok := p.points[k]; ok && val >= pv {
						inc = val - pv
					}
				}
				w.points[k] += inc
			}
		}
		for pid, p := range prevIn {
			if _, alive := inByPID[pid]; !alive && category(p.attrs) != "critical" {
				exits++
			}
		}

		got := map[hostCat]*catView{}
		for _, r := range out.resources {
			if pid, ok := r.attrs[attrPID].(int64); ok {
				w := wantCritical[pid]
				if w == nil {
					t.Errorf("non-critical process %v kept whole", r.attrs)
					continue
				}
				delete(wantCritical, pid)
				if len(w.points) != len(r.points) {
					t.Errorf("critical process %d: %d points, want %d", pid, len(r.points), len(w.points))
				}
				for k, val := range w.points {
					if r.points[k] != val {
						t.Errorf("critical process %d: %s = %v, want %v unchanged", pid, k, r.points[k], val)
					}
				}
				continue
			}
			c, _ := r.attrs[AttrCategory].(string)
			host, _ := r.attrs["host.name"].(string)
			if len(r.attrs) != 3 || r.attrs[attrExe] != OtherName || c == "" || host == "" {
				t.Errorf("roll-up resource %v: want exactly host.name, %s=%s and %s", r.attrs, attrExe, OtherName, AttrCategory)
				continue
			}
			cv := &catView{points: map[string]float64{}, count: r.points[pointKey("process.count", pcommon.NewMap())]}
			for k, val := range r.points {
				if pointMetric(k) != "process.count" {
					cv.points[k] = val
				}
			}
			got[hostCat{host, c}] = cv
		}
		for pid := range wantCritical {
			t.Errorf("critical process %d missing", pid)
		}
		for hc, w := range want {
			g := got[hc]
			if g == nil {
				t.Errorf("%v: %d processes but no roll-up", hc, int(w.count))
				continue
			}
			if g.count != w.count {
				t.Errorf("%v: process.count %v, want %v", hc, g.count, w.count)
			}
			if len(g.points) != len(w.points) {
				t.Errorf("%v: %d series, want one per metric and attribute set of its processes (%d)", hc, len(g.points), len(w.points))
			}
			for k, wv := range w.points {
				gv, ok := g.points[k]
				switch {
				case !ok:
					t.Errorf("%v: no %s", hc, k)
				case !counters[pointMetric(k)]:
					if !near(gv, wv) {
						t.Errorf("%v, %s: %v, want the sum %v", hc, k, gv, wv)
					}
				case prevOut != nil && now-prevTS <= step+step/2:
					p := prevOut[hc]
					if p == nil {
						continue // first appearance: its whole value is checked below
					}
					if gv < p.points[k] {
						t.Errorf("%v, %s: counter fell from %v to %v", hc, k, p.points[k], gv)
					}
					if !near(gv-p.points[k], wv) {
						t.Errorf("%v, %s: grew by %v, want the sum of its processes' increments %v", hc, k, gv-p.points[k], wv)
					}
					checkedIncrements++
				}
			}
		}
		for hc, g := range got {
			if want[hc] == nil && prevOut[hc] == nil {
				t.Errorf("unexpected roll-up %v", hc)
			}
			// A category whose processes all exited stays, flat, with 0 processes.
			if p := prevOut[hc]; p != nil && want[hc] == nil {
				for k, pv := range p.points {
					if counters[pointMetric(k)] && g.points[k] != pv {
						t.Errorf("%v without processes: %s moved %v -> %v", hc, k, pv, g.points[k])
					}
				}
			}
		}
		prevIn, prevOut, prevTS = inByPID, got, now
	}
	for _, c := range mustSee {
		if !seenCats[c] {
			t.Errorf("no %s process in the input: the test cannot check that category", c)
		}
	}
	if checkedIncrements == 0 {
		t.Error("no counter increment was checked")
	}
	t.Logf("%d scrapes, %d counter increments checked, %d non-critical processes exited between scrapes", len(ts), checkedIncrements, exits)
	if churns && exits == 0 {
		t.Error("no process exited during the churn run: the test cannot show counters survive exits")
	}
}

// The real process scraper, as an unprivileged agent runs it: the muted
// per-process errors must not fail scrapes, every resource carries the
// context's host.name, and the priority-based template keeps only classified
// processes of this very host. (The scraper stamps each process with its own
// time, so this test looks at everything received, not per scrape.)
func TestRealProcessScraper(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the collector")
	}
	run := runExperimentOn(t, Input{}, Spec{Template: TemplateBaseline}, Spec{Template: TemplatePriorityBased,
		// This test's own binary is a process of this host: make it high.
		Params: map[string]any{"high_processes": []any{`^pipelines\.test$`}}})
	pids := map[any]bool{}
	for _, s := range run.baseline {
		for _, r := range s.resources {
			pids[r.attrs[attrPID]] = true
			if r.attrs["host.name"] != "measure-host" {
				t.Fatalf("resource without the context's host.name: %v", r.attrs)
			}
		}
	}
	if len(pids) < 2 {
		t.Fatalf("the scraper saw %d processes", len(pids))
	}
	found := false
	for _, s := range run.candidate {
		for _, r := range s.resources {
			switch r.attrs[AttrPriority] {
			case "critical", "high", "medium":
			default:
				t.Errorf("an unclassified or low process reached the output: %v", r.attrs)
			}
			if r.attrs[attrExe] == "pipelines.test" && r.attrs[AttrPriority] == "high" {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("this test's own process is not in the output as high")
	}
	if strings.Contains(run.log, "error reading process") || strings.Contains(run.log, "\terror\t") {
		t.Errorf("the scraper logged errors:\n%s", run.log)
	}
}
