package cardinalityprocessor

import (
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"

	"github.com/phoenix-otel/phoenix/components/internal/processmetrics"
)

// Stages a processor can stand at in a pipeline.
const (
	StageInput  = "input"
	StageOutput = "output"
)

const (
	defaultWindow       = time.Minute
	defaultExactLimit   = 100_000
	defaultTopOffenders = 10

	minWindow     = time.Second
	maxExactLimit = 10_000_000 // ~10 bytes of hash set per series: ~200 MB worst case
	maxOffenders  = 100
	maxLabelLen   = 256
)

// Config configures the cardinality processor. Every figure it reports is
// labelled with Pipeline, Stage and, when set, Variant and ExperimentID.
type Config struct {
	// Pipeline names the pipeline the figures belong to (label phoenix.pipeline).
	Pipeline string `mapstructure:"pipeline"`
	// Stage is where the processor stands: "input" (head) or "output" (tail).
	Stage string `mapstructure:"stage"`
	// Variant is the experiment variant (e.g. "baseline", "candidate"); optional.
	Variant string `mapstructure:"variant"`
	// ExperimentID is the experiment the pipeline runs in; optional.
	ExperimentID string `mapstructure:"experiment_id"`

	// Window is the reporting window: state is reset and figures are published
	// at the end of every window.
	Window time.Duration `mapstructure:"window"`
	// ExactLimit is how many distinct series (and, separately, processes and
	// attribute values) are counted exactly per window; past it the figures
	// come from HyperLogLog sketches and are marked estimated.
	ExactLimit int `mapstructure:"exact_limit"`
	// TopOffenders is how many attribute keys, ranked by distinct values, are
	// reported. 0 turns offender tracking off.
	TopOffenders int `mapstructure:"top_offenders"`
	// CriticalProcesses are regular expressions (RE2, unanchored) matched
	// against the process executable name, command (argv[0]) or command line; matching processes
	// are counted and reported by executable name.
	CriticalProcesses []string `mapstructure:"critical_processes"`
	// EmitMetrics also appends the figures as phoenix.* metrics to the data
	// flowing through the pipeline (the processor then mutates data).
	EmitMetrics bool `mapstructure:"emit_metrics"`

	// prevent unkeyed literal initialization
	_ struct{}
}

var _ component.Config = (*Config)(nil)

func createDefaultConfig() component.Config {
	return &Config{
		Window:       defaultWindow,
		ExactLimit:   defaultExactLimit,
		TopOffenders: defaultTopOffenders,
	}
}

// Validate reports every problem in the configuration at once.
func (c *Config) Validate() error {
	var errs []error
	switch {
	case c.Pipeline == "":
		errs = append(errs, errors.New(`pipeline: must be set to the name the figures are reported under (e.g. "processes")`))
	case len(c.Pipeline) > maxLabelLen:
		errs = append(errs, fmt.Errorf("pipeline: %d characters, at most %d allowed", len(c.Pipeline), maxLabelLen))
	}
	switch c.Stage {
	case StageInput, StageOutput:
	case "":
		errs = append(errs, fmt.Errorf("stage: must be set to %q or %q", StageInput, StageOutput))
	default:
		errs = append(errs, fmt.Errorf("stage: %q is not valid, use %q or %q", c.Stage, StageInput, StageOutput))
	}
	if len(c.Variant) > maxLabelLen {
		errs = append(errs, fmt.Errorf("variant: %d characters, at most %d allowed", len(c.Variant), maxLabelLen))
	}
	if len(c.ExperimentID) > maxLabelLen {
		errs = append(errs, fmt.Errorf("experiment_id: %d characters, at most %d allowed", len(c.ExperimentID), maxLabelLen))
	}
	if c.Window < minWindow {
		errs = append(errs, fmt.Errorf("window: %s is too short, must be at least %s", c.Window, minWindow))
	}
	if c.ExactLimit < 1 || c.ExactLimit > maxExactLimit {
		errs = append(errs, fmt.Errorf("exact_limit: %d is out of range, must be between 1 and %d", c.ExactLimit, maxExactLimit))
	}
	if c.TopOffenders < 0 || c.TopOffenders > maxOffenders {
		errs = append(errs, fmt.Errorf("top_offenders: %d is out of range, must be between 0 and %d", c.TopOffenders, maxOffenders))
	}
	if err := processmetrics.ValidatePatterns(c.CriticalProcesses); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
