package pipelines

// Tests written for mutation survivors (docs/testing.md "Mutation score"):
// each pins a behaviour that a gremlins mutant changed without any other
// test noticing.

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// The parts of a ParamError's message are there only when set: the server
// and the CLI print it as is.
func TestParamErrorMessage(t *testing.T) {
	cases := []struct {
		err  ParamError
		want string
	}{
		{ParamError{Param: "n", Reason: "must be an int"}, `parameter "n": must be an int`},
		{ParamError{Template: "topk-v1", Param: "n", Reason: "out of bounds"}, `template topk-v1: parameter "n": out of bounds`},
		{ParamError{Param: "n", Reason: "out of bounds", Accepted: "1..10"}, `parameter "n": out of bounds (accepted: 1..10)`},
	}
	for _, c := range cases {
		if got := c.err.Error(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.err, got, c.want)
		}
	}
}

// An extension file of exactly MaxConfigBytes loads; one byte more is
// refused (the limit is inclusive, like the config's in validate.go).
func TestCatalogDirFileAtTheSizeLimit(t *testing.T) {
	resetExtensions(t)
	pad := func(n int) string {
		body := extGood + "# "
		return body + strings.Repeat("x", n-len(body)-1) + "\n"
	}
	at := pad(MaxConfigBytes)
	if len(at) != MaxConfigBytes {
		t.Fatalf("padded to %d bytes", len(at))
	}
	if err := LoadCatalogDir(extDir(t, map[string]string{"team-drop-metric-v1.yaml": at})); err != nil {
		t.Fatalf("a file of exactly %d bytes: %v", MaxConfigBytes, err)
	}
	err := LoadCatalogDir(extDir(t, map[string]string{"team-drop-metric-v1.yaml": pad(MaxConfigBytes + 1)}))
	if err == nil || !strings.Contains(err.Error(), "over the limit") {
		t.Fatalf("a file of %d bytes: %v, want over the limit", MaxConfigBytes+1, err)
	}
}

// The README's table of real-process measurements: rows by process count,
// then in catalog order, rows of the same count and template in the file's
// order (a stable sort), and a ratio of 0 for a template that kept no
// series (not NaN or +Inf).
func TestGenerateREADMERealTable(t *testing.T) {
	real := RealMeasurements{Method: "m", Results: []RealMeasurement{
		{Template: TemplateTopK, Processes: 100, OutputSeries: 0, DistinctSeries: 7, Window: "w1"},
		{Template: TemplateBaseline, Processes: 100, OutputSeries: 50, DistinctSeries: 100, Window: "w2"},
		{Template: TemplateBaseline, Processes: 10, OutputSeries: 20, DistinctSeries: 30, Window: "w3"},
		{Template: TemplateBaseline, Processes: 10, OutputSeries: 20, DistinctSeries: 30, Window: "w4"},
	}}
	doc := string(GenerateREADME(Measurements{}, real))
	rows := []string{
		"| 10 | 0 | `process-baseline-v1` | 20 | 0.0% | 30 (w3) | 1.50× |",
		"| 10 | 0 | `process-baseline-v1` | 20 | 0.0% | 30 (w4) | 1.50× |",
		"| 100 | 0 | `process-baseline-v1` | 50 | 0.0% | 100 (w2) | 2.00× |",
		"| 100 | 0 | `process-topk-v1` | 0 | 0.0% | 7 (w1) | 0.00× |",
	}
	at := 0
	for _, r := range rows {
		i := strings.Index(doc[at:], r)
		if i < 0 {
			t.Fatalf("row %q missing or out of order in:\n%s", r, doc[strings.Index(doc, "## Measured reduction on real"):])
		}
		at += i + len(r)
	}
}

// An unknown setting below the top level of a processor's settings is not
// a child of them: the problem points at the processor's key.
func TestValidateYAMLNestedUnknownSetting(t *testing.T) {
	cfg := strings.Replace(goodConfig, "processors:\n  batch:\n", "processors:\n  batch:\n  adaptive_filter:\n    thresholds:\n      bogus: 1\n", 1)
	cfg = strings.Replace(cfg, "processors: [batch]", "processors: [batch, adaptive_filter]", 1)
	probs := ValidateYAML([]byte(cfg))
	if len(probs) != 1 || probs[0].Line != 7 || probs[0].Column != 3 || !strings.Contains(probs[0].Message, `unknown setting "bogus"`) {
		t.Fatalf("want one problem at line 7, column 3 (adaptive_filter:) naming bogus; got %v", probs)
	}
}

// The synthetic-profile table: realistic first, then in catalog order,
// rows of the same profile and template in the file's order.
func TestGenerateREADMESyntheticTable(t *testing.T) {
	ms := Measurements{Method: "m", Results: []Measurement{
		{Template: TemplateTopK, Profile: "high-cardinality", InputSeries: 1},
		{Template: TemplateTopK, Profile: "realistic", InputSeries: 2},
		{Template: TemplateBaseline, Profile: "realistic", InputSeries: 3},
		{Template: TemplateBaseline, Profile: "realistic", InputSeries: 4},
	}}
	doc := string(GenerateREADME(ms, RealMeasurements{}))
	rows := []string{
		"| `process-baseline-v1` | realistic | 3 |",
		"| `process-baseline-v1` | realistic | 4 |",
		"| `process-topk-v1` | realistic | 2 |",
		"| `process-topk-v1` | high-cardinality | 1 |",
	}
	at := 0
	for _, r := range rows {
		i := strings.Index(doc[at:], r)
		if i < 0 {
			t.Fatalf("row %q missing or out of order in:\n%s", r, doc[strings.Index(doc, "## Measured reduction on synthetic"):])
		}
		at += i + len(r)
	}
}

// What an error message says a parameter accepts: " entries" follows the
// bounds of a list or map, and only when it has bounds.
func TestAcceptedListBounds(t *testing.T) {
	two := 2.0
	cases := []struct {
		p    Param
		want string
	}{
		{Param{Type: TypeStringList}, `a list of strings (a JSON array such as ["a","b"], or one item)`},
		{Param{Type: TypeStringList, Max: &two}, `a list of strings (a JSON array such as ["a","b"], or one item) <= 2 entries`},
		{Param{Type: TypeMap, Min: &two}, `a map of strings (a JSON object such as {"k":"v"}, or one k=v pair) >= 2 entries`},
	}
	for _, c := range cases {
		if got := accepted(c.p); got != c.want {
			t.Errorf("accepted(%+v) = %q, want %q", c.p, got, c.want)
		}
	}
}

// A string parameter may hold a tab but no other control character, DEL
// included.
func TestCheckTextControlCharacters(t *testing.T) {
	for _, s := range []string{"a\tb", "nginx", "é"} {
		if err := checkText(s); err != nil {
			t.Errorf("%q refused: %v", s, err)
		}
	}
	for _, s := range []string{"a\nb", "a\x01b", "a\x7fb"} {
		if err := checkText(s); err == nil || !strings.Contains(err.Error(), "control character") {
			t.Errorf("%q: %v, want a control character refused", s, err)
		}
	}
}

// An integer given as a JSON number (a float64) is taken up to 2^53, the
// last float that is still exact; a float that is not integral is refused.
func TestIntFromFloatUpTo2To53(t *testing.T) {
	p := Param{Name: "n", Type: TypeInt}
	if v, err := coerce("t", p, float64(1<<53)); err != nil || v != 1<<53 {
		t.Errorf("2^53: %v, %v", v, err)
	}
	for _, f := range []float64{1<<53 + 2, 2.5} {
		if _, err := coerce("t", p, f); err == nil || !strings.Contains(err.Error(), "is not an integer") {
			t.Errorf("%v: %v, want not an integer", f, err)
		}
	}
}

// An out-of-range float is named with every digit it was given.
func TestFloatOutOfRangeShownInFull(t *testing.T) {
	one := 1.0
	_, err := coerce("t", Param{Name: "x", Type: TypeFloat, Max: &one}, 1.25)
	if err == nil || !strings.Contains(err.Error(), `"x": 1.25 is out of range`) {
		t.Fatalf("%v, want 1.25 is out of range", err)
	}
}

// Literal secrets are looked for in the extensions too, not only in the
// exporters.
func TestValidateRawSecretInExtension(t *testing.T) {
	cfg := strings.Replace(rawOK, "service:\n", "extensions:\n  health_check:\n    password: hunter2\nservice:\n", 1)
	for _, p := range ValidateRaw([]byte(cfg)) {
		if p.Path == "extensions.health_check.password" && strings.Contains(p.Message, "secret written in clear") {
			return
		}
	}
	t.Fatalf("no clear-secret problem for extensions.health_check.password in %v", ValidateRaw([]byte(cfg)))
}

// A raw candidate keeps its processors' settings (an empty one stays
// empty), its cardinality processors count the catalog's default critical
// processes, and the header names the candidate as a raw config.
func TestRawCandidateProcessorsAndHeader(t *testing.T) {
	r, err := RenderExperiment(ExperimentSpec{ID: "raw-exp", Baseline: Spec{Template: TemplateBaseline}, Candidate: Spec{Config: rawOK}}, Context{HostNameFromEnv: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(r.YAML), "\n# experiment raw-exp: baseline process-baseline-v1, candidate a raw config\n") {
		t.Errorf("header does not name the variants:\n%s", r.YAML[:200])
	}
	var m struct {
		Processors map[string]map[string]any `yaml:"processors"`
	}
	if err := yaml.Unmarshal(r.YAML, &m); err != nil {
		t.Fatal(err)
	}
	if f := m.Processors["filter/candidate/drop_idle"]; f["error_mode"] != "ignore" || f["metrics"] == nil {
		t.Errorf("the raw filter's settings were lost: %v", f)
	}
	if b, ok := m.Processors["batch/candidate/raw"]; !ok || len(b) != 0 {
		t.Errorf("the raw batch (no settings): %v, %v", b, ok)
	}
	base, _ := catalog()[0].Param("critical_processes")
	want, _ := base.Default.([]string)
	got, _ := m.Processors["cardinality/candidate/in"]["critical_processes"].([]any)
	if len(want) == 0 || len(got) != len(want) || got[0] != want[0] {
		t.Errorf("cardinality/candidate/in critical_processes %v, want the catalog's default %v", got, want)
	}
}

// Every variant of an experiment reads the one receiver: a variant may
// leave its input empty (it takes the baseline's) or give the same one, and
// its collection_interval must be the baseline's.
func TestExperimentVariantsShareInputAndInterval(t *testing.T) {
	lg := func(profile string) Input { return Input{Mode: InputLoadGen, LoadGen: &LoadSim{Profile: profile}} }
	every := func(interval string) map[string]any { return map[string]any{"collection_interval": interval} }
	exp := func(cand, more Spec) ExperimentSpec {
		return ExperimentSpec{ID: "e", Baseline: Spec{Template: TemplateBaseline, Params: every("2s"), Input: lg("realistic")},
			Candidate: cand, More: []NamedSpec{{Variant: "candidate2", Spec: more}}}
	}
	same := Spec{Template: TemplateTopK, Params: every("2s")}
	if _, err := RenderExperiment(exp(same, same), Context{HostName: "h"}); err != nil {
		t.Fatalf("variants without an input of their own: %v", err)
	}
	withInput := same
	withInput.Input = lg("realistic")
	if _, err := RenderExperiment(exp(withInput, withInput), Context{HostName: "h"}); err != nil {
		t.Fatalf("variants with the baseline's input: %v", err)
	}
	other := same
	other.Input = lg("high-cardinality")
	slower := Spec{Template: TemplateTopK, Params: every("5s")}
	for _, c := range []struct {
		cand, more Spec
		param      string
	}{
		{other, same, "candidate.input"},
		{same, other, "candidate2.input"},
		{slower, same, "candidate.collection_interval"},
		{same, slower, "candidate2.collection_interval"},
	} {
		var pe *ParamError
		if _, err := RenderExperiment(exp(c.cand, c.more), Context{HostName: "h"}); !errors.As(err, &pe) || pe.Param != c.param {
			t.Errorf("want a ParamError on %s, got %v", c.param, err)
		}
	}
}

// A load simulation's header says how long it runs; a custom profile's
// file path reaches the loadgen receiver (only when given) and is text with
// the same rules as a parameter (no ${...}).
func TestWithLoadSimHeaderAndProfileFile(t *testing.T) {
	r, err := Render(Spec{Template: TemplateBaseline}, Context{HostName: "h"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		d    time.Duration
		want string
	}{{0, "# load simulation: profile realistic, duration until stopped\n"}, {5 * time.Minute, "# load simulation: profile realistic, duration 5m0s\n"}} {
		s, err := WithLoadSim(r, LoadSim{Profile: "realistic", Duration: c.d})
		if err != nil || !strings.Contains(string(s.YAML), c.want) {
			t.Errorf("duration %v: %v, want the header line %q in\n%s", c.d, err, c.want, s.YAML[:300])
		}
	}
	if s, err := WithLoadSim(r, LoadSim{Profile: "custom", ProfileFile: "/etc/phoenix/profile.yaml"}); err != nil || !strings.Contains(string(s.YAML), "profile_file: /etc/phoenix/profile.yaml\n") {
		t.Errorf("a custom profile file: %v, or not in the loadgen receiver:\n%s", err, s.YAML)
	}
	if s, err := WithLoadSim(r, LoadSim{Profile: "realistic"}); err != nil || strings.Contains(string(s.YAML), "profile_file") {
		t.Errorf("a built-in profile: %v, or a profile_file in\n%s", err, s.YAML)
	}
	if s, err := WithLoadSim(r, LoadSim{Profile: "process-churn", ChurnRate: 2.5}); err != nil || !strings.Contains(string(s.YAML), "churn_rate: 2.5\n") {
		t.Errorf("a churn rate: %v, or not in the loadgen receiver:\n%s", err, s.YAML)
	}
	// A custom profile's file is read on the agent's host: its rate is
	// checked here.
	var pe *ParamError
	if _, err := WithLoadSim(r, LoadSim{Profile: "custom", ProfileFile: "/etc/phoenix/profile.yaml", ChurnRate: math.NaN()}); !errors.As(err, &pe) || pe.Param != "load_sim.churn_rate" {
		t.Errorf("a NaN churn rate: %v, want a ParamError on load_sim.churn_rate", err)
	}
	if _, err := WithLoadSim(r, LoadSim{Profile: "custom", ProfileFile: "${env:HOME}/profile.yaml"}); !errors.As(err, &pe) || pe.Param != "load_sim.profile_file" {
		t.Errorf("a profile file with ${env:...}: %v, want a ParamError on load_sim.profile_file", err)
	}
}

// A label (experiment id, variant, host name) may be 128 characters long,
// not 129.
func TestLabelAt128Characters(t *testing.T) {
	if err := checkLabel("experiment.id", strings.Repeat("a", 128), true); err != nil {
		t.Errorf("128 characters: %v", err)
	}
	if err := checkLabel("experiment.id", strings.Repeat("a", 129), true); err == nil {
		t.Error("129 characters accepted")
	}
}

// A destination without headers renders no headers setting (an empty one
// would change every such config's bytes and hash for nothing).
func TestDestinationWithoutHeaders(t *testing.T) {
	for _, typ := range []string{DestOTLP, DestOTLPHTTP, DestPromRW} {
		endpoint := "http://backend.example.com:4318"
		if typ == DestOTLP {
			endpoint = "backend.example.com:4317"
		}
		r, err := Render(Spec{Template: TemplateBaseline, Destination: Destination{Type: typ, Endpoint: endpoint}}, Context{HostName: "h"})
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		if strings.Contains(string(r.YAML), "headers") {
			t.Errorf("%s without headers renders a headers setting:\n%s", typ, r.YAML)
		}
	}
}

// Ports 1 and 65535 are valid, 0 and 65536 not.
func TestPortBounds(t *testing.T) {
	for _, p := range []string{"1", "65535", ""} {
		if err := checkPort(p, "x"); err != nil {
			t.Errorf("port %q: %v", p, err)
		}
	}
	for _, p := range []string{"0", "65536"} {
		if err := checkPort(p, "x"); err == nil {
			t.Errorf("port %q accepted", p)
		}
	}
}

// The priority template sets a class only for the classes given processes:
// high from high_processes, and no medium statement when medium_processes
// is empty.
func TestPriorityClassesRendered(t *testing.T) {
	r, err := Render(Spec{Template: TemplatePriorityBased, Params: map[string]any{"high_processes": []any{"^nginx$"}, "medium_processes": []any{}}}, Context{HostName: "h"})
	if err != nil {
		t.Fatal(err)
	}
	y := string(r.YAML)
	if !strings.Contains(y, `"high") where`) || !strings.Contains(y, `^nginx$`) {
		t.Errorf("no high class for high_processes:\n%s", y)
	}
	if strings.Contains(y, `"medium") where`) {
		t.Errorf("a medium class without medium_processes:\n%s", y)
	}
}

// The adaptive template: the memory threshold is given in MiB and rendered
// in bytes, and load_low must be strictly below load_high.
func TestAdaptiveThresholdsRendered(t *testing.T) {
	r, err := Render(Spec{Template: TemplateAdaptiveFilter, Params: map[string]any{"memory_threshold_mib": 100}}, Context{HostName: "h"})
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Processors map[string]struct {
			Thresholds struct{ Memory float64 } `yaml:"thresholds"`
		} `yaml:"processors"`
	}
	if err := yaml.Unmarshal(r.YAML, &m); err != nil {
		t.Fatal(err)
	}
	if got := m.Processors["adaptive_filter/budget"].Thresholds.Memory; got != 100*1024*1024 {
		t.Errorf("memory threshold %v bytes, want %v", got, 100*1024*1024)
	}
	var pe *ParamError
	_, err = Render(Spec{Template: TemplateAdaptiveFilter, Params: map[string]any{"host_load": true, "load_low": 0.5, "load_high": 0.5}}, Context{HostName: "h"})
	if !errors.As(err, &pe) || pe.Param != "load_low" {
		t.Errorf("load_low equal to load_high: %v, want a ParamError on load_low", err)
	}
}

// ValidateYAML reads a config of exactly MaxConfigBytes.
func TestValidateYAMLAtTheSizeLimit(t *testing.T) {
	data := goodConfig + "# "
	data += strings.Repeat("x", MaxConfigBytes-len(data)-1) + "\n"
	if len(data) != MaxConfigBytes {
		t.Fatalf("padded to %d bytes", len(data))
	}
	if ps := ValidateYAML([]byte(data)); len(ps) != 0 {
		t.Fatalf("a config of exactly %d bytes: %v", MaxConfigBytes, ps)
	}
}

// Problems are sorted by line first, then by column.
func TestValidateYAMLProblemsByLine(t *testing.T) {
	cfg := strings.Replace(goodConfig, "  hostmetrics:\n    scrapers", "  prometheus:\n    scrapers", 1)
	cfg = strings.Replace(cfg, "extensions:\n  health_check:", "extension:\n  health_check:", 1)
	ps := ValidateYAML([]byte(cfg))
	if len(ps) < 2 || ps[0].Line != 2 || ps[0].Column != 3 || ps[1].Line != 10 || ps[1].Column != 1 {
		t.Fatalf("want line 2 column 3, then line 10 column 1: %v", ps)
	}
}

// A YAML error the parser reports without a line still gives one problem.
func TestValidateYAMLErrorWithoutLine(t *testing.T) {
	ps := ValidateYAML([]byte("a: &x 1\nb: *y\n"))
	if len(ps) != 1 || ps[0].Line != 1 || !strings.Contains(ps[0].Message, "invalid YAML: unknown anchor") {
		t.Fatalf("%v", ps)
	}
}

// An empty section (null) is no problem; a section that is a scalar is.
func TestValidateYAMLEmptyAndScalarSections(t *testing.T) {
	if ps := ValidateYAML([]byte(goodConfig + "connectors:\n")); len(ps) != 0 {
		t.Errorf("an empty connectors section: %v", ps)
	}
	ps := ValidateYAML([]byte(goodConfig + "connectors: 5\n"))
	if len(ps) != 1 || ps[0].Path != "connectors" {
		t.Errorf("connectors: 5: %v, want one problem on connectors", ps)
	}
}

// ValidateWithBinary runs the binary on a config of exactly MaxConfigBytes
// (here a missing binary: the error is the exec's, not the size's).
func TestValidateWithBinaryAtTheSizeLimit(t *testing.T) {
	data := goodConfig + "# "
	data += strings.Repeat("x", MaxConfigBytes-len(data)-1) + "\n"
	err := ValidateWithBinary(t.Context(), "/nonexistent-binary", []byte(data))
	if err == nil || strings.Contains(err.Error(), "over the limit") {
		t.Fatalf("a config of exactly %d bytes: %v, want the missing binary's error", MaxConfigBytes, err)
	}
}
