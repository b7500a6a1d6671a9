package pipelines

import (
	"testing"

	"go.yaml.in/yaml/v3"
)

// An experiment's window reaches every cardinality processor of every
// variant (six in a three-variant experiment), and nothing else; without
// it the processors keep their default.
func TestRenderExperimentWindow(t *testing.T) {
	exp := ExperimentSpec{ID: "w", Baseline: Spec{Template: "process-baseline-v1"}, Candidate: Spec{Template: "process-topk-v1"},
		More: []NamedSpec{{Variant: "candidate2", Spec: Spec{Template: "process-aggregated-v1"}}}, Window: "10s"}
	windows := func(exp ExperimentSpec) map[string]any {
		t.Helper()
		r, err := RenderExperiment(exp, Context{HostName: "h1"})
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Processors map[string]map[string]any `yaml:"processors"`
		}
		if err := yaml.Unmarshal(r.YAML, &doc); err != nil {
			t.Fatal(err)
		}
		out := map[string]any{}
		for id, p := range doc.Processors {
			if w, ok := p["window"]; ok {
				out[id] = w
			}
		}
		return out
	}
	got := windows(exp)
	if len(got) != 6 {
		t.Fatalf("window set on %d processors, want the 6 cardinality ones: %v", len(got), got)
	}
	for id, w := range got {
		if w != "10s" || id[:len("cardinality/")] != "cardinality/" {
			t.Errorf("%s: window %v", id, w)
		}
	}
	exp.Window = ""
	if got := windows(exp); len(got) != 0 {
		t.Fatalf("without a window: %v", got)
	}
}
