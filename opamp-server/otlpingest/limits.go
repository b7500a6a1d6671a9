package otlpingest

import (
	"fmt"
	"hash/maphash"
	"sync"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// Limits cap what one agent may write. Zero values take the defaults.
type Limits struct {
	// MaxSeriesPerRequest bounds the distinct series in one export request
	// (default DefaultMaxSeriesPerRequest).
	MaxSeriesPerRequest int
	// MaxSeriesPerAgent bounds the distinct series one agent may write per
	// Window (default DefaultMaxSeriesPerAgent).
	MaxSeriesPerAgent int
	// Window is how long an agent's series count accumulates before it
	// starts again (default 24h: the retention of the finest resolution,
	// so it bounds the rows an agent can hold there).
	Window time.Duration
}

// Defaults of Limits. A phoenix-agent's collector reports some tens of
// series per pipeline (the Phoenix processors' figures and the process
// figures), so these leave a wide margin for real agents while bounding
// what a misbehaving one can pour into the database.
const (
	DefaultMaxSeriesPerRequest = 2000
	DefaultMaxSeriesPerAgent   = 10000
	DefaultWindow              = 24 * time.Hour
)

// WithDefaults fills the zero fields.
func (l Limits) WithDefaults() Limits {
	if l.MaxSeriesPerRequest == 0 {
		l.MaxSeriesPerRequest = DefaultMaxSeriesPerRequest
	}
	if l.MaxSeriesPerAgent == 0 {
		l.MaxSeriesPerAgent = DefaultMaxSeriesPerAgent
	}
	if l.Window == 0 {
		l.Window = DefaultWindow
	}
	return l
}

// LimitError is a request refused by a cap. Scope is "request" or "agent".
type LimitError struct {
	Scope   string
	Agent   string
	Series  int // distinct series of the request, or the agent's total it would reach
	Limit   int
	ResetIn time.Duration // agent scope: until the window starts again
}

func (e *LimitError) Error() string {
	if e.Scope == "request" {
		return fmt.Sprintf("the request carries %d distinct series; the limit is %d per request (phoenix-server --ingest-max-series-per-request)", e.Series, e.Limit)
	}
	return fmt.Sprintf("agent %s would reach %d distinct series; the limit is %d per agent per window (phoenix-server --ingest-max-series-per-agent), which starts again in %s",
		e.Agent, e.Series, e.Limit, e.ResetIn.Round(time.Second))
}

// Limiter counts each agent's distinct series in memory (per replica: with
// several replicas an agent's figures land on the replica it dialled, and
// each caps what it stores).
type Limiter struct {
	lim  Limits
	seed maphash.Seed

	mu     sync.Mutex
	agents map[string]*agentSeries
}

type agentSeries struct {
	mu    sync.Mutex
	start time.Time
	seen  map[uint64]struct{}
}

// NewLimiter returns a limiter with l (defaults filled in).
func NewLimiter(l Limits) *Limiter {
	return &Limiter{lim: l.WithDefaults(), seed: maphash.MakeSeed(), agents: map[string]*agentSeries{}}
}

// Limits are the limiter's caps.
func (l *Limiter) Limits() Limits { return l.lim }

func (l *Limiter) key(p *store.MetricPoint) uint64 {
	var h maphash.Hash
	h.SetSeed(l.seed)
	for _, s := range [...]string{p.Name, p.Pipeline, p.Stage, p.Variant} {
		h.WriteString(s)
		h.WriteByte(0)
	}
	return h.Sum64()
}

// Admit checks the points of one request of agent uid against both caps
// and, when they hold, counts the new series. A refused request counts
// nothing.
func (l *Limiter) Admit(uid string, points []store.MetricPoint, now time.Time) error {
	keys := make(map[uint64]struct{}, len(points))
	for i := range points {
		keys[l.key(&points[i])] = struct{}{}
	}
	if len(keys) > l.lim.MaxSeriesPerRequest {
		return &LimitError{Scope: "request", Agent: uid, Series: len(keys), Limit: l.lim.MaxSeriesPerRequest}
	}
	l.mu.Lock()
	a, ok := l.agents[uid]
	if !ok {
		a = &agentSeries{start: now, seen: map[uint64]struct{}{}}
		l.agents[uid] = a
	}
	l.mu.Unlock()

	a.mu.Lock()
	defer a.mu.Unlock()
	if now.Sub(a.start) >= l.lim.Window {
		a.start, a.seen = now, map[uint64]struct{}{}
	}
	added := 0
	for k := range keys {
		if _, ok := a.seen[k]; !ok {
			added++
		}
	}
	if total := len(a.seen) + added; added > 0 && total > l.lim.MaxSeriesPerAgent {
		return &LimitError{Scope: "agent", Agent: uid, Series: total, Limit: l.lim.MaxSeriesPerAgent, ResetIn: a.start.Add(l.lim.Window).Sub(now)}
	}
	for k := range keys {
		a.seen[k] = struct{}{}
	}
	return nil
}

// Forget drops an agent's count (a revoked agent).
func (l *Limiter) Forget(uid string) {
	l.mu.Lock()
	delete(l.agents, uid)
	l.mu.Unlock()
}
