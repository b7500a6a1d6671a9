package rollout

import (
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/api"
	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// Defaults of a rollout policy (documented in opamp-server/docs/api.md).
const (
	DefaultFirstBatch = 3
	DefaultFactor     = 5
	DefaultSoak       = 30 * time.Second
	// DefaultMaxBatchPercent and DefaultMinMaxBatch make the cap of a batch
	// 10% of the targeted hosts, but never under 100: at 10,000 hosts the
	// plan is 3, 15, 75, 375, then 1,000 at a time (14 batches), at 500 it
	// is 3, 15, 75, then 100 at a time.
	DefaultMaxBatchPercent = 10
	DefaultMinMaxBatch     = 100
)

// Policy is a rollout policy with its defaults filled in (MaxBatch 0 still
// means "10% of the targeted hosts, at least 100").
type Policy struct {
	Strategy   string
	FirstBatch int
	Factor     int
	MaxBatch   int
	Soak       time.Duration
}

// Resolve fills in a policy's defaults (p may be nil). The policy must have
// passed deployment.ValidateRolloutPolicy.
func Resolve(p *store.RolloutPolicy) Policy {
	out := Policy{Strategy: api.RolloutStaged, FirstBatch: DefaultFirstBatch, Factor: DefaultFactor, Soak: DefaultSoak}
	if p == nil {
		return out
	}
	if p.Strategy != "" {
		out.Strategy = p.Strategy
	}
	if p.FirstBatch > 0 {
		out.FirstBatch = p.FirstBatch
	}
	if p.Factor > 0 {
		out.Factor = p.Factor
	}
	out.MaxBatch = p.MaxBatch
	if d, err := time.ParseDuration(p.Soak); err == nil && p.Soak != "" {
		out.Soak = d
	}
	return out
}

// View is the policy as the API shows it.
func (p Policy) View() api.RolloutPolicy {
	return api.RolloutPolicy{Strategy: p.Strategy, FirstBatch: p.FirstBatch, Factor: p.Factor, MaxBatch: p.MaxBatch, Soak: p.Soak.String()}
}

// Cap is the largest batch for a rollout to total hosts.
func (p Policy) Cap(total int) int {
	if p.MaxBatch > 0 {
		return p.MaxBatch
	}
	c := (total*DefaultMaxBatchPercent + 99) / 100
	return max(c, DefaultMinMaxBatch)
}

// BatchSize is the size of batch k (0-based) of a rollout to total hosts,
// before it is cut to the hosts that remain: FirstBatch × Factor^k, capped.
func (p Policy) BatchSize(k, total int) int {
	c := p.Cap(total)
	n := p.FirstBatch
	for range k {
		if n >= c {
			break
		}
		n *= p.Factor
	}
	return max(1, min(n, c))
}

// Plan is the batch sizes of a rollout to total hosts.
func (p Policy) Plan(total int) []int {
	var out []int
	for left, k := total, 0; left > 0; k++ {
		n := min(p.BatchSize(k, total), left)
		out = append(out, n)
		left -= n
	}
	return out
}
