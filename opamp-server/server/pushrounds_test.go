package server

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
)

// A change during a round of the same deployment makes exactly one more
// round; another deployment's round runs beside it, not after it.
func TestPushRoundsCoalesceAndRunSideBySide(t *testing.T) {
	var p pushRounds
	var wg sync.WaitGroup
	ctx := context.Background()
	release := make(chan struct{})
	started := make(chan struct{}, 10)
	var fleetRounds atomic.Int32
	slow := func(context.Context) {
		fleetRounds.Add(1)
		started <- struct{}{}
		<-release
	}
	p.schedule(ctx, &wg, "fleet", slow)
	<-started
	for range 5 { // five changes while the round runs
		p.schedule(ctx, &wg, "fleet", slow)
	}
	canary := make(chan struct{})
	p.schedule(ctx, &wg, "canary", func(context.Context) { close(canary) })
	<-canary // ran while fleet's round is still blocked
	close(release)
	wg.Wait()
	if n := fleetRounds.Load(); n != 2 {
		t.Fatalf("fleet ran %d rounds for 6 changes during one round, want 2 (one more, coalesced)", n)
	}
}
