package pipeline

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

// RolloutFlags are deploy's flags for how the new version reaches its
// hosts (opamp-server/rollout). Every deploy states its policy: one that
// gives none rolls out in stages with the defaults, so a one-off
// --rollout all-at-once does not stick to the versions after it.
type RolloutFlags struct {
	Strategy   string
	FirstBatch int
	Factor     int
	MaxBatch   int
	Soak       time.Duration
}

// Add defines the flags on cmd.
func (r *RolloutFlags) Add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&r.Strategy, "rollout", api.RolloutStaged, "how the new version reaches the hosts: staged (batches, paused on the first failure) or all-at-once")
	f.IntVar(&r.FirstBatch, "rollout-first-batch", 0, "hosts in the first batch (default 3)")
	f.IntVar(&r.Factor, "rollout-factor", 0, "each batch is this many times the one before (default 5)")
	f.IntVar(&r.MaxBatch, "rollout-max-batch", 0, "the largest batch (default 10% of the targeted hosts, at least 100)")
	f.DurationVar(&r.Soak, "rollout-soak", 0, "how long a batch stays applied and healthy before the next starts (default 30s)")
	_ = cmd.RegisterFlagCompletionFunc("rollout", cobra.FixedCompletions([]string{api.RolloutStaged, api.RolloutAllAtOnce}, cobra.ShellCompDirectiveNoFileComp))
}

// Policy is the request's rollout policy (nil: staged with the defaults).
func (r *RolloutFlags) Policy() (*api.RolloutPolicy, error) {
	switch r.Strategy {
	case api.RolloutStaged, "":
	case api.RolloutAllAtOnce:
	default:
		return nil, cmdutil.UsageError("--rollout %q: use staged or all-at-once", r.Strategy)
	}
	if r.FirstBatch < 0 || r.Factor < 0 || r.MaxBatch < 0 || r.Soak < 0 {
		return nil, cmdutil.UsageError("--rollout-first-batch, --rollout-factor, --rollout-max-batch and --rollout-soak must not be negative")
	}
	p := &api.RolloutPolicy{Strategy: r.Strategy, FirstBatch: r.FirstBatch, Factor: r.Factor, MaxBatch: r.MaxBatch}
	if r.Soak > 0 {
		p.Soak = r.Soak.String()
	}
	return p, nil
}
