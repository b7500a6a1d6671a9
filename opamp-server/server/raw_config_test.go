package server_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

// rawConfig is a user's own collector YAML; tag changes its bytes.
func rawConfig(tag string) string {
	return `# ` + tag + `
receivers:
  host_metrics:
    collection_interval: 10s
    scrapers:
      process:
        mute_process_all_errors: true
processors:
  batch:
exporters:
  debug:
    verbosity: basic
service:
  pipelines:
    metrics:
      receivers: [host_metrics]
      processors: [batch]
      exporters: [debug]
`
}

func sha(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }

// A raw config is stored, versioned and rolled back like a template, and
// reaches the agent as the very bytes given (its hash is theirs).
func TestRawConfigDeployment(t *testing.T) {
	ts := startServer(t, newConfig(t))
	a := ts.agent(t, "raw-1", nil)
	ts.waitAgentKnown(t, "raw-1")
	v1, v2 := rawConfig("v1"), rawConfig("v2")
	out := ts.mustCall(t, "POST", "/api/v1/deployments", map[string]any{"name": "own", "config": v1, "target": map[string]any{"hosts": []string{"raw-1"}}}, 201)
	if out["config"] != v1 || out["template"] != "" {
		t.Fatalf("created %v", out)
	}
	ts.waitHosts(t, "applied", "raw-1")
	if a.EffectiveHash() != sha(v1) {
		t.Fatalf("agent runs %s, want the raw config's own hash %s", a.EffectiveHash(), sha(v1))
	}
	cfg := ts.mustCall(t, "GET", "/api/v1/deployments/own/config", nil, 200)
	if cfg["yaml"] != v1 || cfg["sha256"] != sha(v1) {
		t.Fatalf("config endpoint %v", cfg)
	}
	// The same config again stores nothing.
	out = ts.mustCall(t, "PUT", "/api/v1/deployments/own", map[string]any{"config": v1}, 200)
	if out["unchanged"] != true {
		t.Fatalf("same raw config: %v", out)
	}
	out = ts.mustCall(t, "PUT", "/api/v1/deployments/own", map[string]any{"config": v2}, 200)
	if num(out["version"]) != 2 {
		t.Fatalf("update: %v", out)
	}
	eventually(t, "agent runs v2", func() (bool, string) { return a.EffectiveHash() == sha(v2), a.EffectiveHash() })
	out = ts.mustCall(t, "POST", "/api/v1/deployments/own/rollback", map[string]any{"to_version": 1}, 200)
	if num(out["version"]) != 3 || out["config"] != v1 || num(out["rollback_of"]) != 1 {
		t.Fatalf("rollback: %v", out)
	}
	eventually(t, "agent runs v1 again", func() (bool, string) { return a.EffectiveHash() == sha(v1), a.EffectiveHash() })
	vs := ts.mustCall(t, "GET", "/api/v1/deployments/own/versions", nil, 200)["versions"].([]any)
	if len(vs) != 3 || vs[1].(map[string]any)["config"] != v2 {
		t.Fatalf("versions %v", vs)
	}
	// A template replaces the raw config on update, and back.
	out = ts.mustCall(t, "PUT", "/api/v1/deployments/own", map[string]any{"template": "process-topk-v1"}, 200)
	if out["config"] != nil || out["template"] != "process-topk-v1" {
		t.Fatalf("template over raw: %v", out)
	}
}

// Bad raw configs are refused with 422 naming the field, line and path,
// and change nothing stored.
func TestRawConfigRefused(t *testing.T) {
	ts := startServer(t, newConfig(t))
	good := rawConfig("good")
	ts.mustCall(t, "POST", "/api/v1/deployments", map[string]any{"name": "own", "config": good, "target": map[string]any{"hosts": []string{"h1"}}}, 201)
	cases := []struct{ name, yaml, want string }{
		{"bad YAML", "receivers: [\n", "invalid YAML"},
		{"unknown component", strings.Replace(good, "batch:\n", "kafka:\n", 1), `line 9, column 3 (processors.kafka): unknown processor type "kafka"`},
		{"no exporter", strings.Replace(good, "      exporters: [debug]\n", "", 1), "has no exporters"},
		{"clear secret", strings.Replace(strings.Replace(good, "  debug:\n    verbosity: basic\n", "  otlp_http:\n    endpoint: https://x.example.com\n    headers:\n      Authorization: Bearer abc\n", 1), "[debug]", "[otlp_http]", 1), "looks like a credential"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, req := range []struct{ method, path string }{{"POST", "/api/v1/deployments"}, {"PUT", "/api/v1/deployments/own"}} {
				body := map[string]any{"name": "own", "config": c.yaml, "target": map[string]any{"hosts": []string{"h1"}}}
				if req.method == "POST" {
					body["name"] = "other"
					body["target"] = map[string]any{"hosts": []string{"h2"}}
				}
				code, out := ts.call(t, req.method, req.path, body)
				if code != 422 || out["field"] != "config" || !strings.Contains(str(out["detail"]), c.want) {
					t.Fatalf("%s: %d %v, want 422 on field config with %q", req.method, code, out, c.want)
				}
				if ps, _ := out["problems"].([]any); len(ps) == 0 {
					t.Fatalf("%s: no problems listed: %v", req.method, out)
				}
			}
			l := ts.mustCall(t, "GET", "/api/v1/deployments", nil, 200)["deployments"].([]any)
			d := l[0].(map[string]any)
			if len(l) != 1 || num(d["version"]) != 1 || d["config"] != good {
				t.Fatalf("stored state changed: %v", l)
			}
		})
	}
	// Template and raw config together, and raw config with a destination.
	for i, body := range []map[string]any{
		{"name": "mix", "config": good, "template": "process-topk-v1", "target": map[string]any{"hosts": []string{"h3"}}},
		{"name": "mix", "config": good, "destination": map[string]any{"type": "debug"}, "target": map[string]any{"hosts": []string{"h3"}}},
	} {
		code, out := ts.call(t, "POST", "/api/v1/deployments", body)
		if code != 422 {
			t.Errorf("case %d: %d %v", i, code, out)
		}
	}
	if code, _ := ts.call(t, "GET", "/api/v1/deployments/mix", nil); code != 404 {
		t.Fatalf("a refused mix was stored (%d)", code)
	}
}

// An experiment variant's raw config is checked like a deployment's: a bad
// one is 422 naming the variant's config and no experiment is stored.
func TestRawConfigExperimentVariantRefused(t *testing.T) {
	ts := startServer(t, newConfig(t))
	ts.agent(t, "h1", nil)
	ts.waitAgentKnown(t, "h1")
	good := rawConfig("good")
	cases := []struct {
		variant map[string]any
		field   string
	}{
		{map[string]any{"config": strings.Replace(good, "batch:\n", "kafka:\n", 1)}, "candidate.config"},
		{map[string]any{"config": good, "template": "process-topk-v1"}, "candidate.config"},
		{map[string]any{"config": strings.Replace(good, "exporters: [debug]", "exporters: [debug]\n    logs:\n      receivers: [host_metrics]\n      exporters: [debug]", 1)}, "candidate.config"},
	}
	for i, c := range cases {
		code, out := ts.call(t, "POST", "/api/v1/experiments", map[string]any{"name": "raw-exp", "target": map[string]any{"hosts": []string{"h1"}},
			"baseline": map[string]any{"template": "process-baseline-v1"}, "candidate": c.variant})
		if code != 422 || out["field"] != c.field {
			t.Errorf("case %d: %d %v, want 422 on %s", i, code, out, c.field)
		}
	}
	if l := ts.mustCall(t, "GET", "/api/v1/experiments", nil, 200)["experiments"].([]any); len(l) != 0 {
		t.Fatalf("a refused experiment was stored: %v", l)
	}
	// A good one is accepted.
	ts.mustCall(t, "POST", "/api/v1/experiments", map[string]any{"name": "raw-exp", "target": map[string]any{"hosts": []string{"h1"}},
		"baseline": map[string]any{"template": "process-baseline-v1"}, "candidate": map[string]any{"config": good}}, 201)
}
