package loadgen

import (
	"math/rand/v2"
	"path"
	"strconv"
	"strings"
	"time"
)

// Process is one simulated process and its cumulative counters.
type Process struct {
	PID         int64
	PPID        int64
	Executable  string // process.executable.name (Linux comm, at most 15 bytes)
	ExePath     string // process.executable.path
	Command     string // process.command (argv[0])
	CommandLine string // process.command_line
	Owner       string // process.owner
	Group       int    // index into Profile.Groups
	StartTime   time.Time

	// Cumulative CPU seconds per state, as process.cpu.time reports them.
	CPUUser, CPUSystem, CPUWait float64
	// Current CPU in cores over the last step (sum of states).
	CPURate float64
	// Resident and virtual memory in bytes.
	MemoryUsage, MemoryVirtual int64
	// Cumulative disk bytes.
	DiskRead, DiskWrite int64

	born       time.Duration // logical time of birth (may be negative: started before the run)
	dies       time.Duration // logical time of exit, when mortal
	mortal     bool
	phase      float64
	ioPerCPU   float64 // disk bytes per CPU second
	virtFactor float64
	readShare  float64
}

// Simulation plays a Profile in logical time. It is not safe for concurrent
// use.
type Simulation struct {
	profile *Profile
	rng     *rand.Rand
	start   time.Time
	now     time.Duration

	procs      []*Process
	nextPID    int64
	nextID     int
	groupNext  []int
	churnCarry []float64

	// Born and Exited count processes started and ended since the start,
	// including ones that lived and died between two steps.
	Born, Exited int
}

// NewSimulation creates the profile's initial population at start. Long-lived
// processes get ages in the past (with CPU time to match); processes with a
// lifetime get ages spread over it, so their exits are spread evenly; churning
// processes get the ages a steady state of random kills would give them.
func NewSimulation(p *Profile, start time.Time) *Simulation {
	seed := uint64(p.Seed)
	s := &Simulation{
		profile:    p,
		rng:        rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		start:      start,
		groupNext:  make([]int, len(p.Groups)),
		churnCarry: make([]float64, len(p.Groups)),
	}
	s.nextPID = 300 + int64(s.rng.IntN(700))
	for gi, g := range p.Groups {
		for range g.Count {
			var age time.Duration
			switch {
			case g.Lifetime > 0:
				age = time.Duration(s.rng.Float64() * float64(g.Lifetime))
			case g.ChurnRate > 0:
				// A churning group's members are killed at random, so in a
				// steady state their ages are exponential with the mean
				// lifetime Count/ChurnRate: a churner is never a month old
				// (giving them service ages made every processor's first
				// window look like long-lived processes dying).
				mean := float64(g.Count) / g.ChurnRate * float64(time.Second)
				age = time.Duration(s.rng.ExpFloat64() * mean)
			default:
				// Services started between 10 minutes and 30 days ago.
				age = 10*time.Minute + time.Duration(s.rng.Float64()*float64(30*24*time.Hour))
			}
			pr := s.spawn(gi, -age)
			s.procs = append(s.procs, pr)
			// Give it the CPU time and disk I/O of its past, at its mean rate.
			past := age.Seconds() * g.CPU.Mean() * (0.5 + 0.5*s.rng.Float64())
			s.addCPU(pr, past)
			pr.MemoryUsage = int64(g.Memory.At(age, pr.phase, s.rng))
			pr.MemoryVirtual = int64(float64(pr.MemoryUsage) * pr.virtFactor)
		}
	}
	return s
}

// Profile is the profile being played.
func (s *Simulation) Profile() *Profile { return s.profile }

// Now is the current logical time as a wall-clock time.
func (s *Simulation) Now() time.Time { return s.start.Add(s.now) }

// Elapsed is how much logical time has passed.
func (s *Simulation) Elapsed() time.Duration { return s.now }

// Done reports whether the profile's duration has elapsed.
func (s *Simulation) Done() bool { return s.profile.Duration > 0 && s.now >= s.profile.Duration }

// Processes are the live processes, oldest first. The slice and its elements
// are owned by the simulation and change on the next Step.
func (s *Simulation) Processes() []*Process { return s.procs }

// Step advances the simulation by dt: processes whose lifetime ends exit and
// are replaced, churning groups are killed and replaced at their rate, and
// every survivor's counters grow by what it did during dt.
func (s *Simulation) Step(dt time.Duration) {
	if dt <= 0 {
		return
	}
	t0, t1 := s.now, s.now+dt
	// Lifetime exits. A replacement may itself exit within the step.
	for i := 0; i < len(s.procs); i++ {
		for pr := s.procs[i]; pr.mortal && pr.dies <= t1; pr = s.procs[i] {
			s.Exited++
			s.procs[i] = s.spawn(pr.Group, pr.dies)
		}
	}
	// Churn: kill and replace carry-accumulated counts per group.
	for gi, g := range s.profile.Groups {
		if g.ChurnRate <= 0 {
			continue
		}
		s.churnCarry[gi] += g.ChurnRate * dt.Seconds()
		n := int(s.churnCarry[gi])
		s.churnCarry[gi] -= float64(n)
		if n == 0 {
			continue
		}
		members := make([]int, 0, g.Count)
		for i, pr := range s.procs {
			if pr.Group == gi {
				members = append(members, i)
			}
		}
		for range n {
			i := members[s.rng.IntN(len(members))]
			at := t0 + time.Duration(s.rng.Float64()*float64(dt))
			if at < s.procs[i].born {
				at = s.procs[i].born
			}
			s.Exited++
			s.procs[i] = s.spawn(gi, at)
		}
	}
	// Counters of the survivors for the part of the step they were alive.
	for _, pr := range s.procs {
		g := &s.profile.Groups[pr.Group]
		from := t0
		if pr.born > from {
			from = pr.born
		}
		alive := (t1 - from).Seconds()
		age := t1 - pr.born
		rate := g.CPU.At(age, pr.phase, s.rng)
		pr.CPURate = rate
		s.addCPU(pr, rate*alive)
		pr.MemoryUsage = int64(g.Memory.At(age, pr.phase, s.rng))
		pr.MemoryVirtual = int64(float64(pr.MemoryUsage) * pr.virtFactor)
	}
	s.now = t1
}

func (s *Simulation) addCPU(pr *Process, sec float64) {
	pr.CPUUser += sec * 0.7
	pr.CPUSystem += sec * 0.27
	pr.CPUWait += sec * 0.03
	io := int64(sec * pr.ioPerCPU)
	r := int64(float64(io) * pr.readShare)
	pr.DiskRead += r
	pr.DiskWrite += io - r
}

// spawn makes a new process of group gi born at logical time born; the
// caller puts it into s.procs. PIDs only grow, so they are never reused within a run.
func (s *Simulation) spawn(gi int, born time.Duration) *Process {
	g := &s.profile.Groups[gi]
	s.nextPID += 1 + int64(s.rng.IntN(4))
	s.nextID++
	idx := s.groupNext[gi]
	s.groupNext[gi]++
	pid := s.nextPID
	cmdline := renderTemplate(g.NameTemplate, idx, s.nextID, pid, s.rng)
	pr := &Process{
		PID:         pid,
		PPID:        1,
		CommandLine: cmdline,
		Owner:       g.Owner,
		Group:       gi,
		StartTime:   s.start.Add(born),
		born:        born,
		phase:       s.rng.Float64(),
		ioPerCPU:    float64(64*1024) * (1 + 15*s.rng.Float64()),
		virtFactor:  2 + 6*s.rng.Float64(),
		readShare:   0.3 + 0.5*s.rng.Float64(),
	}
	if pr.Owner == "" {
		pr.Owner = "root"
	}
	first, _, _ := strings.Cut(cmdline, " ")
	pr.Command = first
	pr.ExePath = first
	if !strings.HasPrefix(first, "/") {
		pr.ExePath = "/usr/bin/" + strings.TrimSuffix(first, ":")
	}
	pr.Executable = g.Executable
	if pr.Executable == "" {
		pr.Executable = path.Base(strings.TrimSuffix(first, ":"))
	}
	if len(pr.Executable) > 15 { // Linux keeps 15 bytes of comm
		pr.Executable = pr.Executable[:15]
	}
	if g.Executable != "" && !strings.HasPrefix(first, "/") && strings.Contains(first, ":") {
		// "nginx: worker process" style titles: the binary is the executable.
		pr.ExePath = "/usr/sbin/" + g.Executable
	}
	if g.Lifetime > 0 {
		jitter := 0.8 + 0.4*s.rng.Float64()
		pr.dies = born + time.Duration(float64(g.Lifetime)*jitter)
		pr.mortal = true
		s.Born++
	} else if born >= 0 {
		s.Born++
	}
	return pr
}

func renderTemplate(tmpl string, idx, id int, pid int64, rng *rand.Rand) string {
	if !strings.Contains(tmpl, "{") {
		return tmpl
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			b.WriteString(tmpl)
			return b.String()
		}
		j := strings.IndexByte(tmpl[i:], '}')
		if j < 0 {
			b.WriteString(tmpl)
			return b.String()
		}
		b.WriteString(tmpl[:i])
		switch tmpl[i : i+j+1] {
		case "{i}":
			b.WriteString(strconv.Itoa(idx))
		case "{id}":
			b.WriteString(strconv.Itoa(id))
		case "{pid}":
			b.WriteString(strconv.FormatInt(pid, 10))
		case "{hex}":
			b.WriteString(strconv.FormatUint(rng.Uint64()>>16|1<<47, 16)[:12])
		default:
			b.WriteString(tmpl[i : i+j+1])
		}
		tmpl = tmpl[i+j+1:]
	}
}
