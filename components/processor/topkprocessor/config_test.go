package topkprocessor

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
)

func loadConfig(t *testing.T, id string) (*Config, error) {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sub, err := cm.Sub(component.MustNewIDWithName("topk", strings.TrimPrefix(strings.TrimPrefix(id, "topk"), "/")).String())
	if err != nil {
		t.Fatal(err)
	}
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	if err := sub.Unmarshal(cfg); err != nil {
		return nil, err
	}
	return cfg, confmap.Validate(cfg)
}

func TestDefaultConfig(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	if err := componenttest.CheckConfigStruct(cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("default config invalid: %v", err)
	}
	if cfg.TopK != 20 || cfg.Ranking != RankingCPU || cfg.Others != OthersAggregate || cfg.OtherName != "_other" {
		t.Fatalf("defaults: %+v", cfg)
	}
	if NewFactory().Type().String() != "topk" {
		t.Fatal("component type must be topk")
	}
}

func TestLoadConfig(t *testing.T) {
	cfg, err := loadConfig(t, "topk")
	if err != nil || cfg.TopK != 20 {
		t.Fatalf("empty section must give the defaults: %v %+v", err, cfg)
	}
	cfg, err = loadConfig(t, "topk/full")
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		TopK: 15, Ranking: RankingWeighted, Weights: Weights{CPU: 0.6, Memory: 0.4},
		Smoothing: "max", Window: 3,
		CriticalProcesses: []string{"^nginx$", "^postgres", `kafka\.Kafka`},
		Hysteresis:        Hysteresis{Margin: 4, Band: 0.4, Intervals: 2},
		Probation:         3 * time.Minute,
		Others:            OthersDrop, OtherName: "_rest", PruneAfter: 10, MaxTrackedProcesses: 1000,
	}
	if cfg.TopK != want.TopK || cfg.Ranking != want.Ranking || cfg.Weights != want.Weights ||
		cfg.Smoothing != want.Smoothing || cfg.Window != want.Window || strings.Join(cfg.CriticalProcesses, ",") != strings.Join(want.CriticalProcesses, ",") ||
		cfg.Hysteresis != want.Hysteresis || cfg.Probation != want.Probation || cfg.Others != want.Others || cfg.OtherName != want.OtherName ||
		cfg.PruneAfter != want.PruneAfter || cfg.MaxTrackedProcesses != want.MaxTrackedProcesses {
		t.Fatalf("got %+v\nwant %+v", cfg, want)
	}
}

func TestLoadConfigUnknownKey(t *testing.T) {
	if _, err := loadConfig(t, "topk/unknown_key"); err == nil || !strings.Contains(err.Error(), "topk") {
		t.Fatalf("an unknown key must be rejected, got %v", err)
	}
}

func TestValidateNamesEveryProblem(t *testing.T) {
	_, err := loadConfig(t, "topk/bad")
	if err == nil {
		t.Fatal("bad config accepted")
	}
	for _, want := range []string{
		"top_k: must be at least 1, got 0",
		`ranking: unknown "io"`,
		`smoothing: unknown "median"`,
		"window: must be at least 1 interval, got -1",
		`critical_processes[1] "(nginx"`,
		"hysteresis.margin: must be >= 0, got -1",
		"hysteresis.intervals: must be at least 1, got 0",
		"hysteresis.band: must be within [0, 1), got 1.5",
		"probation: must be >= 0 (0 disables it), got -1s",
		`others: unknown "keep"`,
		"prune_after: must be at least 1 interval, got 0",
		"max_tracked_processes: must be at least 1, got 0",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}

func TestValidateWeights(t *testing.T) {
	for _, c := range []struct {
		w    Weights
		want string
	}{
		{Weights{0, 0}, "cpu + memory must be > 0"},
		{Weights{-1, 1}, "cpu and memory must be finite and >= 0"},
	} {
		cfg := createDefaultConfig().(*Config)
		cfg.Ranking = RankingWeighted
		cfg.Weights = c.w
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "weights: "+c.want) {
			t.Errorf("%+v: got %v", c.w, err)
		}
	}
	cfg := createDefaultConfig().(*Config)
	cfg.OtherName = ""
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "other_name") {
		t.Errorf("empty other_name: %v", err)
	}
	cfg.Others = OthersDrop
	if err := cfg.Validate(); err != nil {
		t.Errorf("other_name is not needed with others: drop: %v", err)
	}
}

func TestRollUpModeConfig(t *testing.T) {
	cfg, err := loadConfig(t, "topk/rollup")
	if err != nil {
		t.Fatalf("roll-up mode (top_k: 0, others: aggregate, others_group_by) must be valid: %v", err)
	}
	if cfg.TopK != 0 || cfg.OthersGroupBy != "phoenix.process.category" || cfg.Others != OthersAggregate {
		t.Fatalf("got %+v", cfg)
	}
	_, err = loadConfig(t, "topk/rollup_bad")
	if err == nil {
		t.Fatal("top_k: 0 with others: drop accepted")
	}
	for _, want := range []string{
		"top_k: must be at least 1, got 0 (0 is allowed only in roll-up mode, with others: aggregate and others_group_by set)",
		`others_group_by: "process.pid" needs others: aggregate`,
		`others_group_by: "process.pid" would make one other resource per process`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}

	for _, c := range []struct {
		mutate func(*Config)
		want   string // "" = valid
	}{
		{func(c *Config) { c.TopK = 0 }, "top_k: must be at least 1, got 0 (0 is allowed only in roll-up mode"},
		{func(c *Config) { c.TopK = -1; c.OthersGroupBy = "team" }, "top_k: must be at least 1, got -1"},
		{func(c *Config) { c.TopK = 5; c.OthersGroupBy = "team" }, ""},
		{func(c *Config) { c.TopK = 0; c.OthersGroupBy = "process.owner" }, ""},
		{func(c *Config) { c.OthersGroupBy = "host.name" }, `others_group_by: "host.name" is already the group`},
		{func(c *Config) { c.OthersGroupBy = "process.executable.name" }, `others_group_by: "process.executable.name" cannot be used: it holds other_name`},
	} {
		cfg := createDefaultConfig().(*Config)
		c.mutate(cfg)
		err := cfg.Validate()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%+v: %v", cfg, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%+v: got %v, want %q", cfg, err, c.want)
		}
	}
}
