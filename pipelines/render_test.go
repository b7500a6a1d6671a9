package pipelines

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func decode(t *testing.T, r Rendered) map[string]any {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal(r.YAML, &m); err != nil {
		t.Fatalf("rendered YAML does not parse: %v\n%s", err, r.YAML)
	}
	return m
}

func dig(m map[string]any, path ...string) any {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[p]
	}
	return cur
}

func strs(v any) []string {
	var out []string
	for _, e := range v.([]any) {
		out = append(out, e.(string))
	}
	return out
}

func TestRenderIsDeterministic(t *testing.T) {
	ctx := Context{HostName: "web-1", Labels: map[string]string{"env": "prod", "az": "a", "role": "web"}, DeploymentID: "d-1", DeploymentVersion: 3}
	for _, name := range Names() {
		spec := Spec{Template: name, Destination: Destination{Type: DestOTLPHTTP, Endpoint: "https://otlp.example:4318",
			Headers: map[string]string{"x-b": "2", "authorization": "Bearer t", "x-a": "1"}}}
		first, err := Render(spec, ctx)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		sum := sha256.Sum256(first.YAML)
		if first.SHA256 != hex.EncodeToString(sum[:]) {
			t.Fatalf("%s: SHA256 is not the hash of the bytes", name)
		}
		// Map iteration order differs run to run: many renders catch any
		// unsorted map.
		for range 30 {
			again, err := Render(spec, ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again.YAML, first.YAML) || again.SHA256 != first.SHA256 {
				t.Fatalf("%s: two renders of the same input differ", name)
			}
		}
		other, _ := Render(Spec{Template: name, Params: map[string]any{"collection_interval": "30s"}, Destination: spec.Destination}, ctx)
		if other.SHA256 == first.SHA256 {
			t.Errorf("%s: a different parameter gives the same hash", name)
		}
	}
}

func TestRenderSharedParts(t *testing.T) {
	r, err := Render(Spec{Template: TemplateTopK, Destination: Destination{Type: DestOTLP, Endpoint: "collector:4317", Insecure: true}},
		Context{HostName: "db-7", DeploymentID: "dep-x", DeploymentVersion: 2, Labels: map[string]string{"env": "prod"}})
	if err != nil {
		t.Fatal(err)
	}
	m := decode(t, r)
	for _, want := range []string{"# deployment: dep-x\n", "# host: db-7", "# labels: env=prod"} {
		if !strings.Contains(string(r.YAML), want) {
			t.Errorf("header lacks %q", want)
		}
	}
	proc := dig(m, "receivers", "host_metrics", "scrapers", "process").(map[string]any)
	for _, k := range []string{"mute_process_name_error", "mute_process_exe_error", "mute_process_io_error", "mute_process_user_error", "mute_process_cgroup_error"} {
		if proc[k] != true {
			t.Errorf("process scraper: %s = %v, want true", k, proc[k])
		}
	}
	pipe := dig(m, "service", "pipelines", "metrics/"+TemplateTopK).(map[string]any)
	chain := strs(pipe["processors"])
	want := []string{"memory_limiter/default", "resource/phoenix", "cardinality/in", "topk/processes", "cardinality/out", "batch/default"}
	if !slices.Equal(chain, want) {
		t.Errorf("processors = %v, want %v", chain, want)
	}
	if got := strs(pipe["exporters"]); !slices.Equal(got, []string{"otlp_grpc/phoenix"}) {
		t.Errorf("exporters = %v", got)
	}
	if dig(m, "exporters", "otlp_grpc/phoenix", "tls", "insecure") != true {
		t.Error("insecure destination without tls.insecure")
	}
	attrs := dig(m, "processors", "resource/phoenix", "attributes").([]any)
	a := attrs[0].(map[string]any)
	if a["key"] != "host.name" || a["value"] != "db-7" || a["action"] != "upsert" {
		t.Errorf("resource processor = %v, want upsert host.name=db-7", attrs)
	}
	for _, stage := range []string{"in", "out"} {
		c := dig(m, "processors", "cardinality/"+stage).(map[string]any)
		if c["pipeline"] != TemplateTopK || c["stage"] != map[string]string{"in": "input", "out": "output"}[stage] {
			t.Errorf("cardinality/%s = %v", stage, c)
		}
	}
	if dig(m, "service", "telemetry") != nil || dig(m, "extensions") != nil {
		t.Error("telemetry and extensions belong to the agent")
	}
	// No host name: the collector's environment names it (no
	// resource_detection: phoenix-otelcol does not have it).
	r, err = Render(Spec{Template: TemplateBaseline}, Context{})
	if err != nil {
		t.Fatal(err)
	}
	m = decode(t, r)
	chain = strs(dig(m, "service", "pipelines", "metrics/"+TemplateBaseline, "processors"))
	if !slices.Contains(chain, "resource/phoenix") || strings.Contains(string(r.YAML), "resource_detection") {
		t.Errorf("without a host name: processors = %v", chain)
	}
	if attrs := dig(m, "processors", "resource/phoenix", "attributes").([]any); len(attrs) != 1 ||
		attrs[0].(map[string]any)["value"] != EnvHostNameChain {
		t.Errorf("without a host name: resource attributes = %v, want host.name %s", attrs, EnvHostNameChain)
	}
	if dig(m, "exporters", "nop/phoenix") == nil {
		t.Errorf("default destination should be none (nop): %v", dig(m, "exporters"))
	}
}

func TestRenderExperimentOneReceiverTwoPipelines(t *testing.T) {
	exp := ExperimentSpec{ID: "exp-42",
		Baseline:  Spec{Template: TemplateBaseline, Destination: Destination{Type: DestOTLPHTTP, Endpoint: "http://a:4318"}},
		Candidate: Spec{Template: TemplateTopK, Params: map[string]any{"k": 5}, Destination: Destination{Type: DestOTLPHTTP, Endpoint: "http://b:4318"}},
	}
	r, err := RenderExperiment(exp, Context{HostName: "h"})
	if err != nil {
		t.Fatal(err)
	}
	m := decode(t, r)
	if n := len(m["receivers"].(map[string]any)); n != 1 {
		t.Fatalf("%d receivers, want 1", n)
	}
	pipes := dig(m, "service", "pipelines").(map[string]any)
	if len(pipes) != 2 {
		t.Fatalf("pipelines = %v", pipes)
	}
	for _, variant := range []string{VariantBaseline, VariantCandidate} {
		p := pipes["metrics/"+variant].(map[string]any)
		if got := strs(p["receivers"]); !slices.Equal(got, []string{"host_metrics"}) {
			t.Errorf("%s receivers = %v", variant, got)
		}
		chain := strs(p["processors"])
		for _, stage := range []string{"in", "out"} {
			cid := "cardinality/" + variant + "/" + stage
			if !slices.Contains(chain, cid) {
				t.Errorf("%s lacks %s: %v", variant, cid, chain)
			}
			c := dig(m, "processors", cid).(map[string]any)
			if c["variant"] != variant || c["experiment_id"] != "exp-42" {
				t.Errorf("%s: variant/experiment labels = %v", cid, c)
			}
		}
		attrs := dig(m, "processors", "resource/"+variant+"/phoenix", "attributes").([]any)
		found := false
		for _, a := range attrs {
			a := a.(map[string]any)
			if a["key"] == AttrVariant && a["value"] == variant {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no %s resource attribute: %v", variant, AttrVariant, attrs)
		}
	}
	if dig(m, "processors", "topk/candidate/processes", "top_k") != 5 {
		t.Error("candidate's k did not reach its topk processor")
	}

	// Errors name the variant.
	bad := exp
	bad.Candidate.Params = map[string]any{"k": -1}
	_, err = RenderExperiment(bad, Context{})
	var pe *ParamError
	if !errors.As(err, &pe) || pe.Param != "candidate.k" {
		t.Fatalf("error = %v, want ParamError on candidate.k", err)
	}
	bad = exp
	bad.Candidate.Params = map[string]any{"collection_interval": "10s"}
	if _, err = RenderExperiment(bad, Context{}); !errors.As(err, &pe) || pe.Param != "candidate.collection_interval" {
		t.Fatalf("error = %v, want ParamError on candidate.collection_interval", err)
	}
	bad = exp
	bad.ID = ""
	if _, err = RenderExperiment(bad, Context{}); !errors.As(err, &pe) || pe.Param != "experiment.id" {
		t.Fatalf("error = %v, want ParamError on experiment.id", err)
	}
	bad = exp
	bad.Candidate.Template = "nope"
	if _, err = RenderExperiment(bad, Context{}); !errors.Is(err, ErrUnknownTemplate) {
		t.Fatalf("error = %v, want ErrUnknownTemplate", err)
	}
}

func TestWithLoadSim(t *testing.T) {
	exp := ExperimentSpec{ID: "e", Baseline: Spec{Template: TemplateBaseline}, Candidate: Spec{Template: TemplatePriorityBased}}
	r, err := RenderExperiment(exp, Context{HostName: "h"})
	if err != nil {
		t.Fatal(err)
	}
	sim := LoadSim{Profile: "high-cardinality", Duration: 10 * time.Minute, Seed: 7, ProcessCount: 1200}
	withSim, err := WithLoadSim(r, sim)
	if err != nil {
		t.Fatal(err)
	}
	if withSim.SHA256 == r.SHA256 {
		t.Fatal("the load simulation did not change the hash")
	}
	m := decode(t, withSim)
	lg := dig(m, "receivers", "loadgen").(map[string]any)
	if lg["profile"] != "high-cardinality" || lg["duration"] != "10m0s" || lg["seed"] != 7 || lg["process_count"] != 1200 || lg["collection_interval"] != "1m0s" {
		t.Errorf("loadgen = %v", lg)
	}
	for name, p := range dig(m, "service", "pipelines").(map[string]any) {
		if got := strs(p.(map[string]any)["receivers"]); !slices.Equal(got, []string{"host_metrics", "loadgen"}) {
			t.Errorf("%s receivers = %v", name, got)
		}
	}
	if !strings.HasPrefix(string(withSim.YAML), "# phoenix-otelcol config rendered") || !strings.Contains(string(withSim.YAML), "# load simulation: profile high-cardinality") {
		t.Errorf("header lost or load simulation not recorded:\n%s", withSim.YAML[:300])
	}
	again, _ := WithLoadSim(r, sim)
	if again.SHA256 != withSim.SHA256 {
		t.Error("WithLoadSim is not deterministic")
	}
	if _, err := WithLoadSim(withSim, sim); err == nil {
		t.Error("adding a second simulation should fail")
	}
	inline := "processes:\n  - {name_template: 'w {i}', count: 3}\n"
	withInline, err := WithLoadSim(r, LoadSim{Profile: "custom", ProfileYAML: inline})
	if err != nil {
		t.Fatal(err)
	}
	if got := dig(decode(t, withInline), "receivers", "loadgen").(map[string]any)["profile_yaml"]; got != inline {
		t.Errorf("inline custom profile not passed to the receiver: %v", got)
	}

	var pe *ParamError
	for _, c := range []struct {
		sim   LoadSim
		field string
		msg   string
	}{
		{LoadSim{Profile: "huge"}, "load_sim", "unknown profile"},
		{LoadSim{Profile: "realistic", ProcessCount: 5}, "load_sim", "process_count"},
		{LoadSim{Profile: "realistic", Duration: -time.Second}, "load_sim", "duration"},
		{LoadSim{Profile: "custom"}, "load_sim.profile_file", "required"},
		{LoadSim{Profile: "custom", ProfileYAML: "processes: ["}, "load_sim", "profile_yaml:"},
		{LoadSim{Profile: "custom", ProfileYAML: "processes: []", ProfileFile: "/p.yaml"}, "load_sim.profile_yaml", "not both"},
		{LoadSim{Profile: "realistic", Seed: -1}, "load_sim.seed", ">= 0"},
	} {
		_, err := WithLoadSim(r, c.sim)
		if !errors.As(err, &pe) || pe.Param != c.field || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("WithLoadSim(%+v) = %v, want ParamError on %s mentioning %q", c.sim, err, c.field, c.msg)
		}
	}
}

func TestInputLoadGen(t *testing.T) {
	r, err := Render(Spec{Template: TemplateBaseline, Params: map[string]any{"collection_interval": "1s"},
		Input: Input{Mode: InputLoadGen, LoadGen: &LoadSim{Profile: "realistic", Seed: 3}}}, Context{HostName: "h"})
	if err != nil {
		t.Fatal(err)
	}
	m := decode(t, r)
	if dig(m, "receivers", "host_metrics") != nil || dig(m, "receivers", "loadgen", "collection_interval") != "1s" {
		t.Fatalf("receivers = %v", m["receivers"])
	}
	var pe *ParamError
	if _, err := Render(Spec{Template: TemplateBaseline, Input: Input{Mode: InputLoadGen}}, Context{}); !errors.As(err, &pe) || pe.Param != "input.loadgen" {
		t.Errorf("loadgen without a profile: %v", err)
	}
	if _, err := Render(Spec{Template: TemplateBaseline, Input: Input{Mode: "kernel"}}, Context{}); !errors.As(err, &pe) || pe.Param != "input.mode" {
		t.Errorf("unknown input mode: %v", err)
	}
}

func TestBadDestinationsNameTheField(t *testing.T) {
	for _, c := range []struct {
		d     Destination
		field string
	}{
		{Destination{Type: "kafka"}, "destination.type"},
		{Destination{Type: DestOTLP}, "destination.endpoint"},
		{Destination{Type: DestOTLP, Endpoint: "collector"}, "destination.endpoint"},
		{Destination{Type: DestOTLP, Endpoint: "collector:99999"}, "destination.endpoint"},
		{Destination{Type: DestOTLPHTTP, Endpoint: "collector:4318"}, "destination.endpoint"},
		{Destination{Type: DestPromRW, Endpoint: "ftp://x/api/v1/write"}, "destination.endpoint"},
		{Destination{Type: DestPromRW, Endpoint: "https://x/api/v1/write", Headers: map[string]string{"bad name": "v"}}, "destination.headers"},
		{Destination{Type: DestOTLPHTTP, Endpoint: "https://x", Headers: map[string]string{"authorization": "${file:/etc/shadow}"}}, "destination.headers"},
		{Destination{Type: DestOTLPHTTP, Endpoint: "https://x", Headers: map[string]string{"authorization": "Bearer ${env:TOKEN"}}, "destination.headers"},
		{Destination{Type: DestDebug, Endpoint: "http://x"}, "destination.endpoint"},
	} {
		_, err := Render(Spec{Template: TemplateBaseline, Destination: c.d}, Context{})
		var pe *ParamError
		if !errors.As(err, &pe) || pe.Param != c.field {
			t.Errorf("%+v: error %v, want a ParamError on %s", c.d, err, c.field)
		}
	}
	for _, d := range []Destination{
		{Type: DestOTLP, Endpoint: "collector:4317"},
		{Type: "otlp_grpc", Endpoint: "https://collector:4317"},
		{Type: DestOTLPHTTP, Endpoint: "https://collector:4318", Headers: map[string]string{"authorization": "Bearer x"}},
		{Type: DestOTLPHTTP, Endpoint: "https://collector:4318", Headers: map[string]string{"authorization": "Bearer ${env:OTLP_TOKEN}"}},
		{Type: DestPromRW, Endpoint: "http://prom:9090/api/v1/write", Insecure: true},
		{Type: DestDebug},
		{Type: DestNone},
	} {
		if _, err := Render(Spec{Template: TemplateBaseline, Destination: d}, Context{}); err != nil {
			t.Errorf("%+v: %v", d, err)
		}
	}
	var pe *ParamError
	if _, err := Render(Spec{Template: TemplateBaseline}, Context{HostName: "bad host\nname"}); !errors.As(err, &pe) || pe.Param != "context.host_name" {
		t.Errorf("bad host name: %v", err)
	}
}

// A rollback to version N is a new version with N's spec: it must render
// N's bytes exactly, so the version number stays out of the config.
func TestRenderIsIndependentOfVersion(t *testing.T) {
	spec := Spec{Template: TemplateTopK, Params: map[string]any{"k": 7}}
	v1, err := Render(spec, Context{HostName: "web-1", DeploymentID: "d", DeploymentVersion: 1})
	if err != nil {
		t.Fatal(err)
	}
	v3, err := Render(spec, Context{HostName: "web-1", DeploymentID: "d", DeploymentVersion: 3})
	if err != nil {
		t.Fatal(err)
	}
	if v1.SHA256 != v3.SHA256 {
		t.Fatalf("version 1 and version 3 of one spec render different configs:\n%s\n---\n%s", v1.YAML, v3.YAML)
	}
}

// Remote write is rendered with small sequential requests (the collector's
// memory; see the comment in exporter and benchmarks/README.md).
func TestRenderRemoteWriteMemory(t *testing.T) {
	r, err := Render(Spec{Template: TemplateBaseline, Destination: Destination{Type: DestPromRW, Endpoint: "http://prom:9090/api/v1/write"}}, Context{HostName: "h"})
	if err != nil {
		t.Fatal(err)
	}
	e := dig(decode(t, r), "exporters", "prometheus_remote_write/phoenix").(map[string]any)
	if e["max_batch_size_bytes"] != 1000000 || e["max_batch_request_parallelism"] != 1 {
		t.Errorf("remote write exporter = %v, want max_batch_size_bytes 1000000, max_batch_request_parallelism 1", e)
	}
	// TestDestinationsKeepProcessIdentity checks what arrives in Prometheus.
	if e["disable_scope_info"] != true {
		t.Errorf("remote write exporter = %v, want disable_scope_info: true (no otel_scope_* labels)", e)
	}
}
