package pipelines

import (
	"testing"
)

// The server renders every agent's desired config on every deployment change
// and reconnect: these are its costs per agent.

func BenchmarkRender(b *testing.B) {
	for _, name := range []string{TemplateBaseline, TemplatePriorityBased, TemplateAggregated} {
		b.Run(name, func(b *testing.B) {
			spec := Spec{Template: name, Destination: Destination{Type: DestOTLPHTTP, Endpoint: "https://otlp.example.com:4318"}}
			ctx := Context{HostName: "web-1", DeploymentID: "d", DeploymentVersion: 3, Labels: map[string]string{"env": "prod"}}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Render(spec, ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkRenderExperimentWithLoadSim(b *testing.B) {
	exp := ExperimentSpec{ID: "e1", Baseline: Spec{Template: TemplateBaseline}, Candidate: Spec{Template: TemplateTopK, Params: map[string]any{"k": 5}}}
	b.ReportAllocs()
	for b.Loop() {
		r, err := RenderExperiment(exp, Context{HostName: "web-1"})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := WithLoadSim(r, LoadSim{Profile: "realistic"}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateYAML(b *testing.B) {
	r, err := Render(Spec{Template: TemplateAggregated}, Context{HostName: "h"})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(r.YAML)))
	b.ReportAllocs()
	for b.Loop() {
		if p := ValidateYAML(r.YAML); len(p) != 0 {
			b.Fatal(p)
		}
	}
}
