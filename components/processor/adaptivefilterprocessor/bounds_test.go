package adaptivefilterprocessor

import (
	"math"
	"strings"
	"testing"
	"time"
)

// Each setting's bounds, at the values on either side: the extreme valid
// values are accepted, the first invalid ones rejected naming the field.
// An off-by-one in any comparison of Validate (mutation testing's boundary
// and negation mutants) fails one row.
func TestConfigValidateBounds(t *testing.T) {
	inf, nan := math.Inf(1), math.NaN()
	for _, c := range []struct {
		name   string
		mutate func(*Config)
		want   string // "" = valid
	}{
		{"max_cardinality 1", func(c *Config) { c.MaxCardinality = 1 }, ""},
		{"max_cardinality max", func(c *Config) { c.MaxCardinality = maxBudget }, ""},
		{"max_cardinality max+1", func(c *Config) { c.MaxCardinality = maxBudget + 1 }, "max_cardinality: 10000001 is out of range"},
		{"budget_unit series", func(c *Config) { c.BudgetUnit = UnitSeries }, ""},

		{"thresholds.cpu tiny", func(c *Config) { c.Thresholds.CPU = 1e-12 }, ""},
		{"thresholds.cpu 0", func(c *Config) { c.Thresholds.CPU = 0 }, "thresholds.cpu: 0 must be a positive"},
		{"thresholds.cpu +Inf", func(c *Config) { c.Thresholds.CPU = inf }, "thresholds.cpu: +Inf must be a positive"},
		{"thresholds.cpu NaN", func(c *Config) { c.Thresholds.CPU = nan }, "thresholds.cpu: NaN must be a positive"},
		{"thresholds.memory 1", func(c *Config) { c.Thresholds.Memory = 1 }, ""},
		{"thresholds.memory -Inf", func(c *Config) { c.Thresholds.Memory = -inf }, "thresholds.memory: -Inf must be a positive"},

		{"score weights 1, 0", func(c *Config) { c.Thresholds = scoreWeights(c.Thresholds, 1, 0) }, ""},
		{"score weights 0, 1", func(c *Config) { c.Thresholds = scoreWeights(c.Thresholds, 0, 1) }, ""},
		{"score weights 0.1, 0.9", func(c *Config) { c.Thresholds = scoreWeights(c.Thresholds, 0.1, 0.9) }, ""},
		{"score weights 0.5, 0.5001", func(c *Config) { c.Thresholds = scoreWeights(c.Thresholds, 0.5, 0.5001) }, "must sum to 1, got 1.0001"},
		{"score weights 0.5, 0.4999", func(c *Config) { c.Thresholds = scoreWeights(c.Thresholds, 0.5, 0.4999) }, "must sum to 1, got 0.9999"},
		{"score weights NaN", func(c *Config) { c.Thresholds = scoreWeights(c.Thresholds, nan, 1) }, "must not be negative"},
		{"score weights memory -1", func(c *Config) { c.Thresholds = scoreWeights(c.Thresholds, 2, -1) }, "must not be negative"},
		{"score weights memory +Inf", func(c *Config) { c.Thresholds = scoreWeights(c.Thresholds, 0, inf) }, "must not be negative"},

		{"dead_band 0", func(c *Config) { c.Controller.DeadBand = 0 }, ""},
		{"dead_band 0.99", func(c *Config) { c.Controller.DeadBand = 0.99 }, ""},
		{"dead_band 1", func(c *Config) { c.Controller.DeadBand = 1 }, "controller.dead_band: 1 is out of range"},
		{"dead_band -0.01", func(c *Config) { c.Controller.DeadBand = -0.01 }, "controller.dead_band: -0.01 is out of range"},
		{"max_step 1.01", func(c *Config) { c.Controller.MaxStep = 1.01 }, ""},
		{"max_step 100", func(c *Config) { c.Controller.MaxStep = 100 }, ""},
		{"max_step 100.01", func(c *Config) { c.Controller.MaxStep = 100.01 }, "controller.max_step: 100.01 is out of range"},
		{"relax_after 1", func(c *Config) { c.Controller.RelaxAfter = 1 }, ""},
		{"relax_after 1000", func(c *Config) { c.Controller.RelaxAfter = 1000 }, ""},
		{"relax_after 1001", func(c *Config) { c.Controller.RelaxAfter = 1001 }, "controller.relax_after_intervals: 1001 is out of range"},
		{"min_multiplier 0", func(c *Config) { c.Controller.MinMultiplier = 0 }, "controller.min_multiplier: 0 must be positive"},
		{"max_multiplier 0", func(c *Config) { c.Controller.MaxMultiplier = 0 }, "controller.max_multiplier: 0 must be positive"},
		{"min = max multiplier", func(c *Config) {
			c.Controller.MinMultiplier, c.Controller.MaxMultiplier, c.Controller.InitialMultiplier = 2, 2, 2
		}, "controller.min_multiplier (2) must be below controller.max_multiplier (2)"},
		{"initial = min multiplier", func(c *Config) { c.Controller.InitialMultiplier = c.Controller.MinMultiplier }, ""},
		{"initial = max multiplier", func(c *Config) { c.Controller.InitialMultiplier = c.Controller.MaxMultiplier }, ""},
		{"initial below min", func(c *Config) { c.Controller.InitialMultiplier = 0.0009 }, "controller.initial_multiplier: 0.0009 must lie between"},
		{"initial NaN", func(c *Config) { c.Controller.InitialMultiplier = nan }, "controller.initial_multiplier: NaN must lie between"},

		{"host_load.source processes", func(c *Config) { c.HostLoad.Source = LoadProcesses }, ""},
		{"host_load.cpu_count 0", func(c *Config) { c.HostLoad.CPUCount = 0 }, ""},
		{"host_load.cpu_count 100000", func(c *Config) { c.HostLoad.CPUCount = 100_000 }, ""},
		{"host_load.cpu_count -1", func(c *Config) { c.HostLoad.CPUCount = -1 }, "host_load.cpu_count: -1 is out of range"},
		{"host_load.cpu_count 100001", func(c *Config) { c.HostLoad.CPUCount = 100_001 }, "host_load.cpu_count: 100001 is out of range"},
		{"host_load low 0, high 1", func(c *Config) { c.HostLoad.Low, c.HostLoad.High = 0, 1 }, ""},
		{"host_load low -0.1", func(c *Config) { c.HostLoad.Low = -0.1 }, "host_load.low (-0.1) and host_load.high (0.95)"},
		{"host_load high 1.01", func(c *Config) { c.HostLoad.High = 1.01 }, "host_load.low (0.6) and host_load.high (1.01)"},
		{"host_load low = high", func(c *Config) { c.HostLoad.Low, c.HostLoad.High = 0.5, 0.5 }, "host_load.low (0.5) and host_load.high (0.5)"},
		{"host_load.max_multiplier 1", func(c *Config) { c.HostLoad.MaxMultiplier = 1 }, ""},
		{"host_load.max_multiplier 100", func(c *Config) { c.HostLoad.MaxMultiplier = 100 }, ""},
		{"host_load.max_multiplier 100.5", func(c *Config) { c.HostLoad.MaxMultiplier = 100.5 }, "host_load.max_multiplier: 100.5 is out of range"},

		{"retention 0", func(c *Config) { c.Retention = 0 }, ""},
		{"probation 0", func(c *Config) { c.Probation = 0 }, ""},
		{"probation 24h", func(c *Config) { c.Probation = maxProbation }, ""},
		{"probation -1ns", func(c *Config) { c.Probation = -1 }, "probation: -1ns is out of range"},
		{"smoothing none", func(c *Config) { c.Smoothing = "none" }, ""},
		{"smoothing_window 1", func(c *Config) { c.SmoothingWindow = 1 }, ""},
		{"smoothing_window 1000", func(c *Config) { c.SmoothingWindow = 1000 }, ""},
		{"smoothing_window 1001", func(c *Config) { c.SmoothingWindow = 1001 }, "smoothing_window: 1001 is out of range"},

		{"idle cpu 0, memory 1", func(c *Config) { c.DropRules.Idle.CPU, c.DropRules.Idle.Memory = 0, 1 }, ""},
		{"idle cpu 1, memory 0", func(c *Config) { c.DropRules.Idle.CPU, c.DropRules.Idle.Memory = 1, 0 }, ""},
		{"idle cpu -1", func(c *Config) { c.DropRules.Idle.CPU = -1 }, "drop_rules.idle: cpu (-1 cores)"},
		{"idle memory +Inf", func(c *Config) { c.DropRules.Idle.Memory = inf }, "drop_rules.idle: cpu (0.0005 cores) and memory (+Inf bytes)"},
		{"idle disabled, both 0", func(c *Config) { c.DropRules.Idle = IdleRuleConfig{} }, ""},
		{"short_lived min_age 1ns, cpu 0", func(c *Config) { c.DropRules.ShortLived.MinAge, c.DropRules.ShortLived.CPU = 1, 0 }, ""},
		{"short_lived min_age -1s", func(c *Config) { c.DropRules.ShortLived.MinAge = -time.Second }, "drop_rules.short_lived.min_age: -1s must be positive"},
		{"short_lived cpu -0.1", func(c *Config) { c.DropRules.ShortLived.CPU = -0.1 }, "drop_rules.short_lived.cpu: -0.1 must not be negative"},
		{"short_lived disabled, min_age 0", func(c *Config) { c.DropRules.ShortLived = ShortLivedRuleConfig{} }, ""},
		{"ephemeral 3, 6", func(c *Config) { c.DropRules.Ephemeral = EphemeralRuleConfig{Enabled: true, MinDigits: 3, MinHex: 6} }, ""},
		{"ephemeral 64, 128", func(c *Config) {
			c.DropRules.Ephemeral = EphemeralRuleConfig{Enabled: true, MinDigits: 64, MinHex: 128}
		}, ""},
		{"ephemeral min_digits 65", func(c *Config) { c.DropRules.Ephemeral = EphemeralRuleConfig{Enabled: true, MinDigits: 65, MinHex: 6} }, "min_digits: 65 is out of range"},
		{"ephemeral min_digits 2", func(c *Config) { c.DropRules.Ephemeral = EphemeralRuleConfig{Enabled: true, MinDigits: 2, MinHex: 6} }, "min_digits: 2 is out of range"},
		{"ephemeral min_hex 5", func(c *Config) { c.DropRules.Ephemeral = EphemeralRuleConfig{Enabled: true, MinDigits: 3, MinHex: 5} }, "min_hex: 5 is out of range"},
		{"ephemeral min_hex 129", func(c *Config) { c.DropRules.Ephemeral = EphemeralRuleConfig{Enabled: true, MinDigits: 3, MinHex: 129} }, "min_hex: 129 is out of range"},
		{"ephemeral disabled, 0, 0", func(c *Config) { c.DropRules.Ephemeral = EphemeralRuleConfig{} }, ""},

		{"max_tracked 1", func(c *Config) { c.MaxTrackedProcesses = 1 }, ""},
		{"max_tracked max", func(c *Config) { c.MaxTrackedProcesses = maxTracked }, ""},
		{"max_tracked max+1", func(c *Config) { c.MaxTrackedProcesses = maxTracked + 1 }, "max_tracked_processes: 10000001 is out of range"},
		{"prune_after 1", func(c *Config) { c.PruneAfter = 1 }, ""},
		{"prune_after max", func(c *Config) { c.PruneAfter = maxPruneAfter }, ""},
		{"prune_after max+1", func(c *Config) { c.PruneAfter = maxPruneAfter + 1 }, "prune_after_intervals: 10001 is out of range"},
	} {
		cfg := createDefaultConfig().(*Config)
		c.mutate(cfg)
		err := cfg.Validate()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: must be valid: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
}

func scoreWeights(t ThresholdsConfig, cpu, mem float64) ThresholdsConfig {
	t.Mode, t.CPUWeight, t.MemoryWeight = ModeScore, cpu, mem
	return t
}
