package server

import (
	"context"
	"sync"
)

// pushRounds runs the reconcile-and-push round a deployment change causes
// beside the change feed, not in it: the feed goes on to the next change at
// once, so a deployment changed in the middle of a rollout to 10,000 agents
// is pushed while that rollout's round is still sending, instead of after
// it. Rounds of one deployment coalesce: a change that arrives while its
// round runs makes one more round when it ends (which reads the then
// current state), never a queue of them. Rounds of different deployments
// run side by side; a session is pushed at most once per hash (sentHash).
type pushRounds struct {
	mu     sync.Mutex
	rounds map[string]*pushRound
}

type pushRound struct{ running, again bool }

// schedule starts a round for key (a deployment name; "" for a resync)
// unless one runs, in which case that one runs once more. wg tracks the
// round so that Stop waits for it.
func (p *pushRounds) schedule(ctx context.Context, wg *sync.WaitGroup, key string, push func(context.Context)) {
	p.mu.Lock()
	if p.rounds == nil {
		p.rounds = map[string]*pushRound{}
	}
	r := p.rounds[key]
	if r == nil {
		r = &pushRound{}
		p.rounds[key] = r
	}
	if r.running {
		r.again = true
		p.mu.Unlock()
		return
	}
	r.running = true
	p.mu.Unlock()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			push(ctx)
			p.mu.Lock()
			if !r.again || ctx.Err() != nil {
				r.running, r.again = false, false
				p.mu.Unlock()
				return
			}
			r.again = false
			p.mu.Unlock()
		}
	}()
}
