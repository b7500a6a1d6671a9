package pipelines

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/phoenix-otel/phoenix/loadgen"
)

var updateMeasurements = flag.Bool("update-measurements", false, "write the measured figures to "+MeasurementsFile+" (then run go run ./pipelines/cmd/catalogdocs)")

// TestMeasure runs every template in the built collector against the
// baseline, as an experiment on one loadgen receiver (identical input), on
// the realistic and high-cardinality profiles, and checks the catalog's
// targets. With -update-measurements it writes the figures the README table
// is generated from.
func TestMeasure(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the collector for about a minute")
	}
	profiles := []string{loadgen.ProfileRealistic, loadgen.ProfileHighCardinality}
	var results []Measurement
	for _, profile := range profiles {
		for _, name := range Names() {
			t.Run(profile+"/"+name, func(t *testing.T) {
				run := runExperiment(t, profile, Spec{Template: TemplateBaseline}, Spec{Template: name})
				m := run.measure(name, profile)
				t.Logf("%s on %s: %.0f -> %.0f series per scrape (%.1f%%), critical %d/%d, duplicates %d",
					name, profile, m.InputSeries, m.OutputSeries, m.ReductionPct, m.CriticalKept, m.CriticalSeen, m.DuplicateSeries)
				checkTargets(t, m)
				results = append(results, m)
			})
		}
	}
	if t.Failed() || !*updateMeasurements {
		return
	}
	if len(results) != len(profiles)*len(Names()) {
		t.Fatalf("only %d of %d measurements ran: not writing %s", len(results), len(profiles)*len(Names()), MeasurementsFile)
	}
	out := Measurements{
		Method: fmt.Sprintf("Measured by `TestMeasure` in the built `phoenix-otelcol`: each template runs as the candidate of an "+
			"experiment against `%s` on ONE loadgen receiver (seed 1, host `measure-host`), collection interval %s, "+
			"both variants exported over OTLP/HTTP to in-process sinks. Series are distinct (resource, scope, metric, "+
			"attributes) identities per scrape, averaged over %d scrapes after %d warm-up scrapes. A critical process "+
			"is retained when it reaches the output whole (all its points), counted over the same scrapes for the "+
			"loadgen core services (nginx, postgres, mysqld, redis-server, kafka on java, kubelet, containerd, dockerd).",
			TemplateBaseline, measureInterval, measuredScrapes, warmupScrapes),
		Results: results,
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(MeasurementsFile), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(MeasurementsFile, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s: now run `go run ./pipelines/cmd/catalogdocs`", MeasurementsFile)
}

func checkTargets(t *testing.T, m Measurement) {
	t.Helper()
	if m.DuplicateSeries != 0 {
		t.Errorf("%s on %s: %d duplicate series (same identity twice in a scrape)", m.Template, m.Profile, m.DuplicateSeries)
	}
	if m.CriticalSeen == 0 || m.CriticalKept != m.CriticalSeen {
		t.Errorf("%s on %s: critical processes retained %d of %d, want all", m.Template, m.Profile, m.CriticalKept, m.CriticalSeen)
	}
	switch m.Template {
	case TemplateBaseline:
		if m.OutputSeries != m.InputSeries {
			t.Errorf("baseline changed the series: %.1f -> %.1f", m.InputSeries, m.OutputSeries)
		}
	case TemplateAggregated:
		if m.OutputSeries >= m.InputSeries {
			t.Errorf("aggregated on %s: %.0f output series, want below the baseline's %.0f", m.Profile, m.OutputSeries, m.InputSeries)
		}
	}
	if m.Profile != loadgen.ProfileHighCardinality {
		return
	}
	want := map[string]float64{TemplatePriorityBased: 50, TemplateTopK: 90, TemplateAdaptiveFilter: 50}[m.Template]
	if m.ReductionPct < want {
		t.Errorf("%s on high-cardinality: %.1f%% reduction, target >= %.0f%%", m.Template, m.ReductionPct, want)
	}
}

// TestREADMEUpToDate fails when pipelines/README.md is not what the
// generator makes from the templates and the measured figures.
func TestREADMEUpToDate(t *testing.T) {
	ms, err := LoadMeasurements(MeasurementsFile)
	if err != nil {
		t.Fatalf("%v: run `go test ./pipelines -run TestMeasure -update-measurements`", err)
	}
	if len(ms.Results) != 2*len(Names()) {
		t.Errorf("%s has %d results, want %d (every template on realistic and high-cardinality)", MeasurementsFile, len(ms.Results), 2*len(Names()))
	}
	cur, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	real, err := LoadRealMeasurements(RealMeasurementsFile)
	if err != nil {
		t.Fatal(err)
	}
	if string(cur) != string(GenerateREADME(ms, real)) {
		t.Fatal("README.md is out of date: run `go run ./pipelines/cmd/catalogdocs`")
	}
}
