package cardinalityprocessor

import (
	"github.com/axiomhq/hyperloglog"
)

// A distinctGroup counts distinct 64-bit hashes in several disjoint members
// (series per metric name, values per attribute key, ...) per window. The
// members share one exact budget: while the group holds at most `limit`
// hashes of the current window, every member counts exactly. The insert that
// would exceed the budget turns the whole group into HyperLogLog sketches
// (seeded with the window's hashes so far), so the figures are marked
// estimated until the window ends.
//
// The exact sets carry over from one window into the next: each hash sits in
// a slot stamped with the last window it was seen in, and only hashes stamped
// with the current window count. A window's reset drops the slots not seen in
// the window that ended and keeps the others (stamped with an old window,
// they do not count until they are seen again). So a series present window
// after window keeps its slot, and the processor can re-count it by slot
// (mark) without hashing it again; the counts stay exact per window. Memory:
// at most the hashes of two windows, each at most `limit` (plus one).
type distinctGroup struct {
	limit     int
	used      int // hashes counted in the current window
	estimated bool
	cur       uint64 // the current window's stamp (never 0: 0 marks a free slot)
	// total, when wanted, is one more precise sketch over all members: the
	// sum of member estimates would carry every member's error.
	wantTotal bool
	total     *hyperloglog.Sketch
	members   []*distinctMember
}

// slot is one hash of a member and the last window it was counted in.
type slot struct {
	hash  uint64
	stamp uint64
}

// distinctMember is one counted set of a group.
type distinctMember struct {
	group *distinctGroup
	// name and scope say what the member counts (a metric name, an attribute
	// key and where it sits); hash caches the hash of name.
	name  string
	scope string
	hash  uint64

	index map[uint64]int32 // hash -> slot
	slots []slot
	free  []int32
	n     int // distinct hashes of the current window (exact mode)

	sketch *hyperloglog.Sketch
	// window is the last window the member was used in; members idle for a
	// whole window are dropped at the next reset.
	window uint64
}

func newDistinctGroup(limit int, wantTotal bool) *distinctGroup {
	return &distinctGroup{limit: limit, wantTotal: wantTotal, cur: 1}
}

func (g *distinctGroup) newMember(name, scope string, window uint64) *distinctMember {
	m := &distinctMember{group: g, name: name, scope: scope, hash: hashString(name), index: make(map[uint64]int32), window: window}
	if g.estimated {
		m.sketch = hyperloglog.New14()
	}
	g.members = append(g.members, m)
	return m
}

// insert adds h and reports whether it may be new in this window: exactly
// while the group is exact, always true once it is estimated (a sketch
// cannot tell).
func (m *distinctMember) insert(h uint64) bool {
	_, isNew := m.insertSlot(h)
	return isNew
}

// insertSlot is insert that also returns h's slot, for mark in later
// windows; -1 when the group is (or just became) estimated.
func (m *distinctMember) insertSlot(h uint64) (int32, bool) {
	g := m.group
	if g.estimated {
		m.sketch.InsertHash(h)
		if g.total != nil {
			g.total.InsertHash(h)
		}
		return -1, true
	}
	i, ok := m.index[h]
	if ok {
		if m.slots[i].stamp == g.cur {
			return i, false
		}
		m.slots[i].stamp = g.cur
	} else {
		if n := len(m.free); n > 0 {
			i = m.free[n-1]
			m.free = m.free[:n-1]
			m.slots[i] = slot{hash: h, stamp: g.cur}
		} else {
			i = int32(len(m.slots))
			m.slots = append(m.slots, slot{hash: h, stamp: g.cur})
		}
		m.index[h] = i
	}
	m.n++
	if g.used++; g.used > g.limit {
		g.toSketches()
		return -1, true
	}
	return i, true
}

// mark counts the hash in slot i (from insertSlot in an earlier window, and
// kept by the resets since) in the current window, and reports whether it
// was new in it.
func (m *distinctMember) mark(i int32) bool {
	g := m.group
	m.window = g.cur
	sl := &m.slots[i]
	if g.estimated {
		m.sketch.InsertHash(sl.hash)
		if g.total != nil {
			g.total.InsertHash(sl.hash)
		}
		return true
	}
	if sl.stamp == g.cur {
		return false
	}
	sl.stamp = g.cur
	m.n++
	if g.used++; g.used > g.limit {
		g.toSketches()
	}
	return true
}

// toSketches moves every member's hashes of the current window into
// sketches. The slots stay (mark still finds its hashes) until the reset,
// which then drops them all: an estimated window carries nothing over.
func (g *distinctGroup) toSketches() {
	g.estimated = true
	if g.wantTotal {
		g.total = hyperloglog.New16()
	}
	for _, m := range g.members {
		m.sketch = hyperloglog.New14()
		for _, sl := range m.slots {
			if sl.stamp != g.cur {
				continue
			}
			m.sketch.InsertHash(sl.hash)
			if g.total != nil {
				g.total.InsertHash(sl.hash)
			}
		}
	}
}

// releaseSlots frees the slots of an estimated group (the sketches hold the
// window), so that an estimated window costs the sketches, not the sets too.
func (g *distinctGroup) releaseSlots() {
	for _, m := range g.members {
		if len(m.slots) > 0 {
			m.index = make(map[uint64]int32)
			m.slots, m.free = nil, nil
		}
	}
}

// count is the member's distinct count: exact, or a sketch estimate.
func (m *distinctMember) count() uint64 {
	if m.group.estimated {
		return m.sketch.Estimate()
	}
	return uint64(m.n)
}

// totalCount is the distinct count over all members.
func (g *distinctGroup) totalCount() uint64 {
	if !g.estimated {
		return uint64(g.used)
	}
	if g.total != nil {
		return g.total.Estimate()
	}
	var n uint64
	for _, m := range g.members {
		n += m.sketch.Estimate()
	}
	return n
}

// reset starts a new window. Members used in the window that just ended are
// kept with the slots seen in it (the carry; everything else is freed, and
// everything when the window was estimated, or carry is false); the other
// members are dropped and reported to drop so their owner can forget them.
func (g *distinctGroup) reset(endedWindow uint64, carry bool, drop func(*distinctMember)) {
	carry = carry && !g.estimated
	kept := g.members[:0]
	for _, m := range g.members {
		if m.window != endedWindow {
			if drop != nil {
				drop(m)
			}
			continue
		}
		if !carry {
			clear(m.index)
			m.slots, m.free = m.slots[:0], m.free[:0]
		} else {
			for i := range m.slots {
				sl := &m.slots[i]
				if sl.stamp != 0 && sl.stamp != endedWindow {
					delete(m.index, sl.hash)
					*sl = slot{}
					m.free = append(m.free, int32(i))
				}
			}
		}
		m.n = 0
		m.sketch = nil
		kept = append(kept, m)
	}
	clear(g.members[len(kept):])
	g.members = kept
	g.used = 0
	g.estimated = false
	g.total = nil
	g.cur = endedWindow + 1
}

// liveSlots is the number of hashes the member holds (this window's and the
// carried ones).
func (m *distinctMember) liveSlots() int { return len(m.index) }
