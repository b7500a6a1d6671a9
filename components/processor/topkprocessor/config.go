package topkprocessor

import (
	"errors"
	"fmt"
	"math"
	"time"

	"go.opentelemetry.io/collector/component"

	"github.com/phoenix-otel/phoenix/components/internal/processmetrics"
)

// Rankings.
const (
	RankingCPU      = "cpu"
	RankingMemory   = "memory"
	RankingWeighted = "weighted"
)

// What happens to the processes that are not kept.
const (
	OthersAggregate = "aggregate"
	OthersDrop      = "drop"
)

// Config configures the topk processor.
type Config struct {
	// TopK is how many processes are kept per group (host), on top of the
	// critical ones. 0 is roll-up mode (only with others: aggregate and
	// others_group_by): only the critical processes are kept whole.
	TopK int `mapstructure:"top_k"`
	// Ranking is cpu, memory or weighted.
	Ranking string `mapstructure:"ranking"`
	// Weights apply when Ranking is weighted: each process scores
	// cpu*share_of_group_max_cpu + memory*share_of_group_max_memory.
	Weights Weights `mapstructure:"weights"`
	// Smoothing is ewma, max or none; Window is its length in intervals.
	Smoothing string `mapstructure:"smoothing"`
	Window    int    `mapstructure:"window"`
	// CriticalProcesses are RE2 regexes matched against the executable name,
	// the command (argv[0]) and the command line; matching processes are always kept and do not
	// count against TopK.
	CriticalProcesses []string `mapstructure:"critical_processes"`
	// Hysteresis keeps a kept process until it has been clearly below the
	// K-th (ranked at or below top_k+margin and scoring under (1-band) x the
	// K-th's score) for intervals consecutive intervals, and lets a newcomer
	// into a full keep set only when it scores above (1+band) x the weakest
	// kept process.
	Hysteresis Hysteresis `mapstructure:"hysteresis"`
	// Probation is how old a process must be (since its start time, or
	// since topk first saw it when the start time is unknown) before it can
	// enter the keep set; until then it is rolled up into other. Short-lived
	// jobs then never get series of their own. 0 disables it.
	Probation time.Duration `mapstructure:"probation"`
	// Others is aggregate (one `other` resource per group) or drop.
	Others string `mapstructure:"others"`
	// OtherName is the process.executable.name of the other resource.
	OtherName string `mapstructure:"other_name"`
	// OthersGroupBy is a resource attribute key: with it, the processes not
	// kept are rolled up into one other resource per (host, value of that
	// attribute), each carrying the attribute; processes without it go into
	// the plain other resource.
	OthersGroupBy string `mapstructure:"others_group_by"`
	// PruneAfter forgets a process absent for this many of its group's
	// intervals.
	PruneAfter int `mapstructure:"prune_after"`
	// MaxTrackedProcesses caps the process state over all groups.
	MaxTrackedProcesses int `mapstructure:"max_tracked_processes"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// Weights of the weighted ranking.
type Weights struct {
	CPU    float64 `mapstructure:"cpu"`
	Memory float64 `mapstructure:"memory"`
}

// Hysteresis of the keep set.
type Hysteresis struct {
	Margin int `mapstructure:"margin"`
	// Band is the relative score difference that counts as clearly better
	// or worse, in [0, 1).
	Band      float64 `mapstructure:"band"`
	Intervals int     `mapstructure:"intervals"`
}

var _ component.Config = (*Config)(nil)

func createDefaultConfig() component.Config {
	return &Config{
		TopK:                20,
		Ranking:             RankingCPU,
		Weights:             Weights{CPU: 0.7, Memory: 0.3},
		Smoothing:           string(processmetrics.SmoothingEWMA),
		Window:              5,
		Hysteresis:          Hysteresis{Margin: 5, Band: 0.25, Intervals: 3},
		Probation:           10 * time.Minute,
		Others:              OthersAggregate,
		OtherName:           "_other",
		PruneAfter:          5,
		MaxTrackedProcesses: 50_000,
	}
}

// Validate reports every problem at once, each naming its field.
func (c *Config) Validate() error {
	var errs []error
	rollUp := c.Others == OthersAggregate && c.OthersGroupBy != ""
	switch {
	case c.TopK == 0 && rollUp:
		// Roll-up mode: critical processes whole, every other one rolled up.
	case c.TopK < 1:
		errs = append(errs, fmt.Errorf("top_k: must be at least 1, got %d (0 is allowed only in roll-up mode, with others: aggregate and others_group_by set)", c.TopK))
	}
	switch c.Ranking {
	case RankingCPU, RankingMemory:
	case RankingWeighted:
		w := c.Weights
		switch {
		case w.CPU < 0 || w.Memory < 0 || math.IsNaN(w.CPU) || math.IsNaN(w.Memory) || math.IsInf(w.CPU, 0) || math.IsInf(w.Memory, 0):
			errs = append(errs, fmt.Errorf("weights: cpu and memory must be finite and >= 0, got cpu=%v memory=%v", w.CPU, w.Memory))
		case w.CPU+w.Memory == 0:
			errs = append(errs, errors.New("weights: cpu + memory must be > 0 for ranking: weighted"))
		}
	default:
		errs = append(errs, fmt.Errorf("ranking: unknown %q (want cpu, memory or weighted)", c.Ranking))
	}
	switch processmetrics.Smoothing(c.Smoothing) {
	case processmetrics.SmoothingEWMA, processmetrics.SmoothingMax, processmetrics.SmoothingNone:
	default:
		errs = append(errs, fmt.Errorf("smoothing: unknown %q (want ewma, max or none)", c.Smoothing))
	}
	if c.Window < 1 {
		errs = append(errs, fmt.Errorf("window: must be at least 1 interval, got %d", c.Window))
	}
	if err := processmetrics.ValidatePatterns(c.CriticalProcesses); err != nil {
		errs = append(errs, err)
	}
	if c.Hysteresis.Margin < 0 {
		errs = append(errs, fmt.Errorf("hysteresis.margin: must be >= 0, got %d", c.Hysteresis.Margin))
	}
	if b := c.Hysteresis.Band; !(b >= 0 && b < 1) {
		errs = append(errs, fmt.Errorf("hysteresis.band: must be within [0, 1), got %v", b))
	}
	if c.Probation < 0 {
		errs = append(errs, fmt.Errorf("probation: must be >= 0 (0 disables it), got %s", c.Probation))
	}
	if c.Hysteresis.Intervals < 1 {
		errs = append(errs, fmt.Errorf("hysteresis.intervals: must be at least 1, got %d", c.Hysteresis.Intervals))
	}
	switch c.Others {
	case OthersAggregate:
		if c.OtherName == "" {
			errs = append(errs, errors.New("other_name: must not be empty with others: aggregate"))
		}
	case OthersDrop:
		if c.OthersGroupBy != "" {
			errs = append(errs, fmt.Errorf("others_group_by: %q needs others: aggregate (with others: drop nothing is rolled up)", c.OthersGroupBy))
		}
	default:
		errs = append(errs, fmt.Errorf("others: unknown %q (want aggregate or drop)", c.Others))
	}
	switch c.OthersGroupBy {
	case processmetrics.AttrHostName:
		errs = append(errs, fmt.Errorf("others_group_by: %q is already the group: other resources are per host", c.OthersGroupBy))
	case processmetrics.AttrExecutableName:
		errs = append(errs, fmt.Errorf("others_group_by: %q cannot be used: it holds other_name on the other resources", c.OthersGroupBy))
	case processmetrics.AttrPID:
		errs = append(errs, fmt.Errorf("others_group_by: %q would make one other resource per process", c.OthersGroupBy))
	}
	if c.PruneAfter < 1 {
		errs = append(errs, fmt.Errorf("prune_after: must be at least 1 interval, got %d", c.PruneAfter))
	}
	if c.MaxTrackedProcesses < 1 {
		errs = append(errs, fmt.Errorf("max_tracked_processes: must be at least 1, got %d", c.MaxTrackedProcesses))
	}
	return errors.Join(errs...)
}

func (c *Config) trackerConfig() processmetrics.TrackerConfig {
	return processmetrics.TrackerConfig{
		Smoothing:  processmetrics.Smoothing(c.Smoothing),
		Window:     c.Window,
		PruneAfter: c.PruneAfter,
		MaxTracked: c.MaxTrackedProcesses,
	}
}
