package topkprocessor

import (
	"strings"
	"testing"
)

// Each setting's bounds, at the value on either side: the smallest valid
// value is accepted, the first invalid one rejected naming its field.
// (Mutation testing: an off-by-one in any of Validate's comparisons fails
// one row.)
func TestValidateBounds(t *testing.T) {
	for _, c := range []struct {
		name   string
		mutate func(*Config)
		want   string // "" = valid
	}{
		{"band 0", func(c *Config) { c.Hysteresis.Band = 0 }, ""},
		{"band 0.99", func(c *Config) { c.Hysteresis.Band = 0.99 }, ""},
		{"band 1", func(c *Config) { c.Hysteresis.Band = 1 }, "hysteresis.band: must be within [0, 1), got 1"},
		{"band -0.01", func(c *Config) { c.Hysteresis.Band = -0.01 }, "hysteresis.band: must be within [0, 1), got -0.01"},
		{"margin 0", func(c *Config) { c.Hysteresis.Margin = 0 }, ""},
		{"margin -1", func(c *Config) { c.Hysteresis.Margin = -1 }, "hysteresis.margin: must be >= 0"},
		{"intervals 1", func(c *Config) { c.Hysteresis.Intervals = 1 }, ""},
		{"window 1", func(c *Config) { c.Window = 1 }, ""},
		{"window 0", func(c *Config) { c.Window = 0 }, "window: must be at least 1 interval, got 0"},
		{"probation 0", func(c *Config) { c.Probation = 0 }, ""},
		{"probation -1ns", func(c *Config) { c.Probation = -1 }, "probation: must be >= 0"},
		{"prune_after 1", func(c *Config) { c.PruneAfter = 1 }, ""},
		{"top_k 1", func(c *Config) { c.TopK = 1 }, ""},
		{"weights cpu 0", func(c *Config) { c.Ranking = RankingWeighted; c.Weights = Weights{CPU: 0, Memory: 1} }, ""},
		{"weights memory 0", func(c *Config) { c.Ranking = RankingWeighted; c.Weights = Weights{CPU: 1, Memory: 0} }, ""},
		{"weights memory -1", func(c *Config) { c.Ranking = RankingWeighted; c.Weights = Weights{CPU: 2, Memory: -1} }, "weights: cpu and memory must be finite and >= 0"},
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
