package adaptivefilterprocessor

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/processor/processortest"
)

func loadConfig(t *testing.T, name string) *Config {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	sub, err := cm.Sub(name)
	require.NoError(t, err)
	cfg := createDefaultConfig().(*Config)
	require.NoError(t, sub.Unmarshal(cfg))
	return cfg
}

func TestConfigDefaults(t *testing.T) {
	cfg := loadConfig(t, "adaptive_filter")
	require.NoError(t, cfg.Validate())
	assert.Equal(t, createDefaultConfig(), cfg)
	assert.NoError(t, componenttest.CheckConfigStruct(cfg))
	assert.Equal(t, 200, cfg.MaxCardinality)
	assert.Equal(t, UnitProcesses, cfg.BudgetUnit)
	assert.Equal(t, 0.10, cfg.Controller.DeadBand)
}

func TestConfigFull(t *testing.T) {
	cfg := loadConfig(t, "adaptive_filter/full")
	require.NoError(t, cfg.Validate())
	assert.Equal(t, 1500, cfg.MaxCardinality)
	assert.Equal(t, UnitSeries, cfg.BudgetUnit)
	assert.Equal(t, []string{`^(nginx|postgres)$`, `kafka\.Kafka`}, cfg.CriticalProcesses)
	assert.Equal(t, ThresholdsConfig{Mode: ModeScore, CPU: 0.1, Memory: 512 * mib, CPUWeight: 0.6, MemoryWeight: 0.4}, cfg.Thresholds)
	assert.Equal(t, ControllerConfig{DeadBand: 0.05, MaxStep: 2, RelaxAfter: 5, MinMultiplier: 0.01, MaxMultiplier: 100,
		InitialMultiplier: 2, EnforceBudget: false}, cfg.Controller)
	assert.Equal(t, HostLoadConfig{Enabled: true, Source: LoadSystem, CPUCount: 8, Low: 0.5, High: 0.9, MaxMultiplier: 3}, cfg.HostLoad)
	assert.Equal(t, 30*time.Minute, cfg.Retention)
	assert.Equal(t, 3*time.Minute, cfg.Probation)
	assert.Equal(t, "max", cfg.Smoothing)
	assert.Equal(t, 6, cfg.SmoothingWindow)
	assert.Equal(t, DropRulesConfig{
		Idle:       IdleRuleConfig{Enabled: true, CPU: 0.001, Memory: 8 * mib},
		ShortLived: ShortLivedRuleConfig{Enabled: false, MinAge: 2 * time.Minute, CPU: 0.02},
		Ephemeral:  EphemeralRuleConfig{Enabled: true, MinDigits: 8, MinHex: 16},
	}, cfg.DropRules)
	assert.Equal(t, 20000, cfg.MaxTrackedProcesses)
	assert.Equal(t, 3, cfg.PruneAfter)
}

// Every bad field is reported at once, each naming the field and the value.
func TestConfigValidateReportsEverything(t *testing.T) {
	err := loadConfig(t, "adaptive_filter/bad").Validate()
	require.Error(t, err)
	for _, want := range []string{
		"max_cardinality: 0 is out of range",
		`budget_unit: "bytes" is not valid, use "processes" or "series"`,
		`critical_processes[0]: invalid regular expression "(nginx"`,
		"critical_processes[1]: empty pattern",
		`thresholds.mode: "median" is not valid`,
		"thresholds.cpu: -1 must be a positive number of cores",
		"thresholds.memory: 0 must be a positive number of bytes",
		"controller.dead_band: 1.5 is out of range",
		"controller.max_step: 1 is out of range",
		"controller.relax_after_intervals: 0 is out of range",
		"controller.min_multiplier (5) must be below controller.max_multiplier (1)",
		`host_load.source: "psi" is not valid`,
		"host_load.low (0.9) and host_load.high (0.5): need 0 <= low < high <= 1",
		"host_load.max_multiplier: 0.5 is out of range",
		"retention: -1s must not be negative",
		"probation: 25h0m0s is out of range, must be between 0 (off) and 24h0m0s",
		`smoothing: "median" is not valid`,
		"smoothing_window: 0 is out of range",
		"drop_rules.idle: cpu (0 cores) and memory (0 bytes) must not be negative and not both 0",
		"drop_rules.short_lived.min_age: 0s must be positive",
		"drop_rules.ephemeral_names.min_digits: 1 is out of range",
		"drop_rules.ephemeral_names.min_hex: 2 is out of range",
		"max_tracked_processes: 0 is out of range",
		"prune_after_intervals: 0 is out of range",
	} {
		assert.ErrorContains(t, err, want)
	}
}

func TestConfigValidateScoreWeights(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Thresholds.Mode = ModeScore
	cfg.Thresholds.CPUWeight, cfg.Thresholds.MemoryWeight = 0.5, 0.6
	assert.ErrorContains(t, cfg.Validate(), "must sum to 1, got 1.1")
	cfg.Thresholds.CPUWeight = -0.1
	assert.ErrorContains(t, cfg.Validate(), "must not be negative")
	cfg.Thresholds.Mode = ModeAny // weights are ignored in any mode
	assert.NoError(t, cfg.Validate())

	cfg = createDefaultConfig().(*Config)
	cfg.Controller.InitialMultiplier = 5000
	assert.ErrorContains(t, cfg.Validate(), "controller.initial_multiplier: 5000 must lie between min_multiplier (0.001) and max_multiplier (1000)")

	cfg = createDefaultConfig().(*Config)
	cfg.HostLoad = HostLoadConfig{Enabled: false, Source: "nonsense"}
	assert.NoError(t, cfg.Validate(), "a disabled host_load is not validated")
}

// The factory builds a working processor of type adaptive_filter that drops
// what it should and passes the rest on to the next consumer.
func TestFactory(t *testing.T) {
	f := NewFactory()
	assert.Equal(t, "adaptive_filter", f.Type().String())
	cfg := f.CreateDefaultConfig().(*Config)
	cfg.MaxCardinality = 2
	cfg.HostLoad.Enabled = false
	sink := new(consumertest.MetricsSink)
	p, err := f.CreateMetrics(context.Background(), processortest.NewNopSettings(f.Type()), cfg, sink)
	require.NoError(t, err)
	assert.True(t, p.Capabilities().MutatesData)
	require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
	defer func() { require.NoError(t, p.Shutdown(context.Background())) }()

	host := newFakeHost("")
	for i := range 10 {
		host.add("svc", "svc", 0.1*float64(i+1), 20*mib)
	}
	for range 10 {
		require.NoError(t, p.ConsumeMetrics(context.Background(), host.tick()))
	}
	all := sink.AllMetrics()
	require.Len(t, all, 10)
	assert.LessOrEqual(t, all[9].ResourceMetrics().Len(), 2)
	assert.Positive(t, all[9].ResourceMetrics().Len())
}

func TestFactoryRejectsBadRegex(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.CriticalProcesses = []string{"(bad"}
	_, err := NewFactory().CreateMetrics(context.Background(), processortest.NewNopSettings(componentType), cfg, consumertest.NewNop())
	assert.ErrorContains(t, err, `critical_processes[0] "(bad"`)
}
