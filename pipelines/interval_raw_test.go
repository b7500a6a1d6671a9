package pipelines

import (
	"errors"
	"strings"
	"testing"
)

// Beside raw variants the shared receiver takes the first template
// variant's collection_interval, and every later template variant must
// match it. Before, only the baseline's and the candidate's were compared:
// with a raw baseline a further variant at 10s rendered at the candidate's
// 5s without an error, and with a raw baseline and candidate a template
// variant's interval was dropped (the receiver stayed at 60s).
func TestRawBaselineIntervalsAgree(t *testing.T) {
	every := func(interval string) map[string]any { return map[string]any{"collection_interval": interval} }
	more := func(interval string) []NamedSpec {
		return []NamedSpec{{Variant: "candidate2", Spec: Spec{Template: TemplateTopK, Params: every(interval)}}}
	}
	var pe *ParamError
	exp := ExperimentSpec{ID: "e", Baseline: Spec{Config: rawOK}, Candidate: Spec{Template: TemplateTopK, Params: every("5s")}, More: more("10s")}
	if _, err := RenderExperiment(exp, Context{HostName: "h"}); !errors.As(err, &pe) || pe.Param != "candidate2.collection_interval" || pe.Accepted != "5s" {
		t.Fatalf("raw baseline, candidate at 5s, candidate2 at 10s: want a ParamError on candidate2.collection_interval accepting 5s, got %v", err)
	}
	exp.More = more("5s")
	if _, err := RenderExperiment(exp, Context{HostName: "h"}); err != nil {
		t.Fatalf("raw baseline, both templates at 5s: %v", err)
	}
	both := ExperimentSpec{ID: "e", Baseline: Spec{Config: rawOK}, Candidate: Spec{Config: rawOK}, More: more("10s")}
	r, err := RenderExperiment(both, Context{HostName: "h"})
	if err != nil {
		t.Fatal(err)
	}
	if y := string(r.YAML); !strings.Contains(y, "collection_interval: 10s") || strings.Contains(y, "collection_interval: 60s") {
		t.Fatalf("raw baseline and candidate, candidate2 at 10s: the receiver must scrape every 10s:\n%s", y)
	}
}
