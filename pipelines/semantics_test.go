package pipelines

import (
	"encoding/json"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/phoenix-otel/phoenix/loadgen"
)

// matcher mirrors matchProcess: any of the regexes on the executable name or
// the command line.
func matcher(t *testing.T, res []string) func(attrs map[string]any) bool {
	t.Helper()
	if len(res) == 0 {
		return func(map[string]any) bool { return false }
	}
	re := regexp.MustCompile(anyOf(res))
	return func(attrs map[string]any) bool {
		exe, _ := attrs[attrExe].(string)
		cl, _ := attrs[attrCmdline].(string)
		return re.MatchString(exe) || re.MatchString(cl)
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

// The aggregated template must produce real sums: each category's value at a
// scrape is the sum of that category's processes' values at that scrape, one
// series per metric and attribute set, and critical processes untouched.
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

	run := runExperiment(t, loadgen.ProfileRealistic, Spec{Template: TemplateBaseline}, Spec{Template: TemplateAggregated})
	seenCats := map[string]bool{}
	for _, ts := range run.measured {
		in, out := run.baseline[ts], run.candidate[ts]
		if out.duplicates != 0 {
			t.Errorf("%d duplicate series in the output", out.duplicates)
		}
		wantSums := map[string]map[string]float64{}
		wantCritical := map[int64]*resourceView{}
		for _, r := range in.resources {
			c := category(r.attrs)
			if c == "critical" {
				wantCritical[r.attrs[attrPID].(int64)] = r
				continue
			}
			seenCats[c] = true
			if wantSums[c] == nil {
				wantSums[c] = map[string]float64{}
			}
			for k, val := range r.points {
				wantSums[c][k] += val
			}
		}
		gotSums := map[string]map[string]float64{}
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
				continue
			}
			c, _ := r.attrs[AttrCategory].(string)
			for k := range r.attrs {
				if k != AttrCategory && k != "host.name" {
					t.Errorf("category %q keeps attribute %s", c, k)
				}
			}
			if gotSums[c] != nil {
				t.Errorf("category %q appears as two resources", c)
			}
			gotSums[c] = r.points
		}
		for pid := range wantCritical {
			t.Errorf("critical process %d missing", pid)
		}
		for c, want := range wantSums {
			got := gotSums[c]
			if len(got) != len(want) {
				t.Errorf("category %s: %d series, want %d", c, len(got), len(want))
			}
			for k, w := range want {
				if g, ok := got[k]; !ok || math.Abs(g-w) > 1e-9*math.Max(1, math.Abs(w)) {
					t.Errorf("category %s, %s: %v, want the sum %v", c, k, got[k], w)
				}
			}
		}
		for c := range gotSums {
			if wantSums[c] == nil {
				t.Errorf("unexpected category %q", c)
			}
		}
	}
	// The realistic profile has runtimes, system processes and others.
	for _, c := range []string{"runtimes", "system", "other"} {
		if !seenCats[c] {
			t.Errorf("no %s process in the input: the test cannot check that category", c)
		}
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
