package loadgen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// PatternType is the shape of a CPU or memory series over time.
type PatternType string

// The patterns a group's CPU and memory can follow.
const (
	Steady  PatternType = "steady"  // base, with ±5% noise
	Spiky   PatternType = "spiky"   // base, jumping to base+amplitude with probability spike_probability per step
	Growing PatternType = "growing" // a ramp from base to base+amplitude over period, then back to base (a leak and a restart)
	Random  PatternType = "random"  // uniform in [base, base+amplitude]
	Sine    PatternType = "sine"    // base + amplitude*(1+sin(2πt/period+phase))/2
)

var patternTypes = []PatternType{Steady, Spiky, Growing, Random, Sine}

// Pattern is one series' shape. For CPU the unit is cores (0.5 = half a core);
// for memory it is bytes.
type Pattern struct {
	Type             PatternType   `yaml:"pattern"`
	Base             float64       `yaml:"base"`
	Amplitude        float64       `yaml:"amplitude"`
	Period           time.Duration `yaml:"period"`
	SpikeProbability float64       `yaml:"spike_probability"`
}

func (p Pattern) validate(field string) error {
	known := false
	for _, t := range patternTypes {
		if p.Type == t {
			known = true
		}
	}
	if !known {
		return fmt.Errorf("%s.pattern: unknown pattern %q (want one of %v)", field, p.Type, patternTypes)
	}
	if p.Base < 0 || math.IsNaN(p.Base) || math.IsInf(p.Base, 0) {
		return fmt.Errorf("%s.base: must be a finite number >= 0, got %v", field, p.Base)
	}
	if p.Amplitude < 0 || math.IsNaN(p.Amplitude) || math.IsInf(p.Amplitude, 0) {
		return fmt.Errorf("%s.amplitude: must be a finite number >= 0, got %v", field, p.Amplitude)
	}
	if (p.Type == Growing || p.Type == Sine) && p.Period <= 0 {
		return fmt.Errorf("%s.period: pattern %q needs a period > 0", field, p.Type)
	}
	if p.SpikeProbability < 0 || p.SpikeProbability > 1 {
		return fmt.Errorf("%s.spike_probability: must be within [0, 1], got %v", field, p.SpikeProbability)
	}
	return nil
}

// At evaluates the pattern at age (time since the process started). phase in
// [0,1) de-synchronises processes of one group; rng draws the noise. The
// result is never negative.
func (p Pattern) At(age time.Duration, phase float64, rng *rand.Rand) float64 {
	var v float64
	switch p.Type {
	case Steady:
		v = p.Base * (1 + 0.05*(2*rng.Float64()-1))
	case Spiky:
		prob := p.SpikeProbability
		if prob == 0 {
			prob = 0.1
		}
		v = p.Base
		if rng.Float64() < prob {
			v += p.Amplitude
		}
	case Growing:
		frac := math.Mod(age.Seconds()/p.Period.Seconds()+phase, 1)
		v = p.Base + p.Amplitude*frac
	case Random:
		v = p.Base + p.Amplitude*rng.Float64()
	case Sine:
		v = p.Base + p.Amplitude*(1+math.Sin(2*math.Pi*(age.Seconds()/p.Period.Seconds()+phase)))/2
	}
	if v < 0 {
		return 0
	}
	return v
}

// Mean is the long-run average of the pattern, used to size the spawner's CPU.
func (p Pattern) Mean() float64 {
	switch p.Type {
	case Spiky:
		prob := p.SpikeProbability
		if prob == 0 {
			prob = 0.1
		}
		return p.Base + prob*p.Amplitude
	case Growing, Random, Sine:
		return p.Base + p.Amplitude/2
	default:
		return p.Base
	}
}
