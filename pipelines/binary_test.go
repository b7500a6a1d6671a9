package pipelines

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/internal/testutil"
)

// Every template, with its defaults, passes the real `phoenix-otelcol
// validate`: alone, as each variant of an experiment, and with a load
// simulation added.
func TestTemplatesPassCollectorValidate(t *testing.T) {
	bin := testutil.OtelcolBinary(t)
	ctx := Context{HostName: "validate-host", DeploymentID: "d", DeploymentVersion: 1}
	sim := LoadSim{Profile: "high-cardinality", Duration: 5 * time.Minute, Seed: 2}
	dests := []Destination{
		{Type: DestOTLP, Endpoint: "127.0.0.1:4317", Insecure: true},
		{Type: DestOTLPHTTP, Endpoint: "https://otlp.example.com:4318", Headers: map[string]string{"authorization": "Bearer ${env:PHOENIX_TEST_TOKEN}"}},
		{Type: DestPromRW, Endpoint: "http://prom.example.com:9090/api/v1/write"},
		{Type: DestDebug},
		{Type: DestNone},
	}
	names := Names()
	for i, name := range names {
		t.Run(name, func(t *testing.T) {
			next := names[(i+1)%len(names)]
			requireComponents(t, bin, name, next)
			single, err := Render(Spec{Template: name, Destination: dests[i%len(dests)]}, ctx)
			if err != nil {
				t.Fatal(err)
			}
			validateBinary(t, bin, name, single.YAML)
			withSim, err := WithLoadSim(single, sim)
			if err != nil {
				t.Fatal(err)
			}
			validateBinary(t, bin, name+" with a load simulation", withSim.YAML)

			// Rotating the pairs puts every template once in each variant.
			exp, err := RenderExperiment(ExperimentSpec{ID: "exp-" + name,
				Baseline:  Spec{Template: name, Destination: dests[(i+1)%len(dests)]},
				Candidate: Spec{Template: next, Destination: dests[(i+2)%len(dests)]}}, Context{})
			if err != nil {
				t.Fatal(err)
			}
			validateBinary(t, bin, "experiment "+name+" vs "+next, exp.YAML)
			expSim, err := WithLoadSim(exp, LoadSim{Profile: "realistic"})
			if err != nil {
				t.Fatal(err)
			}
			validateBinary(t, bin, "experiment "+name+" vs "+next+" with a load simulation", expSim.YAML)
		})
	}
	// Loadgen as the only input.
	requireComponents(t, bin, TemplateTopK)
	lg, err := Render(Spec{Template: TemplateTopK, Input: Input{Mode: InputLoadGen, LoadGen: &LoadSim{Profile: "process-churn", ChurnRate: 20}}}, ctx)
	if err != nil {
		t.Fatal(err)
	}
	validateBinary(t, bin, "loadgen input", lg.YAML)
}

// ValidateWithBinary returns the collector's own message for a config it
// refuses.
func TestValidateWithBinaryReportsTheCollectorsError(t *testing.T) {
	bin := testutil.OtelcolBinary(t)
	r, err := Render(Spec{Template: TemplateBaseline}, Context{HostName: "h"})
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(r.YAML), "limit_mib: 256", "limit_mib: 0", 1)
	err = ValidateWithBinary(context.Background(), bin, []byte(broken))
	var be *BinaryValidationError
	if !errors.As(err, &be) {
		t.Fatalf("error = %v, want a *BinaryValidationError", err)
	}
	if !strings.Contains(be.Output, "memory_limiter") {
		t.Errorf("the collector's message does not name the component: %s", be.Output)
	}
	// A component ValidateYAML cannot judge (its settings) is judged by the binary.
	if probs := ValidateYAML([]byte(broken)); len(probs) != 0 {
		t.Errorf("ValidateYAML found %v; settings are the binary's to judge", probs)
	}
	if err := ValidateWithBinary(context.Background(), bin, r.YAML); err != nil {
		t.Errorf("valid config refused: %v", err)
	}
}

// Components (what ValidateYAML accepts) must match the built collector.
func TestComponentsMatchTheBuiltCollector(t *testing.T) {
	bin := testutil.OtelcolBinary(t)
	requireComponents(t, bin, Names()...)
	built := builtComponents(t, bin)
	for kind, names := range built {
		for _, n := range names {
			if !slices.Contains(Components[kind], n) {
				t.Errorf("%s %q is in phoenix-otelcol but not in pipelines.Components", kind, n)
			}
		}
	}
	// Every name in the list, aliases included, must load: a config using
	// each one passes validate.
	for kind, names := range Components {
		for _, n := range names {
			if !slices.Contains(built[kind], n) {
				// An alias: check it loads.
				cfg := aliasConfig(kind, n)
				if err := ValidateWithBinary(context.Background(), bin, []byte(cfg)); err != nil {
					t.Errorf("%s %q is in pipelines.Components but phoenix-otelcol does not know it: %v", kind, n, err)
				}
			}
		}
	}
}

func aliasConfig(kind, typ string) string {
	switch kind {
	case KindReceiver:
		return "receivers:\n  " + typ + ":\n    scrapers:\n      cpu:\nexporters:\n  nop:\nservice:\n  pipelines:\n    metrics:\n      receivers: [" + typ + "]\n      exporters: [nop]\n"
	case KindProcessor:
		return "receivers:\n  loadgen:\nprocessors:\n  " + typ + ":\nexporters:\n  nop:\nservice:\n  pipelines:\n    metrics:\n      receivers: [loadgen]\n      processors: [" + typ + "]\n      exporters: [nop]\n"
	case KindExporter:
		if typ == "otlp" {
			return "receivers:\n  loadgen:\nexporters:\n  otlp:\n    endpoint: 127.0.0.1:4317\nservice:\n  pipelines:\n    metrics:\n      receivers: [loadgen]\n      exporters: [otlp]\n"
		}
		return "receivers:\n  loadgen:\nexporters:\n  " + typ + ":\n    endpoint: http://127.0.0.1:1/api/v1/write\nservice:\n  pipelines:\n    metrics:\n      receivers: [loadgen]\n      exporters: [" + typ + "]\n"
	}
	return ""
}
