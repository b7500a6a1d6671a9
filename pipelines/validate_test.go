package pipelines

import (
	"fmt"
	"strings"
	"testing"
)

func TestValidateYAMLAcceptsEveryRenderedTemplate(t *testing.T) {
	for _, name := range Names() {
		r, err := Render(Spec{Template: name, Destination: Destination{Type: DestOTLPHTTP, Endpoint: "http://x:4318"}}, Context{HostName: "h"})
		if err != nil {
			t.Fatal(err)
		}
		if probs := ValidateYAML(r.YAML); len(probs) > 0 {
			t.Errorf("%s: %v", name, probs)
		}
	}
}

const goodConfig = `receivers:
  hostmetrics:
    scrapers:
      process: {}
processors:
  batch:
exporters:
  otlphttp:
    endpoint: http://x:4318
extensions:
  health_check:
service:
  extensions: [health_check]
  pipelines:
    metrics:
      receivers: [hostmetrics]
      processors: [batch]
      exporters: [otlphttp]
`

func TestValidateYAML(t *testing.T) {
	if probs := ValidateYAML([]byte(goodConfig)); len(probs) != 0 {
		t.Fatalf("good config (deprecated aliases included): %v", probs)
	}
	cases := []struct {
		name, yaml string
		want       Problem // Message is a substring
	}{
		{"empty", "   \n", Problem{Line: 1, Column: 1, Message: "empty"}},
		{"syntax: bad indentation", "receivers:\n  otlp:\n    protocols:\n   grpc:\n", Problem{Line: 4, Column: 4, Message: "invalid YAML"}},
		{"syntax: missing colon", "receivers:\n  otlp: {}\nprocessors\n  batch: {}\n", Problem{Line: 3, Message: "invalid YAML"}},
		{"syntax: unclosed flow", "service:\n  pipelines:\n    metrics:\n      receivers: [otlp\n", Problem{Line: 4, Message: "invalid YAML"}},
		{"not a mapping", "- a\n- b\n", Problem{Line: 1, Column: 1, Message: "must be a mapping"}},
		{"unknown section", strings.Replace(goodConfig, "extensions:\n  health_check:", "extension:\n  health_check:", 1),
			Problem{Line: 10, Column: 1, Path: "extension", Message: `unknown top-level key "extension"`}},
		{"unknown receiver type", strings.Replace(goodConfig, "  hostmetrics:\n    scrapers", "  prometheus:\n    scrapers", 1),
			Problem{Line: 2, Column: 3, Path: "receivers.prometheus", Message: `unknown receiver type "prometheus": phoenix-otelcol has host_metrics, loadgen, otlp`}},
		{"missing component", strings.Replace(goodConfig, "processors: [batch]", "processors: [batch, topk]", 1),
			Problem{Line: 17, Column: 27, Path: "service.pipelines.metrics.processors", Message: `processor "topk" is not defined (add it under processors)`}},
		{"missing extension", strings.Replace(goodConfig, "extensions: [health_check]", "extensions: [pprof]", 1),
			Problem{Line: 13, Column: 16, Path: "service.extensions", Message: `extension "pprof" is not defined`}},
		{"pipeline without exporter", strings.Replace(goodConfig, "      exporters: [otlphttp]\n", "", 1),
			Problem{Line: 15, Column: 5, Path: "service.pipelines.metrics.exporters", Message: "has no exporters: it is not wired"}},
		{"bad pipeline type", strings.Replace(goodConfig, "    metrics:\n", "    metric/x:\n", 1),
			Problem{Line: 15, Column: 5, Path: "service.pipelines.metric/x", Message: `unknown pipeline type "metric"`}},
		{"no service", "receivers:\n  otlp:\n", Problem{Line: 1, Column: 1, Path: "service", Message: "missing the service section"}},
		{"no pipelines", "receivers:\n  otlp:\nservice:\n  pipelines: {}\n", Problem{Line: 4, Column: 14, Path: "service.pipelines", Message: "no pipelines"}},
		{"settings not a mapping", strings.Replace(goodConfig, "  batch:\n", "  batch: 5\n", 1),
			Problem{Line: 6, Column: 10, Path: "processors.batch", Message: "must be a mapping"}},
	}
	for _, c := range cases {
		probs := ValidateYAML([]byte(c.yaml))
		if len(probs) == 0 {
			t.Errorf("%s: no problem found", c.name)
			continue
		}
		p := probs[0]
		if !strings.Contains(p.Message, c.want.Message) ||
			(c.want.Line != 0 && p.Line != c.want.Line) ||
			(c.want.Column != 0 && p.Column != c.want.Column) ||
			(c.want.Path != "" && p.Path != c.want.Path) {
			t.Errorf("%s: got %+v, want %+v", c.name, p, c.want)
		}
		if p.Line < 1 || p.Column < 1 {
			t.Errorf("%s: position %d:%d must be 1-based", c.name, p.Line, p.Column)
		}
	}
}

func TestValidateYAMLReportsEveryProblem(t *testing.T) {
	cfg := strings.NewReplacer(
		"  batch:\n", "  batch:\n  bogus:\n",
		"exporters: [otlphttp]", "exporters: [otlphttp, kafka]",
	).Replace(goodConfig)
	probs := ValidateYAML([]byte(cfg))
	if len(probs) != 2 {
		t.Fatalf("want 2 problems (unknown processor type, undefined exporter), got %v", probs)
	}
	if probs[0].Path != "processors.bogus" || probs[1].Path != "service.pipelines.metrics.exporters" {
		t.Errorf("problems out of order or misplaced: %v", probs)
	}
}

// The local check agrees with phoenix-otelcol on the Phoenix components'
// settings: unknown keys and values their Validate() refuses are both named.
func TestValidateYAMLRunsPhoenixComponentValidate(t *testing.T) {
	cfg := strings.Replace(goodConfig, "processors:\n  batch:\n", "processors:\n  batch:\n  topk:\n    top_k: -5\n    bogus_field: 1\n", 1)
	cfg = strings.Replace(cfg, "processors: [batch]", "processors: [batch, topk]", 1)
	probs := ValidateYAML([]byte(cfg))
	var unknown, bad bool
	for _, p := range probs {
		if p.Path == "processors.topk.bogus_field" && strings.Contains(p.Message, `unknown setting "bogus_field"`) && p.Line == 9 {
			unknown = true
		}
		if p.Path == "processors.topk" && strings.Contains(p.Message, "top_k") {
			bad = true
		}
	}
	if !unknown || !bad {
		t.Fatalf("want bogus_field (line 9) and top_k named; got %v", probs)
	}
	// Settings the component accepts stay valid, and ${env:...} is left to the collector.
	ok := strings.Replace(goodConfig, "processors:\n  batch:\n", "processors:\n  batch:\n  topk:\n    top_k: 5\n  cardinality:\n    exact_limit: ${env:LIMIT}\n", 1)
	ok = strings.Replace(ok, "processors: [batch]", "processors: [batch, topk, cardinality]", 1)
	if probs := ValidateYAML([]byte(ok)); len(probs) != 0 {
		t.Fatalf("valid Phoenix settings refused: %v", probs)
	}
}

func TestValidateYAMLBoundsTheInput(t *testing.T) {
	big := []byte(goodConfig + "# " + strings.Repeat("x", MaxConfigBytes) + "\n")
	probs := ValidateYAML(big)
	if len(probs) != 1 || !strings.Contains(probs[0].Message, fmt.Sprintf("over the limit of %d bytes", MaxConfigBytes)) {
		t.Fatalf("oversized config: %v", probs)
	}
	if err := ValidateWithBinary(t.Context(), "/nonexistent-binary", big); err == nil || !strings.Contains(err.Error(), "over the limit") {
		t.Fatalf("ValidateWithBinary on oversized input: %v (it must refuse before running anything)", err)
	}
}

func BenchmarkValidateYAMLAtTheLimit(b *testing.B) {
	data := []byte(goodConfig + "# " + strings.Repeat("x", MaxConfigBytes-len(goodConfig)-4) + "\n")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if probs := ValidateYAML(data); len(probs) != 0 {
			b.Fatal(probs)
		}
	}
}

// BenchmarkValidateYAMLManyComponentsAtTheLimit: close to 1 MiB of
// component definitions (the costly shape: one YAML node per line).
func BenchmarkValidateYAMLManyComponentsAtTheLimit(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("receivers:\n  loadgen:\nprocessors:\n")
	for i := 0; sb.Len() < MaxConfigBytes-200; i++ {
		fmt.Fprintf(&sb, "  batch/p%d:\n", i)
	}
	sb.WriteString("exporters:\n  nop:\nservice:\n  pipelines:\n    metrics:\n      receivers: [loadgen]\n      exporters: [nop]\n")
	data := []byte(sb.String())
	if len(data) > MaxConfigBytes {
		b.Fatal(len(data))
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if probs := ValidateYAML(data); len(probs) != 0 {
			b.Fatal(probs[:1])
		}
	}
}
