package loadgen

import (
	"context"
	"syscall"
	"testing"
	"time"
)

// stopGrace bounds how long a test waits for Spawner.Stop. It is a deadline
// for something that should happen (SIGKILL and reaping), not a performance
// figure: a Stop that does not kill its children would otherwise hang the
// test until the package's -timeout.
const stopGrace = 30 * time.Second

// stopBounded calls sp.Stop and fails, naming the children still alive, if
// it does not return within stopGrace. The survivors are then killed so that
// Stop (and the test binary) can finish.
func stopBounded(t *testing.T, sp *Spawner) {
	t.Helper()
	done := make(chan struct{})
	go func() { sp.Stop(); close(done) }()
	select {
	case <-done:
		return
	case <-time.After(stopGrace):
	}
	left := liveChildren(t)
	for _, pid := range left {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	<-done
	t.Fatalf("Spawner.Stop did not return within %v; children still alive: %v (killed by the test)", stopGrace, left)
}

// Stop kills every child and returns once all are reaped; none survives.
func TestSpawnerStopKillsEveryChild(t *testing.T) {
	p := mustResolve(t, Spec{Profile: ProfileRealistic, Overrides: Overrides{ProcessCount: 50}})
	for i := range p.Groups {
		p.Groups[i].Lifetime, p.Groups[i].ChurnRate = 0, 0 // long-lived: only Stop ends them
	}
	sp := NewSpawner(SpawnerConfig{MaxProcesses: 60, CPUBudget: 0.05, MaxMemoryPerProcess: 1 << 20})
	if err := sp.Start(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if n := len(liveChildren(t)); n != 50 {
		stopBounded(t, sp)
		t.Fatalf("%d live children after start, want 50", n)
	}
	stopBounded(t, sp)
	if st := sp.Status(); st.Running || st.Live != 0 || st.Exited != st.Started {
		t.Fatalf("status after stop: %+v", st)
	}
	if left := liveChildren(t); len(left) != 0 {
		t.Fatalf("children left after Stop: %v", left)
	}
}
