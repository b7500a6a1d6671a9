package pipelines

import (
	"errors"
	"strings"
	"testing"
)

// Up to four candidates beside the baseline, all on one receiver.
func TestRenderExperimentMoreVariants(t *testing.T) {
	exp := ExperimentSpec{ID: "three", Baseline: Spec{Template: "process-baseline-v1"}, Candidate: Spec{Template: "process-topk-v1"},
		More: []NamedSpec{{Variant: "candidate2", Spec: Spec{Template: "process-aggregated-v1"}}}}
	r, err := RenderExperiment(exp, Context{HostName: "h1"})
	if err != nil {
		t.Fatal(err)
	}
	y := string(r.YAML)
	for _, want := range []string{"metrics/baseline:", "metrics/candidate:", "metrics/candidate2:", "variant: candidate2"} {
		if !strings.Contains(y, want) {
			t.Errorf("rendered experiment lacks %q", want)
		}
	}
	if strings.Count(y, "host_metrics:") != 1 {
		t.Errorf("want one receiver, got %d", strings.Count(y, "host_metrics:"))
	}
	exp.More[0].Variant = "candidate"
	_, err = RenderExperiment(exp, Context{HostName: "h1"})
	var pe *ParamError
	if !errors.As(err, &pe) || pe.Param != "more.variant" {
		t.Fatalf("duplicate variant: %v", err)
	}
	exp.More[0] = NamedSpec{Variant: "candidate2", Spec: Spec{Template: "process-topk-v1", Params: map[string]any{"nope": 1}}}
	if _, err = RenderExperiment(exp, Context{HostName: "h1"}); !errors.As(err, &pe) || !strings.HasPrefix(pe.Param, "candidate2.") {
		t.Fatalf("bad param of a further candidate: %v", err)
	}
}
