package loadgenreceiver

import (
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/scraper/scraperhelper"

	"github.com/phoenix-otel/phoenix/loadgen"
)

// Config of the loadgen receiver. collection_interval, initial_delay and
// timeout come from the upstream scraper controller.
type Config struct {
	scraperhelper.ControllerConfig `mapstructure:",squash"`

	// Profile is realistic, high-cardinality, process-churn or custom.
	Profile string `mapstructure:"profile"`
	// ProfileFile is the path of a custom profile's YAML.
	ProfileFile string `mapstructure:"profile_file"`
	// ProfileYAML is a custom profile inline, for configs pushed to hosts
	// that have no profile file.
	ProfileYAML string `mapstructure:"profile_yaml"`
	// ProcessCount, ChurnRate and Duration override the profile's.
	loadgen.Overrides `mapstructure:",squash"`
	// Seed makes runs repeatable: the same seed gives the same processes.
	Seed int64 `mapstructure:"seed"`
	// HostName, when set, adds host.name to every resource, as the
	// resourcedetection processor would on a real host.
	HostName string `mapstructure:"host_name"`
	// Step is the simulated time one scrape advances the load by, and the
	// spacing of the emitted timestamps (logical time, starting at the
	// receiver's start). 0, the default, is the collection interval: the
	// load runs in real time. A step longer than the interval compresses
	// time (step 10s at a 1s interval plays an hour of 10 s scrapes in six
	// minutes), which is how churn over long windows is measured; the
	// processors downstream read only the data's timestamps and the
	// batches' order, so they see the hour.
	Step time.Duration `mapstructure:"step"`
}

// Spec is the load profile this config asks for.
func (c *Config) Spec() loadgen.Spec {
	return loadgen.Spec{Profile: c.Profile, ProfileFile: c.ProfileFile, ProfileYAML: c.ProfileYAML, Overrides: c.Overrides, Seed: c.Seed}
}

// Validate checks the scraper settings and resolves the profile, so that a
// bad profile, file or override is reported by `validate` with its field.
func (c *Config) Validate() error {
	if c.CollectionInterval <= 0 {
		return fmt.Errorf("collection_interval: must be > 0, got %s", c.CollectionInterval)
	}
	if c.Step < 0 {
		return fmt.Errorf("step: must be >= 0 (0 is the collection interval), got %s", c.Step)
	}
	if c.Seed < 0 {
		return errors.New("seed: must be >= 0")
	}
	if _, err := loadgen.Resolve(c.Spec()); err != nil {
		return err
	}
	return nil
}
