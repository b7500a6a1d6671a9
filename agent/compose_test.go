package agent

import (
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

const userCfg = `receivers:
  host_metrics:
    scrapers: {memory: {}}
exporters:
  debug: {}
extensions:
  pprof: {}
service:
  extensions: [pprof]
  pipelines:
    metrics:
      receivers: [host_metrics]
      exporters: [debug]
  telemetry:
    logs:
      level: debug
      output_paths: [/var/log/otel.log]
`

func composeMap(t *testing.T, files map[string]string, inj injection) map[string]any {
	t.Helper()
	user, err := mergeConfigFiles(files)
	if err != nil {
		t.Fatal(err)
	}
	out, err := compose(user, inj)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(out, &m); err != nil {
		t.Fatalf("composed config is not YAML: %v\n%s", err, out)
	}
	return m
}

func get(m map[string]any, path ...string) any {
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

func TestComposeInjectsHealthCheckAndTelemetry(t *testing.T) {
	m := composeMap(t, map[string]string{"": userCfg}, injection{
		HealthEndpoint: "127.0.0.1:1234",
		Resource:       map[string]string{"service.instance.id": "u-1", "host.name": "h"},
	})
	if got := get(m, "extensions", healthExtensionID, "endpoint"); got != "127.0.0.1:1234" {
		t.Fatalf("health_check endpoint = %v", got)
	}
	exts := get(m, "service", "extensions").([]any)
	if len(exts) != 2 || exts[0] != "pprof" || exts[1] != healthExtensionID {
		t.Fatalf("service::extensions = %v, want [pprof %s]", exts, healthExtensionID)
	}
	if get(m, "extensions", "pprof") == nil {
		t.Fatal("the user's extension was dropped")
	}
	// Logs go to stderr (the agent reads them) but the user's level stays.
	if got := get(m, "service", "telemetry", "logs", "output_paths").([]any); len(got) != 1 || got[0] != "stderr" {
		t.Fatalf("logs output_paths = %v", got)
	}
	if got := get(m, "service", "telemetry", "logs", "level"); got != "debug" {
		t.Fatalf("the user's log level was changed to %v", got)
	}
	// No own metrics offered: no :8888 listener.
	if got := get(m, "service", "telemetry", "metrics", "level"); got != "none" {
		t.Fatalf("metrics level without own metrics = %v, want none", got)
	}
	attrs := get(m, "service", "telemetry", "resource", "attributes").([]any)
	if len(attrs) != 2 || get(attrs[0].(map[string]any), "name") != "host.name" ||
		get(attrs[1].(map[string]any), "name") != "service.instance.id" || get(attrs[1].(map[string]any), "value") != "u-1" {
		t.Fatalf("resource attributes = %v", attrs)
	}
	// The pipeline is untouched.
	if got := get(m, "service", "pipelines", "metrics", "exporters").([]any); len(got) != 1 || got[0] != "debug" {
		t.Fatalf("pipeline exporters = %v", got)
	}
}

func TestComposeOwnMetricsReader(t *testing.T) {
	m := composeMap(t, map[string]string{"": userCfg}, injection{
		HealthEndpoint: "127.0.0.1:1",
		OwnMetrics:     &ownMetricsDest{Endpoint: "http://srv:8080/v1/metrics", Headers: map[string]string{"Authorization": "Bearer x"}},
		MetricsPeriod:  2 * time.Second,
	})
	if got := get(m, "service", "telemetry", "metrics", "level"); got != "normal" {
		t.Fatalf("metrics level = %v, want normal", got)
	}
	readers := get(m, "service", "telemetry", "metrics", "readers").([]any)
	if len(readers) != 1 {
		t.Fatalf("readers = %v", readers)
	}
	r := readers[0].(map[string]any)
	if got := get(r, "periodic", "interval"); got != 2000 {
		t.Fatalf("interval = %v, want 2000 (ms)", got)
	}
	otlp := get(r, "periodic", "exporter", "otlp").(map[string]any)
	if otlp["endpoint"] != "http://srv:8080/v1/metrics" || otlp["protocol"] != "http/protobuf" {
		t.Fatalf("otlp exporter = %v", otlp)
	}
	hs := otlp["headers"].([]any)
	// The credential goes through the collector's environment, never into the file.
	if h := hs[0].(map[string]any); h["name"] != "Authorization" || h["value"] != "${env:PHOENIX_OWN_METRICS_HEADER_0}" {
		t.Fatalf("headers = %v", hs)
	}
	if env := ownMetricsEnv(&ownMetricsDest{Headers: map[string]string{"Authorization": "Bearer x"}}); len(env) != 1 || env[0] != "PHOENIX_OWN_METRICS_HEADER_0=Bearer x" {
		t.Fatalf("collector env = %v", env)
	}
}

func TestComposeKeepsUserMetricsReaders(t *testing.T) {
	cfg := userCfg + `    metrics:
      level: detailed
      readers:
        - pull: {exporter: {prometheus: {host: 127.0.0.1, port: 9999}}}
`
	m := composeMap(t, map[string]string{"": cfg}, injection{HealthEndpoint: "127.0.0.1:1"})
	if got := get(m, "service", "telemetry", "metrics", "level"); got != "detailed" {
		t.Fatalf("level = %v, want the user's detailed", got)
	}
	m = composeMap(t, map[string]string{"": cfg}, injection{HealthEndpoint: "127.0.0.1:1", OwnMetrics: &ownMetricsDest{Endpoint: "http://s/v1/metrics"}})
	if got := get(m, "service", "telemetry", "metrics", "readers").([]any); len(got) != 2 {
		t.Fatalf("readers = %v, want the user's and the agent's", got)
	}
}

func TestComposeResourceKeepsTheUsersForm(t *testing.T) {
	inj := injection{HealthEndpoint: "127.0.0.1:1", Resource: map[string]string{"service.instance.id": "u-1"}}
	// Legacy inline map: stay legacy (the collector refuses a mix).
	legacy := "service:\n  pipelines: {}\n  telemetry:\n    resource:\n      deployment.environment: prod\n"
	m := composeMap(t, map[string]string{"": legacy}, inj)
	if get(m, "service", "telemetry", "resource", "service.instance.id") != "u-1" ||
		get(m, "service", "telemetry", "resource", "deployment.environment") != "prod" ||
		get(m, "service", "telemetry", "resource", "attributes") != nil {
		t.Fatalf("legacy resource = %v", get(m, "service", "telemetry", "resource"))
	}
	// Declarative list: the user's other attributes stay, the agent's identity wins.
	decl := "service:\n  pipelines: {}\n  telemetry:\n    resource:\n      attributes:\n        - {name: service.instance.id, value: spoofed}\n        - {name: team, value: sre}\n"
	m = composeMap(t, map[string]string{"": decl}, inj)
	attrs := get(m, "service", "telemetry", "resource", "attributes").([]any)
	if len(attrs) != 2 || get(attrs[0].(map[string]any), "value") != "sre" || get(attrs[1].(map[string]any), "value") != "u-1" {
		t.Fatalf("declarative resource = %v", attrs)
	}
}

func TestComposeDoesNotDuplicateHealthExtension(t *testing.T) {
	cfg := "service:\n  extensions: [" + healthExtensionID + "]\n  pipelines: {}\n"
	m := composeMap(t, map[string]string{"": cfg}, injection{HealthEndpoint: "127.0.0.1:1"})
	if got := get(m, "service", "extensions").([]any); len(got) != 1 {
		t.Fatalf("service::extensions = %v", got)
	}
}

func TestComposeDoesNotMutateInput(t *testing.T) {
	user, err := mergeConfigFiles(map[string]string{"": userCfg})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := compose(user, injection{HealthEndpoint: "127.0.0.1:1"}); err != nil {
		t.Fatal(err)
	}
	if get(user, "extensions", healthExtensionID) != nil || get(user, "service", "telemetry", "metrics") != nil {
		t.Fatal("compose changed the stored user config")
	}
}

func TestComposeErrorsNameThePath(t *testing.T) {
	for cfg, want := range map[string]string{
		"extensions: [a, b]\n":                  "extensions must be a mapping",
		"service: 3\n":                          "service must be a mapping",
		"service:\n  extensions: pprof\n":       "service::extensions must be a list",
		"service:\n  telemetry: [x]\n":          "service::telemetry must be a mapping",
		"service:\n  telemetry:\n    logs: 1\n": "service::telemetry::logs must be a mapping",
	} {
		user, err := mergeConfigFiles(map[string]string{"": cfg})
		if err != nil {
			t.Fatal(err)
		}
		_, err = compose(user, injection{HealthEndpoint: "127.0.0.1:1"})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", cfg, err, want)
		}
	}
}

func TestMergeConfigFiles(t *testing.T) {
	m, err := mergeConfigFiles(map[string]string{
		"a.yaml": "exporters:\n  debug: {verbosity: basic}\n  nop: {}\n",
		"b.yaml": "exporters:\n  debug: {verbosity: detailed}\n",
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := get(m, "exporters", "debug", "verbosity"); got != "detailed" {
		t.Fatalf("later file did not win: %v", got)
	}
	if get(m, "exporters", "nop") == nil {
		t.Fatal("merge dropped a key of the first file")
	}
	_, err = mergeConfigFiles(map[string]string{"pipeline.yaml": "receivers: [unclosed\n"})
	if err == nil || !strings.Contains(err.Error(), `config file "pipeline.yaml" is not valid YAML`) {
		t.Fatalf("bad YAML error = %v", err)
	}
}

func TestNormalizeMetricsEndpoint(t *testing.T) {
	for in, want := range map[string]string{
		"http://srv:8080":             "http://srv:8080/v1/metrics",
		"http://srv:8080/":            "http://srv:8080/v1/metrics",
		"https://srv/v1/metrics":      "https://srv/v1/metrics",
		"http://srv:8080/custom/path": "http://srv:8080/custom/path",
	} {
		got, err := normalizeMetricsEndpoint(in)
		if err != nil || got != want {
			t.Errorf("%s -> %s, %v; want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"srv:4317", "grpc://srv:4317", "http://"} {
		if _, err := normalizeMetricsEndpoint(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func BenchmarkCompose(b *testing.B) {
	user, err := mergeConfigFiles(map[string]string{"": userCfg})
	if err != nil {
		b.Fatal(err)
	}
	inj := injection{
		HealthEndpoint: "127.0.0.1:1234",
		OwnMetrics:     &ownMetricsDest{Endpoint: "http://srv:8080/v1/metrics"},
		Resource:       map[string]string{"service.instance.id": "u", "host.name": "h"},
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := compose(user, inj); err != nil {
			b.Fatal(err)
		}
	}
}

// An experiment sampled every 10 s sets its cardinality windows to 10 s:
// the collector then pushes every 3.333 s (three pushes per window); a
// 1-minute window leaves the period alone.
func TestComposeOwnMetricsPeriodFollowsShortWindows(t *testing.T) {
	period := func(window string) any {
		t.Helper()
		cfg := userCfg + "\nprocessors:\n  cardinality/baseline/in:\n    window: " + window + "\n  cardinality/candidate/out:\n    window: 1m\n"
		m := composeMap(t, map[string]string{"": cfg}, injection{HealthEndpoint: "127.0.0.1:1",
			OwnMetrics: &ownMetricsDest{Endpoint: "http://srv:8080/v1/metrics"}})
		r := get(m, "service", "telemetry", "metrics", "readers").([]any)[0].(map[string]any)
		return get(r, "periodic", "interval")
	}
	if got := period("10s"); got != 3333 {
		t.Fatalf("10s windows: push every %v ms, want 3333", got)
	}
	if got := period("2s"); got != 1000 {
		t.Fatalf("2s windows: push every %v ms, want 1000 (the floor)", got)
	}
	if got := period("1m"); got != 10000 {
		t.Fatalf("1m windows: push every %v ms, want the default 10000", got)
	}
}
