package processmetrics

import (
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// Smoothing selects how a process's per-interval CPU rate and memory are
// smoothed into its scores.
type Smoothing string

const (
	// SmoothingEWMA is an exponentially weighted moving average with
	// alpha = 2/(window+1) (the usual "N-interval EWMA").
	SmoothingEWMA Smoothing = "ewma"
	// SmoothingMax is the maximum over the last window observations: a busy
	// process is ranked by its recent peak and leaves only after window
	// quiet intervals.
	SmoothingMax Smoothing = "max"
	// SmoothingNone uses the last observation.
	SmoothingNone Smoothing = "none"
)

// TrackerConfig configures a [Tracker].
type TrackerConfig struct {
	// Smoothing is ewma (default), max or none.
	Smoothing Smoothing
	// Window is the smoothing window in intervals (>= 1).
	Window int
	// PruneAfter drops a process's state once it has been absent for this
	// many consecutive intervals (>= 1).
	PruneAfter int
	// MaxTracked caps the number of tracked processes (>= 1). Past the cap
	// new processes are refused (Observe returns nil) and counted.
	MaxTracked int
}

// Validate reports the first invalid field, naming it as configured in YAML.
func (c TrackerConfig) Validate() error {
	var errs []error
	switch c.Smoothing {
	case "", SmoothingEWMA, SmoothingMax, SmoothingNone:
	default:
		errs = append(errs, fmt.Errorf("smoothing: unknown %q (want ewma, max or none)", c.Smoothing))
	}
	if c.Window < 1 {
		errs = append(errs, fmt.Errorf("window: must be at least 1 interval, got %d", c.Window))
	}
	if c.PruneAfter < 1 {
		errs = append(errs, fmt.Errorf("prune_after: must be at least 1 interval, got %d", c.PruneAfter))
	}
	if c.MaxTracked < 1 {
		errs = append(errs, fmt.Errorf("max_tracked_processes: must be at least 1, got %d", c.MaxTracked))
	}
	return errors.Join(errs...)
}

// Entry is the state of one tracked process. Pointers to entries stay valid
// until the entry is pruned. Ext is the caller's own per-process state. When
// a pruned slot is reused, Ext keeps its old value so that its allocations
// (slices, maps) can be reused: reset it when Observe reports isNew.
type Entry[E any] struct {
	ID Identity
	// FirstSeen and LastSeen are interval numbers (see Tracker.Interval).
	FirstSeen, LastSeen uint64
	// Observations counts the intervals the process was seen in.
	Observations int

	// CPURate is the last measured CPU rate in cores (CPU seconds per
	// second), or the utilisation fraction when only process.cpu.utilization
	// is available. HasCPURate is false until a rate could be measured.
	CPURate    float64
	HasCPURate bool
	// Memory is the last process.memory.usage in bytes.
	Memory    float64
	HasMemory bool

	// CPUScore and MemoryScore are the smoothed CPURate and Memory.
	CPUScore, MemoryScore float64

	Ext E

	slot      int32
	live      bool
	cpuObs    int
	memObs    int
	haveCPU   bool
	lastCPU   float64
	lastCPUTS pcommon.Timestamp
	lastStart pcommon.Timestamp
}

const pageBits = 8
const pageSize = 1 << pageBits

type page[E any] struct {
	entries [pageSize]Entry[E]
	// ring holds, for SmoothingMax, window CPU values then window memory
	// values per slot.
	ring []float64
}

// Tracker keeps per-identity process state across intervals (batches).
// It is not safe for concurrent use; callers serialise batches.
type Tracker[E any] struct {
	cfg   TrackerConfig
	alpha float64

	index    map[Identity]int32
	pages    []*page[E]
	free     []int32
	used     int32 // slots ever handed out
	interval uint64

	refusedNow   int
	refusedTotal uint64
}

// NewTracker returns a tracker; cfg is validated.
func NewTracker[E any](cfg TrackerConfig) (*Tracker[E], error) {
	if cfg.Smoothing == "" {
		cfg.Smoothing = SmoothingEWMA
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Tracker[E]{
		cfg:   cfg,
		alpha: 2 / (float64(cfg.Window) + 1),
		index: make(map[Identity]int32, min(cfg.MaxTracked, 4096)),
	}, nil
}

// Config returns the effective configuration.
func (t *Tracker[E]) Config() TrackerConfig { return t.cfg }

// Begin starts a new interval (call once per batch, before Observe).
func (t *Tracker[E]) Begin() {
	t.interval++
	t.refusedNow = 0
}

// Interval is the current interval number (1 after the first Begin).
func (t *Tracker[E]) Interval() uint64 { return t.interval }

// Len is the number of tracked processes.
func (t *Tracker[E]) Len() int { return len(t.index) }

// Refused is the number of new processes refused in the current interval
// because the tracker was at MaxTracked; RefusedTotal since creation.
func (t *Tracker[E]) Refused() int         { return t.refusedNow }
func (t *Tracker[E]) RefusedTotal() uint64 { return t.refusedTotal }

// Get returns the entry of id, or nil.
func (t *Tracker[E]) Get(id Identity) *Entry[E] {
	slot, ok := t.index[id]
	if !ok {
		return nil
	}
	return t.entry(slot)
}

func (t *Tracker[E]) entry(slot int32) *Entry[E] {
	return &t.pages[slot>>pageBits].entries[slot&(pageSize-1)]
}

// Seen reports whether e was observed in the current interval.
func (t *Tracker[E]) Seen(e *Entry[E]) bool { return e.LastSeen == t.interval }

// Observe records one sample of process id in the current interval and
// returns its entry. isNew is true when the entry was created by this call
// (the caller then initialises Ext). It returns nil when id is new and the
// tracker is full; the refusal is counted.
func (t *Tracker[E]) Observe(id Identity, s *Sample) (e *Entry[E], isNew bool) {
	slot, ok := t.index[id]
	if ok {
		e = t.entry(slot)
	} else {
		if len(t.index) >= t.cfg.MaxTracked {
			t.refusedNow++
			t.refusedTotal++
			return nil, false
		}
		slot = t.alloc()
		t.index[id] = slot
		e = t.entry(slot)
		ext := e.Ext
		*e = Entry[E]{ID: id, FirstSeen: t.interval, slot: slot, live: true, Ext: ext}
		isNew = true
	}
	if e.LastSeen != t.interval {
		e.Observations++
	}
	e.LastSeen = t.interval
	t.update(e, s)
	return e, isNew
}

func (t *Tracker[E]) alloc() int32 {
	if n := len(t.free); n > 0 {
		slot := t.free[n-1]
		t.free = t.free[:n-1]
		return slot
	}
	slot := t.used
	t.used++
	if int(slot>>pageBits) >= len(t.pages) {
		p := &page[E]{}
		if t.cfg.Smoothing == SmoothingMax {
			p.ring = make([]float64, pageSize*2*t.cfg.Window)
		}
		t.pages = append(t.pages, p)
	}
	return slot
}

// update measures the CPU rate and memory of one sample and smooths them.
func (t *Tracker[E]) update(e *Entry[E], s *Sample) {
	rate, ok := t.cpuRate(e, s)
	if !ok && s.HasCPUUtilization && !s.HasCPUTime {
		rate, ok = s.CPUUtilization, true
	}
	if ok {
		e.CPURate, e.HasCPURate = rate, true
		e.CPUScore = t.smooth(e, 0, e.cpuObs, e.CPUScore, rate)
		e.cpuObs++
	}
	if s.HasMemory {
		e.Memory, e.HasMemory = s.Memory, true
		e.MemoryScore = t.smooth(e, 1, e.memObs, e.MemoryScore, s.Memory)
		e.memObs++
	}
}

// cpuRate derives CPU seconds per second from process.cpu.time. Cumulative:
// the increase over the time since the previous sample; on the first sample
// or after a reset (value went down or the start time changed), the average
// since the start time when it is known, else no rate. Delta: the value over
// its own interval.
func (t *Tracker[E]) cpuRate(e *Entry[E], s *Sample) (float64, bool) {
	if !s.HasCPUTime || s.Timestamp == 0 {
		return 0, false
	}
	ts := s.Timestamp
	if e.haveCPU && ts <= e.lastCPUTS {
		return 0, false // duplicate or out-of-order sample: keep the last rate
	}
	var rate float64
	ok := false
	switch s.CPUTemporal {
	case TemporalityDelta:
		start := s.CPUStart
		if start == 0 && e.haveCPU {
			start = e.lastCPUTS
		}
		if start != 0 && ts > start {
			rate, ok = s.CPUTime/seconds(ts-start), true
		}
	default:
		reset := !e.haveCPU || s.CPUTime < e.lastCPU || (s.CPUStart != 0 && e.lastStart != 0 && s.CPUStart != e.lastStart)
		if !reset {
			rate, ok = (s.CPUTime-e.lastCPU)/seconds(ts-e.lastCPUTS), true
		} else if s.CPUStart != 0 && ts > s.CPUStart {
			rate, ok = s.CPUTime/seconds(ts-s.CPUStart), true
		}
		e.lastCPU = s.CPUTime
		e.lastStart = s.CPUStart
	}
	e.lastCPUTS = ts
	e.haveCPU = true
	if rate < 0 {
		rate = 0
	}
	return rate, ok
}

func seconds(d pcommon.Timestamp) float64 { return float64(d) / 1e9 }

// smooth folds x into the score of kind (0 CPU, 1 memory); n is the number of
// earlier observations of that kind.
func (t *Tracker[E]) smooth(e *Entry[E], kind int, n int, prev, x float64) float64 {
	switch t.cfg.Smoothing {
	case SmoothingNone:
		return x
	case SmoothingMax:
		w := t.cfg.Window
		p := t.pages[e.slot>>pageBits]
		base := (int(e.slot&(pageSize-1))*2 + kind) * w
		ring := p.ring[base : base+w : base+w]
		ring[n%w] = x
		m := x
		for i := 0; i < min(n+1, w); i++ {
			if ring[i] > m {
				m = ring[i]
			}
		}
		return m
	default:
		if n == 0 {
			return x
		}
		return prev + t.alpha*(x-prev)
	}
}

// End closes the interval: processes absent for PruneAfter consecutive
// intervals are removed, calling onPrune (may be nil) first. It returns the
// number pruned.
func (t *Tracker[E]) End(onPrune func(*Entry[E])) int {
	pruned := 0
	for slot := int32(0); slot < t.used; slot++ {
		e := t.entry(slot)
		if !e.live || t.interval-e.LastSeen < uint64(t.cfg.PruneAfter) {
			continue
		}
		if onPrune != nil {
			onPrune(e)
		}
		t.remove(e)
		pruned++
	}
	return pruned
}

// Remove drops the state of id now (e.g. when the caller knows the process
// is gone). It reports whether id was tracked.
func (t *Tracker[E]) Remove(id Identity) bool {
	slot, ok := t.index[id]
	if !ok {
		return false
	}
	t.remove(t.entry(slot))
	return true
}

func (t *Tracker[E]) remove(e *Entry[E]) {
	delete(t.index, e.ID)
	e.live = false
	t.free = append(t.free, e.slot)
}

// All calls fn for every tracked process until fn returns false.
func (t *Tracker[E]) All(fn func(*Entry[E]) bool) {
	for slot := int32(0); slot < t.used; slot++ {
		e := t.entry(slot)
		if e.live && !fn(e) {
			return
		}
	}
}
