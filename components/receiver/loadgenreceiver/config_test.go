package loadgenreceiver

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/receiver/receivertest"
)

func loadConfig(t *testing.T, raw map[string]any) (*Config, error) {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	if err := confmap.NewFromStringMap(raw).Unmarshal(cfg); err != nil {
		return nil, err
	}
	return cfg, confmap.Validate(cfg)
}

func TestConfigUnmarshalAndDefaults(t *testing.T) {
	cfg, err := loadConfig(t, map[string]any{
		"collection_interval": "2s", "profile": "high-cardinality", "process_count": 1200,
		"duration": "1m", "seed": 5, "host_name": "web-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.CollectionInterval != 2*time.Second || cfg.Profile != "high-cardinality" || cfg.ProcessCount != 1200 ||
		cfg.Duration != time.Minute || cfg.Seed != 5 || cfg.HostName != "web-1" {
		t.Fatalf("unmarshalled %+v", cfg)
	}
	def := createDefaultConfig().(*Config)
	if err := def.Validate(); err != nil || def.Profile != "realistic" || def.CollectionInterval != 10*time.Second {
		t.Fatalf("default config %+v: %v", def, err)
	}
}

func TestConfigErrorsNameTheField(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "p.yaml")
	_ = os.WriteFile(bad, []byte("processes:\n  - {name_template: x, count: -1}\n"), 0o600)
	for _, tc := range []struct {
		raw  map[string]any
		want string
	}{
		{map[string]any{"profile": "bogus"}, `profile: unknown profile "bogus"`},
		{map[string]any{"profile": "realistic", "process_count": 10}, "process_count"},
		{map[string]any{"profile": "process-churn", "churn_rate": 5000}, "churn_rate"},
		{map[string]any{"profile": "custom"}, "profile_file: required"},
		{map[string]any{"profile": "custom", "profile_file": bad}, "processes[0].count"},
		{map[string]any{"collection_interval": "0s"}, "collection_interval"},
		{map[string]any{"seed": -3}, "seed"},
		{map[string]any{"duration": "-1s"}, "duration"},
		{map[string]any{"step": "-10s"}, "step: must be >= 0"},
	} {
		_, err := loadConfig(t, tc.raw)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want an error containing %q", tc.raw, err, tc.want)
		}
	}
	if _, err := loadConfig(t, map[string]any{"profile_count": 3}); err == nil || !strings.Contains(err.Error(), "profile_count") {
		t.Errorf("unknown key accepted: %v", err)
	}
}

func TestConfigInlineProfile(t *testing.T) {
	cfg, err := loadConfig(t, map[string]any{"profile": "custom", "profile_yaml": "processes:\n  - {name_template: 'w {i}', count: 4}\n"})
	if err != nil {
		t.Fatal(err)
	}
	g, err := newGenerator(cfg, receivertest.NewNopSettings(componentType))
	if err != nil || g.profile.ProcessCount() != 4 {
		t.Fatalf("inline profile: %v", err)
	}
	if _, err := loadConfig(t, map[string]any{"profile": "custom", "profile_yaml": "processes: [{count: 1}]"}); err == nil || !strings.Contains(err.Error(), "profile_yaml: processes[0].name_template") {
		t.Fatalf("bad inline profile: %v", err)
	}
}
