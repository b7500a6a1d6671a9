package loadgen

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func mustResolve(t *testing.T, spec Spec) *Profile {
	t.Helper()
	p, err := Resolve(spec)
	if err != nil {
		t.Fatalf("Resolve(%+v): %v", spec, err)
	}
	return p
}

func TestBuiltinDefaults(t *testing.T) {
	for _, tc := range []struct {
		name  string
		count int
		churn float64
	}{
		{ProfileRealistic, 100, 0},
		{ProfileHighCardinality, 1500, 0},
		{ProfileProcessChurn, 80, 25},
	} {
		p := mustResolve(t, Spec{Profile: tc.name})
		if got := p.ProcessCount(); got != tc.count {
			t.Errorf("%s: %d processes, want %d", tc.name, got, tc.count)
		}
		if got := p.ChurnRate(); got != tc.churn {
			t.Errorf("%s: churn %v, want %v", tc.name, got, tc.churn)
		}
	}
}

func TestRealisticComposition(t *testing.T) {
	p := mustResolve(t, Spec{Profile: ProfileRealistic})
	long, short := 0, 0
	for _, g := range p.Groups {
		if g.Lifetime > 0 {
			short += g.Count
			if g.Lifetime != time.Minute {
				t.Errorf("job %q lifetime %s, want 1m", g.NameTemplate, g.Lifetime)
			}
		} else {
			long += g.Count
		}
	}
	if long != 70 || short != 30 {
		t.Fatalf("long-lived %d, short-lived %d; want 70/30", long, short)
	}
}

func TestOverridesScaleAndKeepCore(t *testing.T) {
	for _, n := range []int{50, 137, 200} {
		p := mustResolve(t, Spec{Profile: ProfileRealistic, Overrides: Overrides{ProcessCount: n}})
		if p.ProcessCount() != n {
			t.Fatalf("process_count %d: got %d", n, p.ProcessCount())
		}
		cores := 0
		for _, g := range p.Groups {
			if g.core {
				cores += g.Count
			}
		}
		if cores != len(CoreServices()) {
			t.Fatalf("core services scaled: %d", cores)
		}
	}
	p := mustResolve(t, Spec{Profile: ProfileProcessChurn, Overrides: Overrides{ChurnRate: 40}})
	if p.ChurnRate() != 40 {
		t.Fatalf("churn override: %v", p.ChurnRate())
	}
	p = mustResolve(t, Spec{Profile: ProfileRealistic, Overrides: Overrides{ChurnRate: 3, Duration: time.Minute}, Seed: 9})
	if p.ChurnRate() != 3 || p.Duration != time.Minute || p.Seed != 9 {
		t.Fatalf("overrides not applied: churn %v duration %s seed %d", p.ChurnRate(), p.Duration, p.Seed)
	}
}

func TestResolveErrorsNameTheField(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	_ = os.WriteFile(bad, []byte("processes:\n  - name_template: x\n    count: 1\n    cpu: {pattern: wobbly}\n"), 0o600)
	for _, tc := range []struct {
		spec Spec
		want string
	}{
		{Spec{Profile: "nope"}, "profile: unknown profile \"nope\""},
		{Spec{}, "profile: required"},
		{Spec{Profile: ProfileRealistic, Overrides: Overrides{ProcessCount: 5000}}, "process_count: profile \"realistic\" takes 50 to 200"},
		{Spec{Profile: ProfileHighCardinality, Overrides: Overrides{ProcessCount: 10}}, "process_count"},
		{Spec{Profile: ProfileProcessChurn, Overrides: Overrides{ChurnRate: -1}}, "churn_rate"},
		{Spec{Profile: ProfileRealistic, Overrides: Overrides{Duration: -time.Second}}, "duration: must be >= 0"},
		{Spec{Profile: ProfileCustom}, "profile_file: required"},
		{Spec{Profile: ProfileRealistic, ProfileFile: bad}, "profile_file, profile_yaml: only allowed"},
		{Spec{Profile: ProfileCustom, ProfileFile: filepath.Join(dir, "missing.yaml")}, "profile_file:"},
		{Spec{Profile: ProfileCustom, ProfileFile: bad}, "processes[0].cpu.pattern: unknown pattern \"wobbly\""},
	} {
		_, err := Resolve(tc.spec)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Resolve(%+v) = %v, want error containing %q", tc.spec, err, tc.want)
		}
	}
}

func TestCustomProfile(t *testing.T) {
	src := `
name: batch-mix
duration: 10m
seed: 7
processes:
  - name_template: "worker --shard={i}"
    count: 10
    cpu: {pattern: spiky, base: 0.05, amplitude: 0.5}
    memory: {pattern: growing, base: 100MiB, amplitude: 50MiB, period: 10m}
    lifetime: 60s
    churn_rate: 1
  - name_template: "/usr/bin/db --id={hex}"
    count: 2
    cpu: {pattern: sine, base: 0.1, amplitude: 1, period: 1m}
    memory: {pattern: steady, base: 1GiB}
`
	p, err := ParseCustomProfile([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "batch-mix" || p.Duration != 10*time.Minute || p.Seed != 7 || p.ProcessCount() != 12 {
		t.Fatalf("parsed %+v", p)
	}
	if p.Groups[0].Memory.Base != 100*mib || p.Groups[1].Memory.Base != gib {
		t.Fatalf("byte units: %v %v", p.Groups[0].Memory.Base, p.Groups[1].Memory.Base)
	}
	for _, tc := range []struct{ src, want string }{
		{"processes:\n  - name_template: x\n    count: 1\n    colour: red\n", "field colour not found"},
		{"processes:\n  - name_template: x\n    count: 0\n", "processes[0].count: must be >= 1"},
		{"processes:\n  - name_template: 'x {nope}'\n    count: 1\n", "processes[0].name_template: unknown placeholder {nope}"},
		{"processes:\n  - name_template: x\n    count: 1\n    memory: {base: lots}\n", "\"lots\" is not a number"},
		{"processes:\n  - name_template: x\n    count: 1\n    cpu: {pattern: sine, base: 1}\n", "processes[0].cpu.period"},
		{"processes:\n  - name_template: x\n    count: 1\n    churn_rate: -2\n", "processes[0].churn_rate"},
		{"", "empty profile"},
		{"processes: []\n", "at least one entry"},
	} {
		_, err := ParseCustomProfile([]byte(tc.src))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseCustomProfile(%q) = %v, want %q", tc.src, err, tc.want)
		}
	}
}

func TestCustomOverrides(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.yaml")
	_ = os.WriteFile(path, []byte("processes:\n  - {name_template: 'a {i}', count: 10, churn_rate: 2}\n  - {name_template: 'b {i}', count: 30}\n"), 0o600)
	p := mustResolve(t, Spec{Profile: ProfileCustom, ProfileFile: path, Overrides: Overrides{ProcessCount: 10000, ChurnRate: 8}})
	if p.ProcessCount() != 10000 || p.ChurnRate() != 8 {
		t.Fatalf("count %d churn %v", p.ProcessCount(), p.ChurnRate())
	}
	_ = os.WriteFile(path, []byte("processes:\n  - {name_template: 'b {i}', count: 30}\n"), 0o600)
	if _, err := Resolve(Spec{Profile: ProfileCustom, ProfileFile: path, Overrides: Overrides{ChurnRate: 8}}); err == nil || !strings.Contains(err.Error(), "churn_rate: the profile has no entry") {
		t.Fatalf("churn override on a non-churning profile: %v", err)
	}
}

func TestInlineCustomProfile(t *testing.T) {
	p := mustResolve(t, Spec{Profile: ProfileCustom, ProfileYAML: "processes:\n  - {name_template: 'w {i}', count: 3}\n"})
	if p.ProcessCount() != 3 {
		t.Fatalf("inline profile: %d processes", p.ProcessCount())
	}
	for _, tc := range []struct {
		spec Spec
		want string
	}{
		{Spec{Profile: ProfileCustom, ProfileYAML: "processes: [", ProfileFile: "x"}, "not both"},
		{Spec{Profile: ProfileCustom, ProfileYAML: "processes:\n  - {name_template: w, count: 0}\n"}, "profile_yaml: processes[0].count"},
		{Spec{Profile: ProfileRealistic, ProfileYAML: "processes: []"}, "only allowed with profile \"custom\""},
	} {
		if _, err := Resolve(tc.spec); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Resolve(%+v) = %v, want %q", tc.spec, err, tc.want)
		}
	}
}
