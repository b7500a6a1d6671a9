package adaptivefilterprocessor

import "math"

// ctrlState is what the controller did in its last interval.
type ctrlState int

const (
	// stateHolding: the output sits inside the dead band; the multiplier holds.
	stateHolding ctrlState = iota
	// stateTightening: the output is above the band; the multiplier rises.
	stateTightening
	// stateRelaxing: the output has been below the band for
	// relax_after_intervals; the multiplier falls (or waits to).
	stateRelaxing
	// stateSaturatedHigh: over the band at max_multiplier (critical or
	// retained processes alone fill the budget, or max_multiplier is too low).
	stateSaturatedHigh
	// stateSaturatedLow: under the band at min_multiplier: every eligible
	// process is kept and the budget is not the constraint.
	stateSaturatedLow
)

var ctrlStateNames = [...]string{"holding", "tightening", "relaxing", "saturated_high", "saturated_low"}

func (s ctrlState) String() string { return ctrlStateNames[s] }

// solver returns the multiplier at which this interval's population would
// produce an output of at most target (ideally the smallest such one, with
// some margin from the nearest process). It is the plant model: the processor
// computes it from the scores it holds, tests from synthetic populations.
type solver func(target float64) float64

// controller moves the threshold multiplier m so that the output (processes
// or series kept) sits in a dead band whose top edge is the budget:
//
//	set point  s = budget / (1 + dead_band)
//	band       [s·(1−dead_band), s·(1+dead_band)] = [~0.82·budget, budget] at ±10%
//	inside the band      m holds
//	above the band       m ← min(m·min(m*/m, max_step), max)          at once
//	below the band       m ← max(m·max(m*/m, 1/max_step), min)        after relax_after_intervals in a row
//
// where m* is the multiplier that puts the output on the set point: from the
// solver when given, else m·(output/s) (unit elasticity). Moving only outside
// the band, aiming at its centre and relaxing only on persistent evidence is
// what stops oscillation; the bounded step stops one odd interval from
// swinging the output.
type controller struct {
	cfg   ControllerConfig
	m     float64
	state ctrlState

	// lastDir is the sign of the last non-zero move; reversals counts how
	// often the direction flipped (reported, and what the tests bound).
	lastDir   int
	reversals int64
	// below counts consecutive intervals under the band.
	below int
}

func newController(cfg ControllerConfig) *controller {
	return &controller{cfg: cfg, m: cfg.InitialMultiplier, state: stateHolding}
}

// setPoint is the centre of the band for a budget.
func (c *controller) setPoint(budget float64) float64 {
	return budget / (1 + c.cfg.DeadBand)
}

// step runs one interval: output is what the current multiplier produced,
// budget the effective budget (already divided by the load multiplier). It
// returns the multiplier for the next interval.
func (c *controller) step(output, budget float64, solve solver) float64 {
	sp := c.setPoint(budget)
	lo, hi := sp*(1-c.cfg.DeadBand), sp*(1+c.cfg.DeadBand)
	// A tiny relative slack so that floating rounding does not count
	// output == budget as over.
	hi *= 1 + 1e-12
	switch {
	case output > hi:
		if c.m >= c.cfg.MaxMultiplier {
			c.state = stateSaturatedHigh
			return c.m
		}
		c.state = stateTightening
	case output < lo:
		if c.m <= c.cfg.MinMultiplier {
			c.state = stateSaturatedLow
			return c.m
		}
		c.state = stateRelaxing
		if c.below++; c.below < c.cfg.RelaxAfter {
			return c.m
		}
	default:
		c.state = stateHolding
		c.below = 0
		return c.m
	}
	if c.state == stateTightening {
		c.below = 0
	}

	var want float64
	switch {
	case solve != nil:
		want = solve(sp)
	case output <= 0:
		want = 0
	default:
		want = c.m * output / sp
	}
	if math.IsNaN(want) {
		want = c.m
	}
	dir := 1
	if c.state == stateTightening {
		if want <= c.m {
			// Nothing a higher multiplier would drop: critical and
			// retained processes alone fill the budget.
			c.state = stateSaturatedHigh
			return c.m
		}
		c.m = math.Min(c.m*math.Min(want/c.m, c.cfg.MaxStep), c.cfg.MaxMultiplier)
	} else {
		if want >= c.m {
			// Every eligible process is already kept.
			c.state = stateSaturatedLow
			return c.m
		}
		dir = -1
		c.m = math.Max(c.m*math.Max(want/c.m, 1/c.cfg.MaxStep), c.cfg.MinMultiplier)
	}
	if c.lastDir != 0 && dir != c.lastDir {
		c.reversals++
	}
	c.lastDir = dir
	return c.m
}

// loadMultiplier maps a host load (0..1, fraction of all cores busy) to the
// factor the budget is divided by: 1 up to low, rising linearly to max at
// high, max above. Under high load, keep less.
func loadMultiplier(load float64, h HostLoadConfig) float64 {
	if !h.Enabled || math.IsNaN(load) || load <= h.Low {
		return 1
	}
	if load >= h.High {
		return h.MaxMultiplier
	}
	return 1 + (h.MaxMultiplier-1)*(load-h.Low)/(h.High-h.Low)
}
