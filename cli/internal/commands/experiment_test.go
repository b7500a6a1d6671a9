package commands_test

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/api"
	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// `phoenix experiment`: bad input gets its exit code and changes nothing;
// a scenario file creates; status, list and compare (table, json, html)
// show it; delete of an active experiment needs --yes.
func TestExperimentCommands(t *testing.T) {
	e := newEnv(t)
	e.agent("web-1", nil)
	eventually(t, "agent known", func() (bool, string) {
		r := e.run("agent", "list")
		return strings.Contains(r.out, "web-1"), r.String()
	})
	e.must(0, "pipeline", "deploy", "process-topk-v1", "--name", "web", "--host", "web-1", "--destination", "debug", "--watch", "--timeout", "60s")

	// Bad input: exit 4 (validation) naming the field; exit 2 for the command line.
	r := e.must(4, "experiment", "create", "x", "--hosts", "web-1", "--candidate", "no-such-template")
	if !strings.Contains(r.err, "no-such-template") {
		t.Fatalf("unknown template: %s", r)
	}
	r = e.must(4, "experiment", "create", "x", "--hosts", "web-1", "--candidate", "process-topk-v1", "--param", "candidate.nope=1")
	if !strings.Contains(r.err, "nope") {
		t.Fatalf("unknown param: %s", r)
	}
	e.must(2, "experiment", "create", "x", "--hosts", "web-1", "--candidate", "process-topk-v1", "--param", "candidate2.k=1")
	e.must(2, "experiment", "create", "--hosts", "web-1", "--candidate", "process-topk-v1")
	if r := e.must(0, "experiment", "list"); !strings.Contains(r.out, "no experiments") {
		t.Fatalf("refused creates stored something: %s", r)
	}

	// A scenario file.
	scen := filepath.Join(t.TempDir(), "scenario.yaml")
	os.WriteFile(scen, []byte(`name: agg
target: {hosts: [web-1]}
candidate: {template: process-aggregated-v1}
duration: 1h
warmup: 0s
interval: 1m
criteria: {min_samples: 5}
`), 0o600)
	e.must(0, "experiment", "create", "-f", scen)
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("name: b\ncandidat: {template: x}\n"), 0o600)
	if r := e.must(4, "experiment", "create", "-f", bad); !strings.Contains(r.err, "candidat") {
		t.Fatalf("unknown scenario field: %s", r)
	}
	e.must(0, "experiment", "start", "agg")
	r = e.must(0, "experiment", "status", "agg")
	if !strings.Contains(r.out, "deploying") || !strings.Contains(r.out, "pending") { // the transitions so far, with times
		t.Fatalf("status: %s", r)
	}
	// The host is taken; promote a missing variant; promote before completion.
	e.must(1, "experiment", "create", "other", "--hosts", "web-1", "--candidate", "process-topk-v1")
	if r := e.must(4, "experiment", "promote", "agg", "--variant", "nope"); !strings.Contains(r.err, "no variant") {
		t.Fatalf("promote missing variant: %s", r)
	}
	if r := e.must(1, "experiment", "promote", "agg", "--variant", "candidate"); !strings.Contains(r.err, "not completed") {
		t.Fatalf("promote before completion: %s", r)
	}

	// Samples as the analyser stores them: compare computes the verdict so far.
	rng := rand.New(rand.NewPCG(7, 7))
	var ss []store.ExperimentSample
	t0 := time.Now().Add(-time.Hour)
	for k := range 8 {
		in := 700 + rng.NormFloat64()*20
		for _, v := range []struct {
			name  string
			share float64
		}{{"baseline", 1}, {"candidate", 0.22}} {
			at := t0.Add(time.Duration(k) * time.Minute)
			out := in * v.share * (1 + rng.NormFloat64()*0.01)
			ss = append(ss,
				store.ExperimentSample{Interval: k, Time: at, Host: "web-1", Variant: v.name, KPI: "input_series", Value: in},
				store.ExperimentSample{Interval: k, Time: at, Host: "web-1", Variant: v.name, KPI: "output_series", Value: out},
				store.ExperimentSample{Interval: k, Time: at, Host: "web-1", Variant: v.name, KPI: "output_datapoints", Value: out * 7},
				store.ExperimentSample{Interval: k, Time: at, Host: "web-1", Variant: v.name, KPI: "critical_in", Value: 5},
				store.ExperimentSample{Interval: k, Time: at, Host: "web-1", Variant: v.name, KPI: "critical_out", Value: 5})
		}
	}
	if err := e.srv.Store().AddExperimentSamples(context.Background(), "agg", ss); err != nil {
		t.Fatal(err)
	}
	r = e.must(0, "experiment", "compare", "agg")
	if !strings.Contains(r.out, "promote: min_reduction") || !strings.Contains(r.out, "identical input 8/8") {
		t.Fatalf("compare table: %s", r)
	}
	r = e.must(0, "experiment", "compare", "agg", "-o", "json")
	var cmp api.Comparison
	if err := json.Unmarshal([]byte(r.out), &cmp); err != nil || len(cmp.Results) != 1 || cmp.Results[0].Verdict != api.VerdictPromote {
		t.Fatalf("compare json: %v %s", err, r)
	}
	html := filepath.Join(t.TempDir(), "agg.html")
	e.must(0, "experiment", "compare", "agg", "-o", "html", "--file", html)
	b, _ := os.ReadFile(html)
	page := string(b)
	for _, want := range []string{"uPlot", `class="promote"`, "output_series", "min_reduction", `type="application/json"`} {
		if !strings.Contains(page, want) {
			t.Errorf("html report lacks %q", want)
		}
	}
	// Self-contained: no external script, style or image (uPlot's licence
	// comment names its home page; nothing is loaded from it).
	if strings.Contains(page, "<script src=") || strings.Contains(page, "<link") || strings.Contains(page, "<img") || strings.Contains(page, "@import") {
		t.Error("the html report is not self-contained")
	}

	// Delete an active experiment: refused without --yes, nothing changes.
	if r := e.must(1, "experiment", "delete", "agg"); !strings.Contains(r.err, "--yes") {
		t.Fatalf("delete without --yes: %s", r)
	}
	var still api.Experiment
	if r := e.must(0, "experiment", "status", "agg", "-o", "json"); json.Unmarshal([]byte(r.out), &still) != nil || !still.Active() {
		t.Fatalf("a refused delete changed the experiment: %s", r)
	}
	e.must(0, "experiment", "delete", "agg", "--yes")
	e.must(3, "experiment", "status", "agg")
}
