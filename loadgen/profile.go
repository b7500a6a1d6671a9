package loadgen

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"
)

// Group is a set of processes that share a command line template and their
// patterns. It is also one entry of a custom profile file.
type Group struct {
	// NameTemplate renders each process's command line. Placeholders:
	// {i} the index within the group (grows with replacements, so it stays
	// unique), {id} a run-wide sequence number, {pid} the simulated PID, {hex}
	// 12 random hex digits.
	NameTemplate string `yaml:"name_template"`
	// Executable overrides process.executable.name; by default it is the base
	// name of the command line's first word, cut to 15 bytes as Linux does.
	Executable string `yaml:"executable"`
	// Count is how many processes of the group are alive at any time.
	Count int `yaml:"count"`
	// CPU is in cores, Memory in bytes (resident; virtual is a multiple).
	CPU    Pattern `yaml:"cpu"`
	Memory Pattern `yaml:"memory"`
	// Lifetime is how long each process lives before it exits and is replaced
	// (±20% jitter). Zero means it lives for the whole run.
	Lifetime time.Duration `yaml:"lifetime"`
	// ChurnRate is how many processes of the group are killed and replaced
	// per second, on top of Lifetime.
	ChurnRate float64 `yaml:"churn_rate"`
	// Owner is process.owner.
	Owner string `yaml:"owner"`

	// core marks the fixed critical services of the built-in profiles; they
	// are not scaled by the process_count override.
	core bool
}

// Profile is a resolved population of processes over time.
type Profile struct {
	Name     string
	Groups   []Group
	Seed     int64
	Duration time.Duration // 0 = forever
}

// Overrides changes a profile's size, churn and run time.
type Overrides struct {
	// ProcessCount is the total number of live processes. Built-in profiles
	// keep their critical core services and scale the other groups.
	ProcessCount int `mapstructure:"process_count" yaml:"process_count" json:"process_count,omitempty"`
	// ChurnRate is the total rate, in processes per second, at which the
	// profile's churning groups are killed and replaced.
	ChurnRate float64 `mapstructure:"churn_rate" yaml:"churn_rate" json:"churn_rate,omitempty"`
	// Duration is how long the load runs; 0 keeps the profile's (forever
	// for the built-in ones).
	Duration time.Duration `mapstructure:"duration" yaml:"duration" json:"duration,omitempty"`
}

// Spec names a profile and its overrides: what a user or an API asks for.
type Spec struct {
	Profile     string `json:"profile"`
	ProfileFile string `json:"profile_file,omitempty"`
	// ProfileYAML is a custom profile given inline instead of as a file.
	ProfileYAML string    `json:"profile_yaml,omitempty"`
	Overrides   Overrides `json:"overrides"`
	Seed        int64     `json:"seed"`
}

// The profile names.
const (
	ProfileRealistic       = "realistic"
	ProfileHighCardinality = "high-cardinality"
	ProfileProcessChurn    = "process-churn"
	ProfileCustom          = "custom"
)

// ProfileNames lists every profile name, built-in ones first.
func ProfileNames() []string {
	return []string{ProfileRealistic, ProfileHighCardinality, ProfileProcessChurn, ProfileCustom}
}

// maxProcesses bounds any profile, built-in or custom, so a typo cannot ask a
// receiver for millions of resources per scrape.
const maxProcesses = 100_000

// ErrUnknownProfile is returned (wrapped) for a profile name that does not exist.
var ErrUnknownProfile = errors.New("unknown profile")

// Resolve turns a Spec into a Profile, applying and checking the overrides.
// Errors name the field that is wrong.
func Resolve(spec Spec) (*Profile, error) {
	var (
		p   *Profile
		err error
	)
	switch spec.Profile {
	case ProfileCustom:
		switch {
		case spec.ProfileFile != "" && spec.ProfileYAML != "":
			return nil, errors.New("profile_file, profile_yaml: give one custom profile, not both")
		case spec.ProfileYAML != "":
			if p, err = ParseCustomProfile([]byte(spec.ProfileYAML)); err != nil {
				err = fmt.Errorf("profile_yaml: %w", err)
			}
		case spec.ProfileFile != "":
			p, err = LoadCustomProfileFile(spec.ProfileFile)
		default:
			return nil, errors.New("profile_file: required when profile is \"custom\" (or give profile_yaml)")
		}
	case "":
		return nil, fmt.Errorf("profile: required (one of %s)", strings.Join(ProfileNames(), ", "))
	default:
		b, ok := builtins[spec.Profile]
		if !ok {
			return nil, fmt.Errorf("profile: %w %q (want one of %s)", ErrUnknownProfile, spec.Profile, strings.Join(ProfileNames(), ", "))
		}
		if spec.ProfileFile != "" || spec.ProfileYAML != "" {
			return nil, fmt.Errorf("profile_file, profile_yaml: only allowed with profile \"custom\", not %q", spec.Profile)
		}
		p, err = b.build(spec.Overrides)
	}
	if err != nil {
		return nil, err
	}
	if spec.Profile == ProfileCustom {
		if err := applyCustomOverrides(p, spec.Overrides); err != nil {
			return nil, err
		}
	}
	if spec.Overrides.Duration < 0 {
		return nil, fmt.Errorf("duration: must be >= 0, got %s", spec.Overrides.Duration)
	}
	if spec.Overrides.Duration > 0 {
		p.Duration = spec.Overrides.Duration
	}
	if spec.Seed != 0 {
		p.Seed = spec.Seed
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

var placeholder = regexp.MustCompile(`\{[^{}]*\}`)

// Validate checks a profile; errors name the group by index and the field.
func (p *Profile) Validate() error {
	if len(p.Groups) == 0 {
		return errors.New("processes: a profile needs at least one entry")
	}
	total := 0
	for i, g := range p.Groups {
		f := fmt.Sprintf("processes[%d]", i)
		if strings.TrimSpace(g.NameTemplate) == "" {
			return fmt.Errorf("%s.name_template: required", f)
		}
		for _, ph := range placeholder.FindAllString(g.NameTemplate, -1) {
			switch ph {
			case "{i}", "{id}", "{pid}", "{hex}":
			default:
				return fmt.Errorf("%s.name_template: unknown placeholder %s (want {i}, {id}, {pid} or {hex})", f, ph)
			}
		}
		if g.Count < 1 {
			return fmt.Errorf("%s.count: must be >= 1, got %d", f, g.Count)
		}
		if err := g.CPU.validate(f + ".cpu"); err != nil {
			return err
		}
		if g.CPU.Base+g.CPU.Amplitude > 1024 {
			return fmt.Errorf("%s.cpu: base+amplitude is in cores and must be <= 1024, got %v", f, g.CPU.Base+g.CPU.Amplitude)
		}
		if err := g.Memory.validate(f + ".memory"); err != nil {
			return err
		}
		if g.Lifetime < 0 {
			return fmt.Errorf("%s.lifetime: must be >= 0, got %s", f, g.Lifetime)
		}
		if g.ChurnRate < 0 || math.IsNaN(g.ChurnRate) || math.IsInf(g.ChurnRate, 0) {
			return fmt.Errorf("%s.churn_rate: must be a finite number >= 0, got %v", f, g.ChurnRate)
		}
		total += g.Count
	}
	if total > maxProcesses {
		return fmt.Errorf("process_count: %d processes in all, more than the limit of %d", total, maxProcesses)
	}
	if p.Duration < 0 {
		return fmt.Errorf("duration: must be >= 0, got %s", p.Duration)
	}
	return nil
}

// ProcessCount is the number of live processes at any time.
func (p *Profile) ProcessCount() int {
	n := 0
	for _, g := range p.Groups {
		n += g.Count
	}
	return n
}

// ChurnRate is the total kill-and-replace rate per second (not counting
// lifetime expiries).
func (p *Profile) ChurnRate() float64 {
	r := 0.0
	for _, g := range p.Groups {
		r += g.ChurnRate
	}
	return r
}

// scaleCounts distributes total over the non-core groups, in proportion to
// their current counts, keeping at least one process per group.
func scaleCounts(groups []Group, total int) {
	fixed, scalable := 0, 0
	for _, g := range groups {
		if g.core {
			fixed += g.Count
		} else {
			scalable += g.Count
		}
	}
	want := total - fixed
	if scalable == 0 || want <= 0 {
		return
	}
	assigned := 0
	for i := range groups {
		if groups[i].core {
			continue
		}
		n := int(math.Round(float64(groups[i].Count) * float64(want) / float64(scalable)))
		groups[i].Count = max(n, 1)
		assigned += groups[i].Count
	}
	// Settle the rounding error one process at a time on the largest groups,
	// never leaving a group empty.
	for assigned != want {
		big := -1
		for i := range groups {
			if !groups[i].core && (big < 0 || groups[i].Count > groups[big].Count) {
				big = i
			}
		}
		if assigned < want {
			groups[big].Count++
			assigned++
		} else {
			if groups[big].Count == 1 {
				return // every group is down to one process
			}
			groups[big].Count--
			assigned--
		}
	}
}

// scaleChurn sets the total churn of the churning groups to rate, keeping
// their proportions. It reports false when no group churns.
func scaleChurn(groups []Group, rate float64) bool {
	cur := 0.0
	for _, g := range groups {
		cur += g.ChurnRate
	}
	if cur == 0 {
		return false
	}
	for i := range groups {
		groups[i].ChurnRate = groups[i].ChurnRate * rate / cur
	}
	return true
}

func applyCustomOverrides(p *Profile, o Overrides) error {
	if o.ProcessCount < 0 {
		return fmt.Errorf("process_count: must be >= 0, got %d", o.ProcessCount)
	}
	if o.ProcessCount > 0 {
		if o.ProcessCount > maxProcesses {
			return fmt.Errorf("process_count: must be <= %d, got %d", maxProcesses, o.ProcessCount)
		}
		if o.ProcessCount < len(p.Groups) {
			return fmt.Errorf("process_count: %d is fewer than the profile's %d entries", o.ProcessCount, len(p.Groups))
		}
		scaleCounts(p.Groups, o.ProcessCount)
	}
	if o.ChurnRate < 0 {
		return fmt.Errorf("churn_rate: must be >= 0, got %v", o.ChurnRate)
	}
	if o.ChurnRate > 0 && !scaleChurn(p.Groups, o.ChurnRate) {
		return errors.New("churn_rate: the profile has no entry with churn_rate > 0 to scale")
	}
	return nil
}
