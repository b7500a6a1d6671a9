package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// SpawnerConfig bounds what a Spawner may start.
type SpawnerConfig struct {
	// MaxProcesses caps the live children; a profile that needs more is
	// refused. Default 500.
	MaxProcesses int
	// CPUBudget is the number of cores all children may burn together. When
	// the profile's mean CPU is larger, every child's CPU is scaled down by
	// the same factor, keeping the ranking. Default 0.5.
	CPUBudget float64
	// MaxMemoryPerProcess caps what one child holds, in bytes. Default 16 MiB.
	MaxMemoryPerProcess int64
	// Tick is how often the population is advanced (births, exits, churn).
	// Default 1s.
	Tick time.Duration
	// Executable is the program to re-execute in child mode; it must call
	// RunChildIfRequested first thing in main. Default: this program.
	Executable string
}

func (c *SpawnerConfig) setDefaults() {
	if c.MaxProcesses <= 0 {
		c.MaxProcesses = 500
	}
	if c.CPUBudget <= 0 {
		c.CPUBudget = 0.5
	}
	if c.MaxMemoryPerProcess <= 0 {
		c.MaxMemoryPerProcess = 16 << 20
	}
	if c.Tick <= 0 {
		c.Tick = time.Second
	}
}

// SpawnerStatus is a snapshot of a spawner.
type SpawnerStatus struct {
	Running   bool      `json:"running"`
	Profile   string    `json:"profile,omitempty"`
	Live      int       `json:"live"`
	Started   int       `json:"started"`
	Exited    int       `json:"exited"`
	StartedAt time.Time `json:"started_at,omitzero"`
	// CPUScale is the factor applied to the profile's CPU to fit CPUBudget.
	CPUScale  float64 `json:"cpu_scale,omitempty"`
	LastError string  `json:"last_error,omitempty"`
}

// Spawner plays a profile as real OS processes: each simulated process is a
// child that burns the simulated CPU, holds the simulated memory, and carries
// the simulated command line and executable name, so the real process
// scraper sees the load. Children die when the spawner stops, and when the
// spawner's process dies (their stdin closes and the kernel's parent-death
// signal fires).
type Spawner struct {
	cfg SpawnerConfig

	mu       sync.Mutex
	status   SpawnerStatus
	children map[int64]*child // by simulated PID
	cancel   context.CancelFunc
	loopDone chan struct{}
	reaped   sync.WaitGroup
}

type child struct {
	cmd   *exec.Cmd
	stdin *os.File // the write end; closing it tells the child to exit
}

// NewSpawner returns an idle spawner.
func NewSpawner(cfg SpawnerConfig) *Spawner {
	cfg.setDefaults()
	return &Spawner{cfg: cfg}
}

// ErrSpawnerRunning is returned by Start when a profile is already running.
var ErrSpawnerRunning = errors.New("a load simulation is already running")

// Start launches the profile's initial population and keeps it going until
// the profile's duration elapses, ctx is done, or Stop is called.
func (s *Spawner) Start(ctx context.Context, p *Profile) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if n := p.ProcessCount(); n > s.cfg.MaxProcesses {
		return fmt.Errorf("process_count: %d processes exceed the spawner's cap of %d", n, s.cfg.MaxProcesses)
	}
	exe := s.cfg.Executable
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return fmt.Errorf("loadgen spawner: find own executable: %w", err)
		}
	}
	s.mu.Lock()
	if s.status.Running {
		s.mu.Unlock()
		return ErrSpawnerRunning
	}
	mean := 0.0
	for _, g := range p.Groups {
		mean += g.CPU.Mean() * float64(g.Count)
	}
	scale := 1.0
	if mean > s.cfg.CPUBudget {
		scale = s.cfg.CPUBudget / mean
	}
	s.status = SpawnerStatus{Running: true, Profile: p.Name, StartedAt: time.Now(), CPUScale: scale}
	s.children = map[int64]*child{}
	runCtx, cancel := context.WithCancel(ctx)
	s.cancel = cancel
	s.loopDone = make(chan struct{})
	s.mu.Unlock()

	sim := NewSimulation(p, time.Now())
	s.reconcile(exe, sim, scale)
	go s.loop(runCtx, exe, sim, scale)
	return nil
}

func (s *Spawner) loop(ctx context.Context, exe string, sim *Simulation, scale float64) {
	defer close(s.loopDone)
	t := time.NewTicker(s.cfg.Tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			s.killAll()
			return
		case <-t.C:
			if sim.Done() {
				s.killAll()
				return
			}
			sim.Step(s.cfg.Tick)
			s.reconcile(exe, sim, scale)
		}
	}
}

// reconcile makes the children match the simulation's live processes.
func (s *Spawner) reconcile(exe string, sim *Simulation, scale float64) {
	live := make(map[int64]*Process, len(sim.Processes()))
	for _, p := range sim.Processes() {
		live[p.PID] = p
	}
	s.mu.Lock()
	for pid, c := range s.children {
		if _, ok := live[pid]; !ok {
			c.kill()
			delete(s.children, pid)
		}
	}
	s.mu.Unlock()
	for _, p := range sim.Processes() {
		s.mu.Lock()
		_, have := s.children[p.PID]
		s.mu.Unlock()
		if have {
			continue
		}
		g := sim.Profile().Groups[p.Group]
		if err := s.startChild(exe, p, g, scale); err != nil {
			s.mu.Lock()
			s.status.LastError = err.Error()
			s.mu.Unlock()
		}
	}
}

// childSpec is what a child needs to know, passed in its environment so that
// its command line is exactly the simulated one.
type childSpec struct {
	Name      string  `json:"name"`
	CPU       Pattern `json:"cpu"`
	Memory    Pattern `json:"memory"`
	Phase     float64 `json:"phase"`
	CPUScale  float64 `json:"cpu_scale"`
	MaxMemory int64   `json:"max_memory"`
	Seed      int64   `json:"seed"`
}

const childEnv = "PHOENIX_LOADGEN_CHILD"

func (s *Spawner) startChild(exe string, p *Process, g Group, scale float64) error {
	spec, _ := json.Marshal(childSpec{Name: p.Executable, CPU: g.CPU, Memory: g.Memory, Phase: p.phase,
		CPUScale: scale, MaxMemory: s.cfg.MaxMemoryPerProcess, Seed: p.PID})
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	cmd := &exec.Cmd{
		Path:  exe,
		Args:  strings.Fields(p.CommandLine),
		Env:   append(os.Environ(), childEnv+"="+string(spec), "GOMAXPROCS=1", "GOGC=400"),
		Stdin: r,
		SysProcAttr: &syscall.SysProcAttr{
			Pdeathsig: syscall.SIGKILL,
			Setpgid:   true, // a terminal's Ctrl-C goes to the spawner, which then stops its children
		},
	}
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return fmt.Errorf("start %q: %w", p.CommandLine, err)
	}
	r.Close()
	c := &child{cmd: cmd, stdin: w}
	s.mu.Lock()
	s.children[p.PID] = c
	s.status.Started++
	s.status.Live++
	s.mu.Unlock()
	s.reaped.Add(1)
	go func() {
		defer s.reaped.Done()
		_ = cmd.Wait()
		w.Close()
		s.mu.Lock()
		s.status.Live--
		s.status.Exited++
		s.mu.Unlock()
	}()
	return nil
}

func (c *child) kill() {
	_ = c.cmd.Process.Kill()
}

func (s *Spawner) killAll() {
	s.mu.Lock()
	for pid, c := range s.children {
		c.kill()
		delete(s.children, pid)
	}
	s.mu.Unlock()
	s.reaped.Wait()
	s.mu.Lock()
	s.status.Running = false
	s.mu.Unlock()
}

// Stop kills every child and waits until all are reaped. It is safe to call
// on an idle spawner.
func (s *Spawner) Stop() {
	s.mu.Lock()
	cancel, done := s.cancel, s.loopDone
	s.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
}

// Wait blocks until the current run ends (duration elapsed or stopped).
func (s *Spawner) Wait() {
	s.mu.Lock()
	done := s.loopDone
	s.mu.Unlock()
	if done != nil {
		<-done
	}
}

// Status returns a snapshot.
func (s *Spawner) Status() SpawnerStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}
