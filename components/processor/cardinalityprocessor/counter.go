package cardinalityprocessor

import (
	"github.com/axiomhq/hyperloglog"
)

// A distinctGroup counts distinct 64-bit hashes in several disjoint members
// (series per metric name, values per attribute key, ...). The members share
// one exact budget: while the group holds at most `limit` hashes in total,
// every member keeps a hash set and counts exactly. The insert that would
// exceed the budget turns the whole group into HyperLogLog sketches (seeded
// with the hashes seen so far), so memory stays bounded by the limit plus one
// sketch per member, and the figures are marked estimated until the window
// ends.
type distinctGroup struct {
	limit     int
	used      int
	estimated bool
	// total, when wanted, is one more precise sketch over all members: the
	// sum of member estimates would carry every member's error.
	wantTotal bool
	total     *hyperloglog.Sketch
	members   []*distinctMember
}

// distinctMember is one counted set of a group.
type distinctMember struct {
	group *distinctGroup
	// name and scope say what the member counts (a metric name, an attribute
	// key and where it sits); hash caches the hash of name.
	name  string
	scope string
	hash  uint64

	exact  map[uint64]struct{}
	sketch *hyperloglog.Sketch
	// window is the last window the member was used in; members idle for a
	// whole window are dropped at the next reset.
	window uint64
}

func newDistinctGroup(limit int, wantTotal bool) *distinctGroup {
	return &distinctGroup{limit: limit, wantTotal: wantTotal}
}

func (g *distinctGroup) newMember(name, scope string, window uint64) *distinctMember {
	m := &distinctMember{group: g, name: name, scope: scope, hash: hashString(name), exact: make(map[uint64]struct{}), window: window}
	if g.estimated {
		m.sketch = hyperloglog.New14()
	}
	g.members = append(g.members, m)
	return m
}

// insert adds h and reports whether it may be new: exactly while the group is
// exact, always true once it is estimated (a sketch cannot tell).
func (m *distinctMember) insert(h uint64) bool {
	g := m.group
	if g.estimated {
		m.sketch.InsertHash(h)
		if g.total != nil {
			g.total.InsertHash(h)
		}
		return true
	}
	if _, ok := m.exact[h]; ok {
		return false
	}
	m.exact[h] = struct{}{}
	g.used++
	if g.used > g.limit {
		g.toSketches()
	}
	return true
}

// toSketches moves every member's hashes into sketches and empties the sets
// (keeping their storage for the next window).
func (g *distinctGroup) toSketches() {
	g.estimated = true
	if g.wantTotal {
		g.total = hyperloglog.New16()
	}
	for _, m := range g.members {
		m.sketch = hyperloglog.New14()
		for h := range m.exact {
			m.sketch.InsertHash(h)
			if g.total != nil {
				g.total.InsertHash(h)
			}
		}
		clear(m.exact)
	}
}

// count is the member's distinct count: exact, or a sketch estimate.
func (m *distinctMember) count() uint64 {
	if m.group.estimated {
		return m.sketch.Estimate()
	}
	return uint64(len(m.exact))
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

// reset starts a new window: members used in the window that just ended are
// emptied and kept (with their storage), the others are dropped and reported
// to drop so their owner can forget them.
func (g *distinctGroup) reset(endedWindow uint64, drop func(*distinctMember)) {
	kept := g.members[:0]
	for _, m := range g.members {
		if m.window != endedWindow {
			if drop != nil {
				drop(m)
			}
			continue
		}
		clear(m.exact)
		m.sketch = nil
		kept = append(kept, m)
	}
	clear(g.members[len(kept):])
	g.members = kept
	g.used = 0
	g.estimated = false
	g.total = nil
}
