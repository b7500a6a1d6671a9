package deployment

import (
	"context"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/domainerr"
	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// Bounds of a rollout policy (the defaults are in opamp-server/rollout).
const (
	MaxRolloutBatch  = 1_000_000
	MaxRolloutFactor = 100
	MaxRolloutSoak   = 24 * time.Hour
)

// ValidateRolloutPolicy checks the rollout part of a spec (nil: defaults).
func ValidateRolloutPolicy(p *store.RolloutPolicy) error {
	if p == nil {
		return nil
	}
	switch p.Strategy {
	case "", "staged", "all-at-once":
	default:
		return domainerr.Invalidf("rollout.strategy", "rollout strategy %q: use staged (the default) or all-at-once", p.Strategy)
	}
	if p.FirstBatch < 0 || p.FirstBatch > MaxRolloutBatch {
		return domainerr.Invalidf("rollout.first_batch", "first_batch %d: want 1 to %d hosts (0: the default, 3)", p.FirstBatch, MaxRolloutBatch)
	}
	if p.Factor < 0 || p.Factor > MaxRolloutFactor {
		return domainerr.Invalidf("rollout.factor", "factor %d: want 1 to %d (0: the default, 5)", p.Factor, MaxRolloutFactor)
	}
	if p.MaxBatch < 0 || p.MaxBatch > MaxRolloutBatch {
		return domainerr.Invalidf("rollout.max_batch", "max_batch %d: want 1 to %d hosts (0: the default, 10%% of the targeted hosts, at least 100)", p.MaxBatch, MaxRolloutBatch)
	}
	if p.MaxBatch > 0 && p.FirstBatch > p.MaxBatch {
		return domainerr.Invalidf("rollout.max_batch", "max_batch %d is smaller than first_batch %d", p.MaxBatch, p.FirstBatch)
	}
	if p.Soak != "" {
		d, err := time.ParseDuration(p.Soak)
		if err != nil || d < 0 || d > MaxRolloutSoak {
			return domainerr.Invalidf("rollout.soak", "soak %q: want a Go duration from 0s to %s, such as 30s or 5m", p.Soak, MaxRolloutSoak)
		}
	}
	return nil
}

// SetAfterWrite sets what runs after each deployment write of this
// replica, once its cache is current (the rollout manager records the new
// version's rollout before the write returns).
func (s *Service) SetAfterWrite(f func(ctx context.Context)) {
	s.layerMu.Lock()
	s.onWrite = f
	s.layerMu.Unlock()
}

func (s *Service) afterWriteHook(ctx context.Context) {
	s.layerMu.RLock()
	f := s.onWrite
	s.layerMu.RUnlock()
	if f != nil {
		f(ctx)
	}
}
