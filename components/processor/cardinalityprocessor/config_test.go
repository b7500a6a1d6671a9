package cardinalityprocessor

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
)

func loadConfig(t *testing.T, id string) *Config {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	sub, err := cm.Sub(component.MustNewIDWithName("cardinality", id[len("cardinality/"):]).String())
	require.NoError(t, err)
	cfg := NewFactory().CreateDefaultConfig()
	require.NoError(t, sub.Unmarshal(cfg))
	return cfg.(*Config)
}

func TestLoadConfig(t *testing.T) {
	cfg := loadConfig(t, "cardinality/in")
	require.NoError(t, confmap.Validate(cfg))
	want := &Config{
		Pipeline:          "processes",
		Stage:             StageInput,
		Variant:           "candidate",
		ExperimentID:      "exp-7",
		Window:            30 * time.Second,
		ExactLimit:        50000,
		TopOffenders:      5,
		CriticalProcesses: []string{"^nginx$", "^postgres", "^java$"},
		EmitMetrics:       true,
	}
	assert.Equal(t, want, cfg)

	minimal := loadConfig(t, "cardinality/minimal")
	require.NoError(t, confmap.Validate(minimal))
	assert.Equal(t, time.Minute, minimal.Window, "window defaults to 1m")
	assert.Equal(t, defaultExactLimit, minimal.ExactLimit)
	assert.Equal(t, defaultTopOffenders, minimal.TopOffenders)
	assert.False(t, minimal.EmitMetrics)
}

func TestValidateNamesEveryProblem(t *testing.T) {
	err := confmap.Validate(loadConfig(t, "cardinality/bad"))
	require.Error(t, err)
	for _, want := range []string{
		"pipeline: must be set",
		`stage: "middle" is not valid, use "input" or "output"`,
		"window: 10ms is too short, must be at least 1s",
		"exact_limit: 0 is out of range",
		"top_offenders: -1 is out of range",
		`critical_processes[0] "ngin(x": error parsing regexp`,
	} {
		assert.ErrorContains(t, err, want)
	}
}

func TestValidateCases(t *testing.T) {
	long := string(make([]byte, maxLabelLen+1))
	for name, tc := range map[string]struct {
		mutate func(*Config)
		err    string
	}{
		"valid":              {func(*Config) {}, ""},
		"output stage":       {func(c *Config) { c.Stage = StageOutput }, ""},
		"no stage":           {func(c *Config) { c.Stage = "" }, `stage: must be set to "input" or "output"`},
		"long pipeline":      {func(c *Config) { c.Pipeline = long }, "pipeline: 257 characters"},
		"long variant":       {func(c *Config) { c.Variant = long }, "variant: 257 characters"},
		"long experiment":    {func(c *Config) { c.ExperimentID = long }, "experiment_id: 257 characters"},
		"huge exact_limit":   {func(c *Config) { c.ExactLimit = maxExactLimit + 1 }, "exact_limit: 10000001 is out of range"},
		"too many offenders": {func(c *Config) { c.TopOffenders = 101 }, "top_offenders: 101 is out of range"},
		"offenders off":      {func(c *Config) { c.TopOffenders = 0 }, ""},
		// every bound is inclusive
		"longest pipeline":    {func(c *Config) { c.Pipeline = long[:maxLabelLen] }, ""},
		"longest variant":     {func(c *Config) { c.Variant = long[:maxLabelLen] }, ""},
		"longest experiment":  {func(c *Config) { c.ExperimentID = long[:maxLabelLen] }, ""},
		"exact_limit 1":       {func(c *Config) { c.ExactLimit = 1 }, ""},
		"exact_limit 0":       {func(c *Config) { c.ExactLimit = 0 }, "exact_limit: 0 is out of range"},
		"largest exact_limit": {func(c *Config) { c.ExactLimit = maxExactLimit }, ""},
		"shortest window":     {func(c *Config) { c.Window = minWindow }, ""},
		"most offenders":      {func(c *Config) { c.TopOffenders = maxOffenders }, ""},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig()
			tc.mutate(cfg)
			err := cfg.Validate()
			if tc.err == "" {
				assert.NoError(t, err)
			} else {
				assert.ErrorContains(t, err, tc.err)
			}
		})
	}
}

func TestFactory(t *testing.T) {
	f := NewFactory()
	assert.Equal(t, "cardinality", f.Type().String())
	cfg := f.CreateDefaultConfig()
	require.NoError(t, componenttest.CheckConfigStruct(cfg))
	assert.ErrorContains(t, cfg.(*Config).Validate(), "pipeline: must be set", "the defaults need a pipeline and stage")
}
