package loadgen

import (
	"reflect"
	"testing"
	"time"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

type snapshot struct {
	PID             int64
	Cmd             string
	User, Mem, Read float64
}

func run(p *Profile, steps int, dt time.Duration) [][]snapshot {
	s := NewSimulation(p, epoch)
	var out [][]snapshot
	for range steps {
		s.Step(dt)
		var snap []snapshot
		for _, pr := range s.Processes() {
			snap = append(snap, snapshot{pr.PID, pr.CommandLine, pr.CPUUser, float64(pr.MemoryUsage), float64(pr.DiskRead)})
		}
		out = append(out, snap)
	}
	return out
}

func TestSameSeedSameSequence(t *testing.T) {
	for _, name := range []string{ProfileRealistic, ProfileHighCardinality, ProfileProcessChurn} {
		a := run(mustResolve(t, Spec{Profile: name, Seed: 42}), 20, time.Second)
		b := run(mustResolve(t, Spec{Profile: name, Seed: 42}), 20, time.Second)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("%s: same seed gave different sequences", name)
		}
		c := run(mustResolve(t, Spec{Profile: name, Seed: 43}), 20, time.Second)
		if reflect.DeepEqual(a, c) {
			t.Fatalf("%s: different seeds gave the same sequence", name)
		}
	}
}

func TestPopulationInvariants(t *testing.T) {
	for _, name := range []string{ProfileRealistic, ProfileHighCardinality, ProfileProcessChurn} {
		p := mustResolve(t, Spec{Profile: name})
		s := NewSimulation(p, epoch)
		seen := map[int64]string{}
		last := map[int64]*Process{}
		prevUser := map[int64]float64{}
		for step := range 120 {
			s.Step(time.Second)
			procs := s.Processes()
			if len(procs) != p.ProcessCount() {
				t.Fatalf("%s step %d: %d live processes, want %d", name, step, len(procs), p.ProcessCount())
			}
			for _, pr := range procs {
				if cmd, ok := seen[pr.PID]; ok && last[pr.PID] != pr {
					t.Fatalf("%s: PID %d reused (%q then %q)", name, pr.PID, cmd, pr.CommandLine)
				}
				seen[pr.PID] = pr.CommandLine
				last[pr.PID] = pr
				if pr.CPUUser < prevUser[pr.PID] {
					t.Fatalf("%s: cpu time of %d went down", name, pr.PID)
				}
				prevUser[pr.PID] = pr.CPUUser
				if pr.MemoryVirtual < pr.MemoryUsage || pr.MemoryUsage < 0 {
					t.Fatalf("%s: memory %d virtual %d", name, pr.MemoryUsage, pr.MemoryVirtual)
				}
				if len(pr.Executable) == 0 || len(pr.Executable) > 15 {
					t.Fatalf("%s: executable name %q", name, pr.Executable)
				}
			}
		}
	}
}

func TestChurnRate(t *testing.T) {
	p := mustResolve(t, Spec{Profile: ProfileProcessChurn})
	s := NewSimulation(p, epoch)
	s.Step(time.Second)
	before := s.Exited
	s.Step(60 * time.Second)
	// 25 per second, exactly, through the carry.
	if got := s.Exited - before; got != 25*60 {
		t.Fatalf("exited %d in 60 s, want %d", got, 25*60)
	}
}

// The initial population of a churning group is already in its steady
// state: the mean age of its members at the start is what it is after many
// lifetimes of random kills (Count/ChurnRate), not the age of a service.
func TestChurnersStartInSteadyState(t *testing.T) {
	p := mustResolve(t, Spec{Profile: ProfileProcessChurn, Overrides: Overrides{ProcessCount: 1000, ChurnRate: 10}})
	s := NewSimulation(p, epoch)
	meanAge := func() map[int]float64 {
		sum, n := map[int]float64{}, map[int]float64{}
		for _, pr := range s.Processes() {
			if p.Groups[pr.Group].ChurnRate > 0 {
				sum[pr.Group] += s.Now().Sub(pr.StartTime).Seconds()
				n[pr.Group]++
			}
		}
		for g := range sum {
			sum[g] /= n[g]
		}
		return sum
	}
	start := meanAge()
	if len(start) == 0 {
		t.Fatal("process-churn has no churning group")
	}
	for range 600 { // 10 minutes: many mean lifetimes
		s.Step(time.Second)
	}
	later := meanAge()
	for g, a := range start {
		want := float64(p.Groups[g].Count) / p.Groups[g].ChurnRate
		if a < 0.7*want || a > 1.3*want {
			t.Errorf("group %d: mean age %.0f s at start, want about Count/ChurnRate = %.0f s", g, a, want)
		}
		if b := later[g]; b < 0.7*want || b > 1.3*want {
			t.Errorf("group %d: mean age %.0f s after 10 minutes, want about %.0f s", g, b, want)
		}
	}
}

func TestRealisticJobsExitEveryMinute(t *testing.T) {
	p := mustResolve(t, Spec{Profile: ProfileRealistic})
	s := NewSimulation(p, epoch)
	initial := map[int64]bool{}
	for _, pr := range s.Processes() {
		initial[pr.PID] = true
	}
	for range 75 {
		s.Step(time.Second)
	}
	replaced := 0
	for _, pr := range s.Processes() {
		if !initial[pr.PID] {
			replaced++
		}
	}
	// All 30 jobs live 48–72 s, so after 75 s each has been replaced at least once,
	// and no long-lived service has.
	if replaced != 30 {
		t.Fatalf("%d processes replaced after 75 s, want the 30 jobs", replaced)
	}
}

func TestHighCardinalityUniqueCommandLines(t *testing.T) {
	p := mustResolve(t, Spec{Profile: ProfileHighCardinality, Overrides: Overrides{ProcessCount: 1000}})
	s := NewSimulation(p, epoch)
	s.Step(time.Second)
	uniq := map[string]bool{}
	idle := 0
	for _, pr := range s.Processes() {
		uniq[pr.CommandLine] = true
		if pr.CPURate < 0.01 {
			idle++
		}
	}
	if len(uniq) != 1000 {
		t.Fatalf("%d unique command lines of 1000", len(uniq))
	}
	if idle < 800 {
		t.Fatalf("only %d of 1000 processes idle", idle)
	}
}

func TestDuration(t *testing.T) {
	p := mustResolve(t, Spec{Profile: ProfileRealistic, Overrides: Overrides{Duration: 5 * time.Second}})
	s := NewSimulation(p, epoch)
	for range 4 {
		s.Step(time.Second)
	}
	if s.Done() {
		t.Fatal("done after 4 s of 5")
	}
	s.Step(time.Second)
	if !s.Done() {
		t.Fatal("not done after 5 s of 5")
	}
}
