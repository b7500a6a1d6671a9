package sqlstore

import (
	"context"
	"sync"

	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// changeFeed delivers changes to in-process subscribers without ever dropping
// one and without ever blocking a writer. Each subscriber keeps the latest
// change per (kind, key) it has not read yet: a burst of N changes to one
// agent is one pending entry, so memory is bounded by the number of distinct
// deployments and agents, not by the write rate. Deployment and resync
// changes are delivered before agent changes, so a deployment change made in
// the middle of a rollout to 10,000 agents does not wait behind their
// status reports.
type changeFeed struct {
	mu   sync.Mutex
	subs map[*subscriber]struct{}
}

type changeKey struct{ kind, key string }

type subscriber struct {
	mu      sync.Mutex
	pending map[changeKey]store.Change
	first   []changeKey // deployments and resyncs, in order
	rest    []changeKey // agents, in order
	wake    chan struct{}
	out     chan store.Change
}

func newChangeFeed() *changeFeed { return &changeFeed{subs: map[*subscriber]struct{}{}} }

func (f *changeFeed) subscribe(ctx context.Context) <-chan store.Change {
	sub := &subscriber{pending: map[changeKey]store.Change{}, wake: make(chan struct{}, 1), out: make(chan store.Change)}
	f.mu.Lock()
	f.subs[sub] = struct{}{}
	f.mu.Unlock()
	go func() {
		defer close(sub.out)
		defer func() {
			f.mu.Lock()
			delete(f.subs, sub)
			f.mu.Unlock()
		}()
		for {
			c, ok := sub.pop()
			if !ok {
				select {
				case <-sub.wake:
					continue
				case <-ctx.Done():
					return
				}
			}
			select {
			case sub.out <- c:
			case <-ctx.Done():
				return
			}
		}
	}()
	return sub.out
}

func (f *changeFeed) publish(c store.Change) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for sub := range f.subs {
		sub.push(c)
	}
}

// pendingCount is the number of undelivered changes of all subscribers (tests).
func (f *changeFeed) pendingCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for sub := range f.subs {
		sub.mu.Lock()
		n += len(sub.pending)
		sub.mu.Unlock()
	}
	return n
}

func (s *subscriber) push(c store.Change) {
	k := changeKey{c.Kind, c.Key}
	s.mu.Lock()
	if _, queued := s.pending[k]; !queued {
		if c.Kind == store.ChangeAgent {
			s.rest = append(s.rest, k)
		} else {
			s.first = append(s.first, k)
		}
	}
	s.pending[k] = c // the latest wins: consumers read the state itself
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *subscriber) pop() (store.Change, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var k changeKey
	switch {
	case len(s.first) > 0:
		k, s.first = s.first[0], s.first[1:]
	case len(s.rest) > 0:
		k, s.rest = s.rest[0], s.rest[1:]
	default:
		s.first, s.rest = nil, nil // let the backing arrays go
		return store.Change{}, false
	}
	c := s.pending[k]
	delete(s.pending, k)
	return c, true
}
