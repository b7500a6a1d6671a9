package adaptivefilterprocessor

import (
	"math"
	"testing"
	"time"
)

// The drop rules at their floors: a value equal to a floor is not under it,
// an age of 0 is known (just started), a negative age unknown.
func TestRulesAtTheirFloors(t *testing.T) {
	r := rules{cfg: DropRulesConfig{
		Idle:       IdleRuleConfig{Enabled: true, CPU: 0.01, Memory: 1000},
		ShortLived: ShortLivedRuleConfig{Enabled: true, MinAge: time.Minute, CPU: 0.5},
		Ephemeral:  EphemeralRuleConfig{Enabled: true, MinDigits: 6, MinHex: 12},
	}}
	old := time.Hour
	for _, c := range []struct {
		name      string
		cpu, mem  float64
		age       time.Duration
		ephemeral bool
		want      dropReason
	}{
		{"idle: both under", 0.009, 999, old, false, dropIdle},
		{"idle: cpu at the floor", 0.01, 999, old, false, keepNone},
		{"idle: memory at the floor", 0.009, 1000, old, false, keepNone},
		{"idle before short-lived", 0, 0, 0, true, dropIdle},
		{"short-lived: young and quiet", 0.1, 5000, time.Minute - 1, false, dropShortLived},
		{"short-lived: age 0 is young", 0.1, 5000, 0, false, dropShortLived},
		{"short-lived: age at min_age", 0.1, 5000, time.Minute, false, keepNone},
		{"short-lived: age unknown", 0.1, 5000, -1, false, keepNone},
		{"short-lived: cpu at the floor", 0.5, 5000, 0, false, keepNone},
		{"ephemeral", 1, 5000, old, true, dropEphemeral},
		{"short-lived before ephemeral", 0.1, 5000, 0, true, dropShortLived},
		{"nothing", 1, 5000, old, false, keepNone},
	} {
		if got := r.apply(c.cpu, c.mem, c.age, c.ephemeral); got != c.want {
			t.Errorf("%s: apply(%v, %v, %v, %v) = %q, want %q", c.name, c.cpu, c.mem, c.age, c.ephemeral,
				dropReasonNames[got], dropReasonNames[c.want])
		}
	}
	// Disabled rules drop nothing.
	off := rules{}
	if got := off.apply(0, 0, 0, true); got != keepNone {
		t.Errorf("disabled rules: %q", dropReasonNames[got])
	}
}

// ephemeralName at the edges of its character classes and run lengths:
// '0' and '9' are digits, '/' and ':' are not; a-f and A-F are hex
// letters, '`', 'g', '@' and 'G' are not; a run of exactly min counts.
func TestEphemeralNameEdges(t *testing.T) {
	for _, c := range []struct {
		name              string
		minDigits, minHex int
		want              bool
	}{
		{"x000", 3, 64, true},
		{"x999", 3, 64, true},
		{"x12", 3, 64, false},
		{"1/2/3/4", 3, 64, false},
		{"1:2:3:4", 3, 64, false},
		{"12a34", 3, 64, false}, // a letter ends the digit run
		{"a1a1a1", 64, 6, true},
		{"f1f1f1", 64, 6, true},
		{"A1A1A1", 64, 6, true},
		{"F1F1F1", 64, 6, true},
		{"a1a1a", 64, 6, false},
		{"`1`1`1`1`1`1", 64, 6, false},
		{"g1g1g1g1g1g1", 64, 6, false},
		{"@1@1@1@1@1@1", 64, 6, false},
		{"G1G1G1G1G1G1", 64, 6, false},
		{"abcdef", 64, 6, false},         // no digit
		{"123456", 64, 6, false},         // no letter
		{"1-abcdef", 64, 6, false},       // the digit is in an earlier run
		{"abc-def123", 64, 6, true},      // def123
		{"1z2z3zabcdef", 64, 6, false},   // z resets the run
		{"abcde12345fz", 64, 10, true},   // exactly 10
		{"abcde1234-5fz", 64, 10, false}, // 9 then 2
	} {
		if got := ephemeralName(c.name, c.minDigits, c.minHex); got != c.want {
			t.Errorf("ephemeralName(%q, %d, %d) = %v, want %v", c.name, c.minDigits, c.minHex, got, c.want)
		}
	}
}

// The plant keeps a candidate whose pass equals the multiplier, sorts
// unsorted candidates before solving, counts a candidate that exactly fills
// the room, and steps back from a tie at the cut.
func TestPlantEdges(t *testing.T) {
	pl := plant{fixed: 1, cands: []candidate{{pass: 2, weight: 1, idx: 0}, {pass: 3, weight: 1, idx: 1}}}
	if got := pl.outputAt(2); got != 3 {
		t.Errorf("outputAt(2) = %v, want 3 (pass 2 passes multiplier 2)", got)
	}
	if got := pl.outputAt(2.5); got != 2 {
		t.Errorf("outputAt(2.5) = %v, want 2", got)
	}

	// Unsorted: the solver sorts by pass, highest first.
	pl = plant{cands: []candidate{{pass: 1, weight: 1, idx: 0}, {pass: 9, weight: 1, idx: 1}, {pass: 4, weight: 1, idx: 2}}}
	if m := pl.solve(1); m != 6 { // sqrt(9*4)
		t.Errorf("solve(1) over unsorted passes = %v, want sqrt(9*4) = 6", m)
	}
	if m := pl.solve(2); m != 2 { // sqrt(4*1)
		t.Errorf("solve(2) = %v, want sqrt(4*1) = 2", m)
	}

	// A weight equal to the room fits.
	pl = plant{fixed: 2, cands: []candidate{{pass: 8, weight: 3}, {pass: 2, weight: 1, idx: 1}}}
	if m := pl.solve(5); m != 4 { // 8 fits exactly: sqrt(8*2)
		t.Errorf("solve(5) = %v, want sqrt(8*2) = 4 (room 3, weight 3 fits)", m)
	}
	// Nothing fits: just above the top pass.
	if m := pl.solve(4); m != 8*1.05 {
		t.Errorf("solve(4) = %v, want 8*1.05", m)
	}
	// Everything fits: half the lowest positive pass, skipping zero passes.
	pl = plant{cands: []candidate{{pass: 6, weight: 1}, {pass: 0, weight: 1, idx: 1}, {pass: 0, weight: 1, idx: 2}}}
	if m := pl.solve(10); m != 3 {
		t.Errorf("solve(10) = %v, want 6/2", m)
	}
	// The cut falls on a zero pass: sit below the lowest positive one.
	if m := pl.solve(2); m != 3 {
		t.Errorf("solve(2) = %v, want 6/2 (the zero passes cannot be split off)", m)
	}
	// A tie at the cut: both in or both out.
	pl = plant{cands: []candidate{{pass: 5, weight: 1}, {pass: 5, weight: 1, idx: 1}, {pass: 1, weight: 1, idx: 2}}}
	if m := pl.solve(1); m != 5*1.05 {
		t.Errorf("solve(1) with the top two tied = %v, want 5*1.05 (neither)", m)
	}
	if m := pl.solve(2); m != math.Sqrt(5) {
		t.Errorf("solve(2) = %v, want sqrt(5*1)", m)
	}
}

// fixedSolver is a plant model that always answers m.
func fixedSolver(m float64) solver { return func(float64) float64 { return m } }

// One controller step at a time, with a plant model that gives the
// multiplier it is asked for: each move is bounded by max_step (up) and
// 1/max_step (down), a model that asks for no move saturates, a tightening
// restarts the count of low intervals, and direction changes are counted.
func TestControllerSteps(t *testing.T) {
	cfg := testControllerConfig() // max_step 4, relax_after 3, multipliers 0.001..1000
	c := newController(cfg)
	const budget, over, under = 100.0, 150.0, 10.0

	c.step(over, budget, fixedSolver(3))
	if c.m != 3 || c.state != stateTightening {
		t.Fatalf("tighten to 3: m %v, state %v", c.m, c.state)
	}
	c.step(over, budget, fixedSolver(100))
	if c.m != 12 { // 3 x max_step 4
		t.Fatalf("tighten towards 100: m %v, want 12 (one max_step)", c.m)
	}
	c.step(over, budget, fixedSolver(12))
	if c.m != 12 || c.state != stateSaturatedHigh {
		t.Fatalf("a model asking for the same multiplier: m %v, state %v, want 12, saturated_high", c.m, c.state)
	}
	c.step(over, budget, fixedSolver(math.NaN()))
	if c.m != 12 || c.state != stateSaturatedHigh {
		t.Fatalf("a NaN from the model: m %v, state %v, want it held", c.m, c.state)
	}

	// Two low intervals, then a high one: the low count starts again.
	c.step(under, budget, fixedSolver(1))
	c.step(under, budget, fixedSolver(1))
	c.step(over, budget, fixedSolver(12))
	c.step(under, budget, fixedSolver(1))
	c.step(under, budget, fixedSolver(1))
	if c.m != 12 || c.state != stateRelaxing {
		t.Fatalf("two low intervals after a high one: m %v, state %v, want 12, relaxing (waiting)", c.m, c.state)
	}
	if c.reversals != 0 {
		t.Fatalf("reversals %d after moving up only", c.reversals)
	}
	c.step(under, budget, fixedSolver(1))
	if c.m != 3 { // 12 / max_step 4
		t.Fatalf("relax towards 1: m %v, want 3 (one max_step down)", c.m)
	}
	if c.reversals != 1 {
		t.Fatalf("reversals %d, want 1 (up, then down)", c.reversals)
	}
	c.step(under, budget, fixedSolver(2))
	if c.m != 2 || c.reversals != 1 {
		t.Fatalf("relax to 2: m %v, reversals %d, want 2, 1", c.m, c.reversals)
	}
	c.step(under, budget, fixedSolver(2))
	if c.m != 2 || c.state != stateSaturatedLow {
		t.Fatalf("a model asking for no lower multiplier: m %v, state %v, want 2, saturated_low", c.m, c.state)
	}
	c.step(over, budget, fixedSolver(4))
	if c.m != 4 || c.reversals != 2 {
		t.Fatalf("up again: m %v, reversals %d, want 4, 2", c.m, c.reversals)
	}
}

// Without a plant model the controller assumes unit elasticity: m x
// output / set point.
func TestControllerUnitElasticity(t *testing.T) {
	c := newController(testControllerConfig())
	sp := c.setPoint(100)
	c.step(2*sp, 100, nil)
	if math.Abs(c.m-2) > 1e-12 {
		t.Fatalf("output twice the set point: m %v, want 2", c.m)
	}
}
