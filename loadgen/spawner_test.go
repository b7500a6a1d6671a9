package loadgen

import (
	"context"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/phoenix-otel/phoenix/internal/testutil"
)

// childrenSeen counts the resources of the real process scraper whose parent
// is this test process, by executable name.
func childrenSeen(md pmetric.Metrics) (int, map[string]int) {
	me := int64(os.Getpid())
	n, byName := 0, map[string]int{}
	for i := 0; i < md.ResourceMetrics().Len(); i++ {
		attrs := md.ResourceMetrics().At(i).Resource().Attributes()
		if ppid, ok := attrs.Get("process.parent_pid"); ok && ppid.Int() == me {
			n++
			name, _ := attrs.Get("process.executable.name")
			byName[name.Str()]++
		}
	}
	return n, byName
}

// liveChildren lists this process's children.
func liveChildren(t *testing.T) []int {
	t.Helper()
	return alive(childrenOf(os.Getpid()))
}

func TestSpawnerRealProcessesSeenByScraper(t *testing.T) {
	p := mustResolve(t, Spec{Profile: ProfileRealistic, Overrides: Overrides{ProcessCount: 200}})
	// Long lifetimes so that the population is stable while we scrape.
	for i := range p.Groups {
		if p.Groups[i].Lifetime > 0 {
			p.Groups[i].Lifetime = time.Hour
		}
	}
	sp := NewSpawner(SpawnerConfig{MaxProcesses: 250, CPUBudget: 0.2, MaxMemoryPerProcess: 1 << 20})
	if err := sp.Start(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sp.Stop)
	if st := sp.Status(); !st.Running || st.Live != 200 || st.Started != 200 {
		t.Fatalf("status after start: %+v", st)
	}

	// Children rename themselves as they start; scrape until all have.
	var n int
	var byName map[string]int
	for try := 0; try < 50; try++ {
		n, byName = childrenSeen(testutil.ScrapeProcesses(t))
		if n == 200 && byName["postgres"] >= 1 && byName["nginx"] >= 1 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n != 200 {
		t.Fatalf("the process scraper saw %d of 200 children (%v)", n, byName)
	}
	for _, want := range []string{"nginx", "postgres", "redis-server", "kubelet", "java", "python3"} {
		if byName[want] == 0 {
			t.Errorf("no child named %q among %v", want, byName)
		}
	}

	stopBounded(t, sp)
	if st := sp.Status(); st.Running || st.Live != 0 || st.Started < 200 || st.Exited != st.Started {
		t.Fatalf("status after stop: %+v", st)
	}
	if left := liveChildren(t); len(left) != 0 {
		t.Fatalf("children left after stop: %v", left)
	}
	if n, _ := childrenSeen(testutil.ScrapeProcesses(t)); n != 0 {
		t.Fatalf("the scraper still sees %d children after stop", n)
	}
}

func TestSpawnerCapAndChurn(t *testing.T) {
	big := mustResolve(t, Spec{Profile: ProfileHighCardinality})
	sp := NewSpawner(SpawnerConfig{MaxProcesses: 100})
	if err := sp.Start(context.Background(), big); err == nil || !strings.Contains(err.Error(), "exceed the spawner's cap of 100") {
		t.Fatalf("over-cap profile: %v", err)
	}

	churn := mustResolve(t, Spec{Profile: ProfileProcessChurn, Overrides: Overrides{ProcessCount: 30, ChurnRate: 20, Duration: 3 * time.Second}})
	sp = NewSpawner(SpawnerConfig{MaxProcesses: 100, CPUBudget: 0.1, MaxMemoryPerProcess: 1 << 20, Tick: 250 * time.Millisecond})
	if err := sp.Start(context.Background(), churn); err != nil {
		t.Fatal(err)
	}
	if err := sp.Start(context.Background(), churn); err != ErrSpawnerRunning {
		t.Fatalf("second start: %v", err)
	}
	sp.Wait() // the 3 s duration ends the run
	st := sp.Status()
	// 20/s for 3 s replaces ~60 children on top of the 30 initial ones.
	if st.Running || st.Live != 0 || st.Started < 30+50 || st.Exited != st.Started {
		t.Fatalf("churn run status: %+v", st)
	}
	if left := liveChildren(t); len(left) != 0 {
		t.Fatalf("children left: %v", left)
	}
}

// TestChildrenDieWithParent starts a spawner in a separate copy of this test
// binary, kills that copy with SIGKILL, and checks its children die too.
func TestChildrenDieWithParent(t *testing.T) {
	if os.Getenv("PHOENIX_SPAWNER_ORPHAN_PARENT") == "1" {
		p, _ := Resolve(Spec{Profile: ProfileRealistic, Overrides: Overrides{ProcessCount: 50}})
		sp := NewSpawner(SpawnerConfig{CPUBudget: 0.05, MaxMemoryPerProcess: 1 << 20})
		if err := sp.Start(context.Background(), p); err != nil {
			os.Exit(3)
		}
		os.Stdout.WriteString("started\n")
		select {}
	}
	exe, _ := os.Executable()
	cmd := execCommand(exe, "-test.run=^TestChildrenDieWithParent$")
	cmd.Env = append(os.Environ(), "PHOENIX_SPAWNER_ORPHAN_PARENT=1")
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	if _, err := out.Read(buf); err != nil || !strings.HasPrefix(string(buf), "started") {
		t.Fatalf("parent did not start its children: %q %v", buf, err)
	}
	parent := cmd.Process.Pid
	kids := childrenOf(parent)
	if len(kids) != 50 {
		t.Fatalf("parent has %d children, want 50", len(kids))
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	for try := 0; try < 100 && len(alive(kids)) > 0; try++ {
		time.Sleep(50 * time.Millisecond)
	}
	if a := alive(kids); len(a) > 0 {
		t.Fatalf("%d children outlived their parent: %v", len(a), a)
	}
}
