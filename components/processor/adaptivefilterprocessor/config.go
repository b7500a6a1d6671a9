package adaptivefilterprocessor

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"time"

	"go.opentelemetry.io/collector/component"

	"github.com/phoenix-otel/phoenix/components/internal/processmetrics"
)

// Units max_cardinality can be counted in.
const (
	// UnitProcesses counts output process resources.
	UnitProcesses = "processes"
	// UnitSeries counts output series of process resources: one per metric
	// and data-point attribute set (about 7 per process from the Linux
	// process scraper).
	UnitSeries = "series"
)

// Ways a process's score is compared with the thresholds.
const (
	// ModeAny keeps a process when its CPU passes the CPU threshold or its
	// memory passes the memory threshold.
	ModeAny = "any"
	// ModeScore keeps a process when its weighted score
	// cpu_weight*cpu/cpu + memory_weight*memory/memory passes the multiplier.
	ModeScore = "score"
)

// Sources of host load.
const (
	// LoadAuto uses system.cpu.utilization when the batch carries it, else
	// the sum of process CPU over the host's cores.
	LoadAuto = "auto"
	// LoadProcesses always uses the sum of process CPU over the host's cores.
	LoadProcesses = "processes"
	// LoadSystem only uses system.cpu.utilization (load 0 without it).
	LoadSystem = "system"
)

// Config configures the adaptive-filter processor.
type Config struct {
	// MaxCardinality is the budget per host (per host.name group), counted in
	// BudgetUnit. Critical processes count against it but are never dropped.
	MaxCardinality int `mapstructure:"max_cardinality"`
	// BudgetUnit is "processes" (default) or "series".
	BudgetUnit string `mapstructure:"budget_unit"`

	// CriticalProcesses are regular expressions on the executable name, the
	// command (argv[0]) or the command line. A matching process is always kept.
	CriticalProcesses []string `mapstructure:"critical_processes"`

	// Thresholds are the base thresholds; the controller scales them.
	Thresholds ThresholdsConfig `mapstructure:"thresholds"`
	// Controller tunes the feedback loop.
	Controller ControllerConfig `mapstructure:"controller"`
	// HostLoad makes the processor keep less under high host load.
	HostLoad HostLoadConfig `mapstructure:"host_load"`

	// Retention keeps a process that passed the thresholds for this long
	// after it last passed, so series do not flap. 0 turns it off.
	Retention time.Duration `mapstructure:"retention"`
	// Probation keeps a new process out of the output until it is older than this
	// (from its start time, or from when the processor first saw it), unless
	// it is critical. A process that lives shorter than that never becomes a
	// series, and most of a churning host's distinct series over a billing
	// window are such short-lived processes. The 6m default is what holds
	// loadgen's process-churn (random kills, mean lives 50-75 s) to 1.10x
	// distinct series per 10 minutes (5m: 1.22x; see churn_test.go). 0 turns
	// it off.
	Probation time.Duration `mapstructure:"probation"`
	// Smoothing is how CPU and memory are smoothed into the scores: "ewma"
	// (default), "max" (over the window) or "none". One spike must not drag
	// a process in.
	Smoothing string `mapstructure:"smoothing"`
	// SmoothingWindow is the smoothing window in intervals (EWMA alpha
	// 2/(window+1)).
	SmoothingWindow int `mapstructure:"smoothing_window"`

	// DropRules drop processes whatever the thresholds say (critical ones excepted).
	DropRules DropRulesConfig `mapstructure:"drop_rules"`

	// MaxTrackedProcesses caps the per-process state. Past it, new processes
	// are judged without history (no smoothing, no retention) and the
	// overflow is reported.
	MaxTrackedProcesses int `mapstructure:"max_tracked_processes"`
	// PruneAfter drops the state of a process (and of a host) not seen for
	// this many intervals.
	PruneAfter int `mapstructure:"prune_after_intervals"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// ThresholdsConfig holds the base thresholds at multiplier 1.
type ThresholdsConfig struct {
	// Mode is "any" (default) or "score".
	Mode string `mapstructure:"mode"`
	// CPU is the base CPU threshold in cores (0.05 = 5% of one core).
	CPU float64 `mapstructure:"cpu"`
	// Memory is the base resident-memory threshold in bytes.
	Memory float64 `mapstructure:"memory"`
	// CPUWeight and MemoryWeight weigh the normalised CPU and memory in
	// score mode. They must sum to 1.
	CPUWeight    float64 `mapstructure:"cpu_weight"`
	MemoryWeight float64 `mapstructure:"memory_weight"`
}

// ControllerConfig tunes the multiplier's feedback loop.
type ControllerConfig struct {
	// DeadBand is the relative half-width of the band around the set point in
	// which the multiplier holds still. The set point is
	// max_cardinality/(1+dead_band), so the band's top edge is the budget.
	DeadBand float64 `mapstructure:"dead_band"`
	// MaxStep bounds the change of the multiplier per interval: it moves by a
	// factor of at most max_step up or down.
	MaxStep float64 `mapstructure:"max_step"`
	// RelaxAfter is how many consecutive intervals the output must sit below
	// the band before the multiplier falls. Tightening is immediate (over the
	// band is over the budget); relaxing waits so that noise does not make
	// the thresholds see-saw.
	RelaxAfter int `mapstructure:"relax_after_intervals"`
	// MinMultiplier and MaxMultiplier clamp the multiplier.
	MinMultiplier float64 `mapstructure:"min_multiplier"`
	MaxMultiplier float64 `mapstructure:"max_multiplier"`
	// InitialMultiplier is where the controller starts.
	InitialMultiplier float64 `mapstructure:"initial_multiplier"`
	// EnforceBudget drops the lowest-scoring non-critical processes when the
	// output would exceed max_cardinality (a transient before the controller
	// converges, or when retained processes crowd the budget).
	EnforceBudget bool `mapstructure:"enforce_budget"`
}

// HostLoadConfig turns host load into a multiplier on the thresholds.
type HostLoadConfig struct {
	Enabled bool `mapstructure:"enabled"`
	// Source is "auto" (default), "processes" or "system".
	Source string `mapstructure:"source"`
	// CPUCount is the host's number of cores for the process-sum load; 0 =
	// the cores of the machine the collector runs on (right for an agent,
	// set it on a gateway), or the cpus seen in system.cpu.utilization.
	CPUCount int `mapstructure:"cpu_count"`
	// Low and High bound the load range (0..1) over which the load
	// multiplier rises linearly from 1 to MaxMultiplier.
	Low  float64 `mapstructure:"low"`
	High float64 `mapstructure:"high"`
	// MaxMultiplier is the load multiplier at and above High; the controller's
	// target is the set point divided by it (2 = keep half under full load).
	MaxMultiplier float64 `mapstructure:"max_multiplier"`
}

// DropRulesConfig switches the drop rules.
type DropRulesConfig struct {
	Idle       IdleRuleConfig       `mapstructure:"idle"`
	ShortLived ShortLivedRuleConfig `mapstructure:"short_lived"`
	Ephemeral  EphemeralRuleConfig  `mapstructure:"ephemeral_names"`
}

// IdleRuleConfig drops a process whose CPU and memory are both under floors.
type IdleRuleConfig struct {
	Enabled bool `mapstructure:"enabled"`
	// CPU floor in cores.
	CPU float64 `mapstructure:"cpu"`
	// Memory floor in bytes.
	Memory float64 `mapstructure:"memory"`
}

// ShortLivedRuleConfig drops a process younger than MinAge whose CPU is under
// the CPU floor: a young and quiet process.
type ShortLivedRuleConfig struct {
	Enabled bool          `mapstructure:"enabled"`
	MinAge  time.Duration `mapstructure:"min_age"`
	CPU     float64       `mapstructure:"cpu"`
}

// EphemeralRuleConfig drops processes whose executable name carries an
// ephemeral id: a run of MinDigits or more decimal digits, or a run of
// MinHex or more hex characters with at least one digit and one letter.
type EphemeralRuleConfig struct {
	Enabled   bool `mapstructure:"enabled"`
	MinDigits int  `mapstructure:"min_digits"`
	MinHex    int  `mapstructure:"min_hex"`
}

var _ component.Config = (*Config)(nil)

func createDefaultConfig() component.Config {
	return &Config{
		MaxCardinality: 200,
		BudgetUnit:     UnitProcesses,
		Thresholds: ThresholdsConfig{
			Mode:         ModeAny,
			CPU:          0.05,              // 5% of a core
			Memory:       256 * 1024 * 1024, // 256 MiB resident
			CPUWeight:    0.7,
			MemoryWeight: 0.3,
		},
		Controller: ControllerConfig{
			DeadBand:          0.10,
			MaxStep:           4,
			RelaxAfter:        3,
			MinMultiplier:     0.001,
			MaxMultiplier:     1000,
			InitialMultiplier: 1,
			EnforceBudget:     true,
		},
		HostLoad: HostLoadConfig{
			Enabled:       true,
			Source:        LoadAuto,
			Low:           0.6,
			High:          0.95,
			MaxMultiplier: 2,
		},
		Retention:       5 * time.Minute,
		Probation:       6 * time.Minute,
		Smoothing:       string(processmetrics.SmoothingEWMA),
		SmoothingWindow: 3,
		DropRules: DropRulesConfig{
			Idle:       IdleRuleConfig{Enabled: true, CPU: 0.0005, Memory: 4 * 1024 * 1024},
			ShortLived: ShortLivedRuleConfig{Enabled: true, MinAge: time.Minute, CPU: 0.01},
			Ephemeral:  EphemeralRuleConfig{Enabled: false, MinDigits: 6, MinHex: 12},
		},
		MaxTrackedProcesses: 100_000,
		PruneAfter:          5,
	}
}

const (
	maxBudget     = 10_000_000
	maxTracked    = 10_000_000
	maxPruneAfter = 10_000
	maxProbation  = 24 * time.Hour
)

func finitePositive(v float64) bool { return v > 0 && !math.IsInf(v, 0) && !math.IsNaN(v) }
func finiteNonNeg(v float64) bool   { return v >= 0 && !math.IsInf(v, 0) && !math.IsNaN(v) }

// Validate reports every problem in the configuration at once.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	if c.MaxCardinality < 1 || c.MaxCardinality > maxBudget {
		add("max_cardinality: %d is out of range, must be between 1 and %d", c.MaxCardinality, maxBudget)
	}
	switch c.BudgetUnit {
	case UnitProcesses, UnitSeries:
	default:
		add("budget_unit: %q is not valid, use %q or %q", c.BudgetUnit, UnitProcesses, UnitSeries)
	}
	for i, expr := range c.CriticalProcesses {
		if expr == "" {
			add("critical_processes[%d]: empty pattern (it would match every process)", i)
			continue
		}
		if _, err := regexp.Compile(expr); err != nil {
			add("critical_processes[%d]: invalid regular expression %q: %w", i, expr, err)
		}
	}

	t := c.Thresholds
	switch t.Mode {
	case ModeAny, ModeScore:
	default:
		add("thresholds.mode: %q is not valid, use %q or %q", t.Mode, ModeAny, ModeScore)
	}
	if !finitePositive(t.CPU) {
		add("thresholds.cpu: %v must be a positive number of cores (e.g. 0.05 for 5%% of a core)", t.CPU)
	}
	if !finitePositive(t.Memory) {
		add("thresholds.memory: %v must be a positive number of bytes", t.Memory)
	}
	if t.Mode == ModeScore {
		if !finiteNonNeg(t.CPUWeight) || !finiteNonNeg(t.MemoryWeight) {
			add("thresholds.cpu_weight/memory_weight: %v and %v must not be negative", t.CPUWeight, t.MemoryWeight)
		} else if s := t.CPUWeight + t.MemoryWeight; math.Abs(s-1) > 1e-9 {
			add("thresholds.cpu_weight + thresholds.memory_weight: must sum to 1, got %v", s)
		}
	}

	k := c.Controller
	if !(k.DeadBand >= 0 && k.DeadBand < 1) {
		add("controller.dead_band: %v is out of range, must be at least 0 and below 1 (0.1 = ±10%%)", k.DeadBand)
	}
	if !(k.MaxStep > 1 && k.MaxStep <= 100) {
		add("controller.max_step: %v is out of range, must be above 1 and at most 100 (the factor the multiplier may move per interval)", k.MaxStep)
	}
	if k.RelaxAfter < 1 || k.RelaxAfter > 1000 {
		add("controller.relax_after_intervals: %d is out of range, must be between 1 (relax at once) and 1000", k.RelaxAfter)
	}
	if !finitePositive(k.MinMultiplier) {
		add("controller.min_multiplier: %v must be positive", k.MinMultiplier)
	}
	if !finitePositive(k.MaxMultiplier) {
		add("controller.max_multiplier: %v must be positive", k.MaxMultiplier)
	}
	if finitePositive(k.MinMultiplier) && finitePositive(k.MaxMultiplier) {
		if k.MinMultiplier >= k.MaxMultiplier {
			add("controller.min_multiplier (%v) must be below controller.max_multiplier (%v)", k.MinMultiplier, k.MaxMultiplier)
		} else if k.InitialMultiplier < k.MinMultiplier || k.InitialMultiplier > k.MaxMultiplier || math.IsNaN(k.InitialMultiplier) {
			add("controller.initial_multiplier: %v must lie between min_multiplier (%v) and max_multiplier (%v)", k.InitialMultiplier, k.MinMultiplier, k.MaxMultiplier)
		}
	}

	h := c.HostLoad
	if h.Enabled {
		switch h.Source {
		case LoadAuto, LoadProcesses, LoadSystem:
		default:
			add("host_load.source: %q is not valid, use %q, %q or %q", h.Source, LoadAuto, LoadProcesses, LoadSystem)
		}
		if h.CPUCount < 0 || h.CPUCount > 100_000 {
			add("host_load.cpu_count: %d is out of range, must be between 0 (detect) and 100000", h.CPUCount)
		}
		if !(h.Low >= 0 && h.High <= 1 && h.Low < h.High) {
			add("host_load.low (%v) and host_load.high (%v): need 0 <= low < high <= 1", h.Low, h.High)
		}
		if !(h.MaxMultiplier >= 1 && h.MaxMultiplier <= 100) {
			add("host_load.max_multiplier: %v is out of range, must be between 1 (no effect) and 100", h.MaxMultiplier)
		}
	}

	if c.Retention < 0 {
		add("retention: %s must not be negative (0 turns retention off)", c.Retention)
	}
	if c.Probation < 0 || c.Probation > maxProbation {
		add("probation: %s is out of range, must be between 0 (off) and %s", c.Probation, maxProbation)
	}
	switch processmetrics.Smoothing(c.Smoothing) {
	case processmetrics.SmoothingEWMA, processmetrics.SmoothingMax, processmetrics.SmoothingNone:
	default:
		add("smoothing: %q is not valid, use %q, %q or %q", c.Smoothing,
			processmetrics.SmoothingEWMA, processmetrics.SmoothingMax, processmetrics.SmoothingNone)
	}
	if c.SmoothingWindow < 1 || c.SmoothingWindow > 1000 {
		add("smoothing_window: %d is out of range, must be between 1 and 1000 intervals", c.SmoothingWindow)
	}

	d := c.DropRules
	if d.Idle.Enabled {
		if !finiteNonNeg(d.Idle.CPU) || !finiteNonNeg(d.Idle.Memory) || (d.Idle.CPU == 0 && d.Idle.Memory == 0) {
			add("drop_rules.idle: cpu (%v cores) and memory (%v bytes) must not be negative and not both 0", d.Idle.CPU, d.Idle.Memory)
		}
	}
	if d.ShortLived.Enabled {
		if d.ShortLived.MinAge <= 0 {
			add("drop_rules.short_lived.min_age: %s must be positive", d.ShortLived.MinAge)
		}
		if !finiteNonNeg(d.ShortLived.CPU) {
			add("drop_rules.short_lived.cpu: %v must not be negative", d.ShortLived.CPU)
		}
	}
	if d.Ephemeral.Enabled {
		if d.Ephemeral.MinDigits < 3 || d.Ephemeral.MinDigits > 64 {
			add("drop_rules.ephemeral_names.min_digits: %d is out of range, must be between 3 and 64", d.Ephemeral.MinDigits)
		}
		if d.Ephemeral.MinHex < 6 || d.Ephemeral.MinHex > 128 {
			add("drop_rules.ephemeral_names.min_hex: %d is out of range, must be between 6 and 128", d.Ephemeral.MinHex)
		}
	}

	if c.MaxTrackedProcesses < 1 || c.MaxTrackedProcesses > maxTracked {
		add("max_tracked_processes: %d is out of range, must be between 1 and %d", c.MaxTrackedProcesses, maxTracked)
	}
	if c.PruneAfter < 1 || c.PruneAfter > maxPruneAfter {
		add("prune_after_intervals: %d is out of range, must be between 1 and %d", c.PruneAfter, maxPruneAfter)
	}
	return errors.Join(errs...)
}
