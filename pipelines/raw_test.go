package pipelines

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/phoenix-otel/phoenix/internal/testutil"
)

// rawOK is a user's own config: a filter on the process scraper.
const rawOK = `# my own pipeline
receivers:
  host_metrics:
    collection_interval: 10s
    scrapers:
      process:
        mute_process_all_errors: true
processors:
  filter/drop_idle:
    error_mode: ignore
    metrics:
      metric:
        - 'name == "process.disk.io"'
  batch:
exporters:
  otlp_http/backend:
    endpoint: https://otlp.example.com:4318
    headers:
      authorization: "Bearer ${env:MY_BACKEND_TOKEN}"
      x-team: observability
service:
  pipelines:
    metrics:
      receivers: [host_metrics]
      processors: [filter/drop_idle, batch]
      exporters: [otlp_http/backend]
`

// A raw config is delivered as the very bytes given: the same hash at every
// render, with any host context.
func TestRenderRawIsExact(t *testing.T) {
	want := sha256.Sum256([]byte(rawOK))
	for _, ctx := range []Context{{}, {HostNameFromEnv: true, DeploymentID: "d", DeploymentVersion: 3}, {HostName: "h1"}} {
		r, err := Render(Spec{Config: rawOK}, ctx)
		if err != nil {
			t.Fatal(err)
		}
		if string(r.YAML) != rawOK || r.SHA256 != hex.EncodeToString(want[:]) {
			t.Fatalf("raw config changed on render (ctx %+v): sha %s", ctx, r.SHA256)
		}
	}
}

func TestValidateRawRefuses(t *testing.T) {
	cases := []struct {
		name, yaml, path, msg string
		line                  int
	}{
		{"bad YAML", "receivers:\n  host_metrics:\n    scrapers: [a\n", "", "invalid YAML", 0},
		{"unknown component", strings.Replace(rawOK, "filter/drop_idle:", "kafka/drop_idle:", 1), "processors.kafka/drop_idle", "unknown processor type", 9},
		{"no exporter", strings.Replace(rawOK, "      exporters: [otlp_http/backend]\n", "", 1), "service.pipelines.metrics.exporters", "has no exporters", 0},
		{"clear credential header", strings.Replace(rawOK, "Bearer ${env:MY_BACKEND_TOKEN}", "Bearer abc123", 1), "exporters.otlp_http/backend.headers.authorization", "looks like a credential", 19},
		{"api key header", strings.Replace(rawOK, "x-team: observability", "x-api-key: s3cr3t", 1), "exporters.otlp_http/backend.headers.x-api-key", "looks like a credential", 20},
		{"file provider", strings.Replace(rawOK, "${env:MY_BACKEND_TOKEN}", "${file:/var/lib/phoenix/agent/credential}", 1), "exporters.otlp_http/backend.headers.authorization", "not allowed", 19},
		// Every reference of a value is checked, not only its first.
		{"file provider after an env", strings.Replace(rawOK, "${env:MY_BACKEND_TOKEN}", "${env:MY_BACKEND_TOKEN}${file:/etc/passwd}", 1), "exporters.otlp_http/backend.headers.authorization", "${file:/etc/passwd} is not allowed", 19},
		{"agent variable", strings.Replace(rawOK, "${env:MY_BACKEND_TOKEN}", "${env:PHOENIX_OWN_METRICS_HEADER_0}", 1), "exporters.otlp_http/backend.headers.authorization", "agent's own", 19},
		{"password in URL", strings.Replace(rawOK, "https://otlp.example.com:4318", "https://u:pw@otlp.example.com:4318", 1), "exporters.otlp_http/backend.endpoint", "password", 17},
		{"key_pem", strings.Replace(rawOK, "    headers:\n", "    tls:\n      key_pem: \"-----BEGIN PRIVATE KEY-----\"\n    headers:\n", 1), "exporters.otlp_http/backend.tls.key_pem", "secret written in clear", 19},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Render(Spec{Config: c.yaml}, Context{})
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) == 0 {
				t.Fatalf("want a ValidationError, got %v", err)
			}
			p := ve.Problems[0]
			if !strings.Contains(p.Message, c.msg) || p.Path != c.path || (c.line != 0 && p.Line != c.line) {
				t.Fatalf("got %v; want path %q, line %d, message with %q", p, c.path, c.line, c.msg)
			}
			if p.Line == 0 {
				t.Fatalf("problem has no line: %v", p)
			}
		})
	}
	// The host name variable is the one PHOENIX_ variable allowed.
	ok := strings.Replace(rawOK, "x-team: observability", "x-host: ${env:PHOENIX_HOST_NAME}", 1)
	if ps := ValidateRaw([]byte(ok)); len(ps) > 0 {
		t.Fatalf("PHOENIX_HOST_NAME refused: %v", ps)
	}
}

func TestRawMixedWithTemplate(t *testing.T) {
	for _, s := range []Spec{
		{Config: rawOK, Template: TemplateTopK},
		{Config: rawOK, Params: map[string]any{"k": 3}},
		{Config: rawOK, Destination: Destination{Type: DestDebug}},
	} {
		var pe *ParamError
		if _, err := Render(s, Context{}); !errors.As(err, &pe) {
			t.Errorf("%+v: want a ParamError, got %v", s, err)
		}
	}
}

// A raw candidate reads the experiment's one receiver and gets the
// variant's tagging and cardinality processors around its own.
func TestRenderExperimentRawCandidate(t *testing.T) {
	exp := ExperimentSpec{ID: "raw-exp", Baseline: Spec{Template: TemplateBaseline, Params: map[string]any{"collection_interval": "2s"}},
		Candidate: Spec{Config: rawOK}}
	r, err := RenderExperiment(exp, Context{HostNameFromEnv: true})
	if err != nil {
		t.Fatal(err)
	}
	if ps := ValidateYAML(r.YAML); len(ps) > 0 {
		t.Fatalf("rendered experiment does not validate: %v\n%s", ps, r.YAML)
	}
	var m struct {
		Receivers map[string]map[string]any `yaml:"receivers"`
		Exporters map[string]map[string]any `yaml:"exporters"`
		Service   struct {
			Pipelines map[string]struct{ Receivers, Processors, Exporters []string } `yaml:"pipelines"`
		} `yaml:"service"`
	}
	if err := yaml.Unmarshal(r.YAML, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Receivers) != 1 || m.Receivers["host_metrics"]["collection_interval"] != "2s" {
		t.Fatalf("want one receiver at the baseline's 2s: %v", m.Receivers)
	}
	c := m.Service.Pipelines["metrics/candidate"]
	want := []string{"resource/candidate/phoenix", "cardinality/candidate/in", "filter/candidate/drop_idle", "batch/candidate/raw", "cardinality/candidate/out"}
	if strings.Join(c.Processors, ",") != strings.Join(want, ",") || strings.Join(c.Receivers, ",") != "host_metrics" ||
		strings.Join(c.Exporters, ",") != "otlp_http/candidate/backend" {
		t.Fatalf("candidate pipeline %+v, want processors %v on host_metrics", c, want)
	}
	if m.Exporters["otlp_http/candidate/backend"]["endpoint"] != "https://otlp.example.com:4318" {
		t.Fatalf("the raw exporter's settings were lost: %v", m.Exporters)
	}
	y := string(r.YAML)
	for _, s := range []string{"variant: candidate", "experiment_id: raw-exp", "pipeline: raw", "value: candidate"} {
		if !strings.Contains(y, s) {
			t.Errorf("rendered experiment lacks %q", s)
		}
	}
	// Raw as the baseline, a template as the candidate: the receiver takes
	// the candidate's interval.
	exp = ExperimentSpec{ID: "raw-base", Baseline: Spec{Config: rawOK}, Candidate: Spec{Template: TemplateTopK, Params: map[string]any{"collection_interval": "5s"}}}
	r, err = RenderExperiment(exp, Context{HostName: "h1"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(r.YAML), "collection_interval: 5s") || !strings.Contains(string(r.YAML), "cardinality/baseline/in") {
		t.Fatalf("raw baseline:\n%s", r.YAML)
	}
	// Two pipelines cannot be one variant.
	two := strings.Replace(rawOK, "service:\n  pipelines:\n", "service:\n  pipelines:\n    metrics/second:\n      receivers: [host_metrics]\n      exporters: [otlp_http/backend]\n", 1)
	var pe *ParamError
	if _, err := RenderExperiment(ExperimentSpec{ID: "x", Baseline: Spec{Template: TemplateBaseline}, Candidate: Spec{Config: two}}, Context{}); !errors.As(err, &pe) || pe.Param != "candidate.config" {
		t.Fatalf("two pipelines: %v", err)
	}
}

// The real collector accepts a raw config and an experiment with it.
func TestRawPassesCollectorValidate(t *testing.T) {
	bin := testutil.OtelcolBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	t.Setenv("MY_BACKEND_TOKEN", "t")
	if err := ValidateWithBinary(ctx, bin, []byte(rawOK)); err != nil {
		t.Fatal(err)
	}
	r, err := RenderExperiment(ExperimentSpec{ID: "e", Baseline: Spec{Template: TemplateTopK}, Candidate: Spec{Config: rawOK}}, Context{HostName: "h"})
	if err != nil {
		t.Fatal(err)
	}
	if err := ValidateWithBinary(ctx, bin, r.YAML); err != nil {
		t.Fatalf("%v\n%s", err, r.YAML)
	}
}

// What the secret and reference checks add to ValidateYAML, side by side:
// go test ./pipelines -run '^$' -bench 'Validate(YAML|Raw)Config' -benchmem
func BenchmarkValidateYAMLConfig(b *testing.B) {
	data := []byte(rawOK)
	b.ReportAllocs()
	for b.Loop() {
		if ps := ValidateYAML(data); len(ps) > 0 {
			b.Fatal(ps)
		}
	}
}

func BenchmarkValidateRawConfig(b *testing.B) {
	data := []byte(rawOK)
	b.ReportAllocs()
	for b.Loop() {
		if ps := ValidateRaw(data); len(ps) > 0 {
			b.Fatal(ps)
		}
	}
}
