package adaptivefilterprocessor

import (
	"cmp"
	"math"
	"slices"
)

// candidate is a process the multiplier decides on: it is kept at multiplier
// m when pass >= m. weight is what it costs against the budget (1 process, or
// its series).
type candidate struct {
	pass   float64
	weight float64
	idx    int32 // index into the processor's per-batch process list
}

// plant is one interval's population as the controller sees it: fixed is
// the weight kept whatever the multiplier (critical and retained processes),
// cands the rest.
type plant struct {
	fixed  float64
	cands  []candidate
	sorted bool
}

func (p *plant) reset() {
	p.fixed = 0
	p.cands = p.cands[:0]
	p.sorted = false
}

// outputAt is the output the keep rule produces at multiplier m.
func (p *plant) outputAt(m float64) float64 {
	out := p.fixed
	for _, c := range p.cands {
		if c.pass >= m {
			out += c.weight
		}
	}
	return out
}

// sortDesc orders the candidates by pass, highest first (ties by index, so
// the order is deterministic).
func (p *plant) sortDesc() {
	if p.sorted {
		return
	}
	slices.SortFunc(p.cands, func(a, b candidate) int {
		if c := cmp.Compare(b.pass, a.pass); c != 0 {
			return c
		}
		return cmp.Compare(a.idx, b.idx)
	})
	p.sorted = true
}

// solve returns a multiplier whose output is at most target, keeping as much
// as fits: the geometric middle between the last candidate that fits and the
// first that does not, so that a small drift of either score does not flip
// it. When everything fits it returns half the lowest positive pass (keep
// all); when nothing fits, just above the highest pass.
func (p *plant) solve(target float64) float64 {
	p.sortDesc()
	room := target - p.fixed
	n := len(p.cands)
	k := 0
	for k < n && p.cands[k].weight <= room {
		room -= p.cands[k].weight
		k++
	}
	// A tie cannot be split by a threshold: back off to a distinct pass.
	for k > 0 && k < n && p.cands[k].pass == p.cands[k-1].pass {
		k--
	}
	switch {
	case n == 0:
		return 0
	case k == 0:
		if top := p.cands[0].pass; top > 0 {
			return top * 1.05
		}
		return math.SmallestNonzeroFloat64
	case k == n || p.cands[k].pass <= 0:
		// Everything with a positive pass fits: sit below the lowest one.
		j := k - 1
		for j >= 0 && p.cands[j].pass <= 0 {
			j--
		}
		if j < 0 {
			return 0
		}
		return p.cands[j].pass / 2
	default:
		return math.Sqrt(p.cands[k-1].pass * p.cands[k].pass)
	}
}
