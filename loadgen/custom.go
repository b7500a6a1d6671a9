package loadgen

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// customFile is the YAML of a custom profile:
//
//	name: batch-mix
//	duration: 10m        # optional
//	seed: 7              # optional
//	processes:
//	  - name_template: "worker --shard={i}"
//	    count: 10
//	    cpu:    {pattern: spiky, base: 0.05, amplitude: 0.5}
//	    memory: {pattern: growing, base: 100MiB, amplitude: 50MiB, period: 10m}
//	    lifetime: 60s
//	    churn_rate: 1
type customFile struct {
	Name      string        `yaml:"name"`
	Duration  time.Duration `yaml:"duration"`
	Seed      int64         `yaml:"seed"`
	Processes []customGroup `yaml:"processes"`
}

type customGroup struct {
	NameTemplate string        `yaml:"name_template"`
	Executable   string        `yaml:"executable"`
	Count        int           `yaml:"count"`
	CPU          customPattern `yaml:"cpu"`
	Memory       customPattern `yaml:"memory"`
	Lifetime     time.Duration `yaml:"lifetime"`
	ChurnRate    float64       `yaml:"churn_rate"`
	Owner        string        `yaml:"owner"`
}

type customPattern struct {
	Pattern          PatternType   `yaml:"pattern"`
	Base             quantity      `yaml:"base"`
	Amplitude        quantity      `yaml:"amplitude"`
	Period           time.Duration `yaml:"period"`
	SpikeProbability float64       `yaml:"spike_probability"`
}

// quantity is a number, or a string with a byte unit (KiB, MiB, GiB, KB, MB, GB).
type quantity float64

func (q *quantity) UnmarshalYAML(n *yaml.Node) error {
	v, err := parseQuantity(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*q = quantity(v)
	return nil
}

func parseQuantity(s string) (float64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   float64
	}{{"KiB", kib}, {"MiB", mib}, {"GiB", gib}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}
	mult := 1.0
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a number or a byte size such as 64MiB", s)
	}
	return v * mult, nil
}

// LoadCustomProfileFile reads a custom profile from a YAML file.
func LoadCustomProfileFile(path string) (*Profile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("profile_file: %w", err)
	}
	p, err := ParseCustomProfile(data)
	if err != nil {
		return nil, fmt.Errorf("profile_file %s: %w", path, err)
	}
	return p, nil
}

// ParseCustomProfile parses and validates a custom profile. Unknown fields
// are errors, with their line.
func ParseCustomProfile(data []byte) (*Profile, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f customFile
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty profile: want a `processes:` list")
		}
		return nil, err
	}
	p := &Profile{Name: f.Name, Duration: f.Duration, Seed: f.Seed}
	if p.Name == "" {
		p.Name = ProfileCustom
	}
	if p.Seed == 0 {
		p.Seed = 1
	}
	for _, g := range f.Processes {
		p.Groups = append(p.Groups, Group{
			NameTemplate: g.NameTemplate,
			Executable:   g.Executable,
			Count:        g.Count,
			CPU:          g.CPU.pattern(),
			Memory:       g.Memory.pattern(),
			Lifetime:     g.Lifetime,
			ChurnRate:    g.ChurnRate,
			Owner:        g.Owner,
		})
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

func (c customPattern) pattern() Pattern {
	t := c.Pattern
	if t == "" {
		t = Steady
	}
	return Pattern{Type: t, Base: float64(c.Base), Amplitude: float64(c.Amplitude), Period: c.Period, SpikeProbability: c.SpikeProbability}
}
