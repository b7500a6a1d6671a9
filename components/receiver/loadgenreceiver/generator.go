package loadgenreceiver

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"go.uber.org/zap"

	"github.com/phoenix-otel/phoenix/internal/buildinfo"
	"github.com/phoenix-otel/phoenix/loadgen"
)

const scopeName = "github.com/phoenix-otel/phoenix/components/receiver/loadgenreceiver"

// generator plays a profile and renders each step as process-scraper metrics.
type generator struct {
	cfg     *Config
	logger  *zap.Logger
	profile *loadgen.Profile

	mu      sync.Mutex
	sim     *loadgen.Simulation
	stepped bool
	done    bool
}

func newGenerator(cfg *Config, set receiver.Settings) (*generator, error) {
	p, err := loadgen.Resolve(cfg.Spec())
	if err != nil {
		return nil, err
	}
	return &generator{cfg: cfg, logger: set.Logger, profile: p}, nil
}

func (g *generator) start(context.Context, component.Host) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.sim = loadgen.NewSimulation(g.profile, time.Now())
	g.logger.Info("loadgen profile started",
		zap.String("profile", g.profile.Name), zap.Int("processes", g.profile.ProcessCount()),
		zap.Float64("churn_rate", g.profile.ChurnRate()), zap.Duration("duration", g.profile.Duration),
		zap.Int64("seed", g.profile.Seed), zap.String("phoenix.version", buildinfo.Version))
	return nil
}

// scrape advances the simulation by one collection interval (logical time, so
// a seed gives the same values whatever the scheduling) and emits it.
func (g *generator) scrape(context.Context) (pmetric.Metrics, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.sim.Done() {
		if !g.done {
			g.done = true
			g.logger.Info("loadgen profile finished", zap.Duration("duration", g.profile.Duration))
		}
		return pmetric.NewMetrics(), nil
	}
	now := time.Now()
	if g.cfg.Step > 0 {
		g.sim.Step(g.cfg.Step)
		now = g.sim.Now() // logical time: see Config.Step
	} else {
		g.sim.Step(g.cfg.CollectionInterval)
	}
	md := pmetric.NewMetrics()
	appendProcesses(md, g.sim.Processes(), g.cfg.HostName, pcommon.NewTimestampFromTime(now))
	return md, nil
}

// appendProcesses renders processes exactly as the hostmetrics process scraper
// (v0.160.0, default metrics) does: one resource per process with its
// resource attributes, and process.cpu.time (cumulative double, per state),
// process.memory.usage and process.memory.virtual (non-monotonic cumulative
// int sums), process.disk.io (cumulative int, per direction), each with the
// process start time as StartTimestamp.
func appendProcesses(md pmetric.Metrics, procs []*loadgen.Process, hostName string, now pcommon.Timestamp) {
	rms := md.ResourceMetrics()
	rms.EnsureCapacity(rms.Len() + len(procs))
	for _, p := range procs {
		rm := rms.AppendEmpty()
		attrs := rm.Resource().Attributes()
		attrs.EnsureCapacity(8)
		attrs.PutInt("process.pid", p.PID)
		attrs.PutInt("process.parent_pid", p.PPID)
		attrs.PutStr("process.executable.name", p.Executable)
		attrs.PutStr("process.executable.path", p.ExePath)
		attrs.PutStr("process.command", p.Command)
		attrs.PutStr("process.command_line", p.CommandLine)
		attrs.PutStr("process.owner", p.Owner)
		if hostName != "" {
			attrs.PutStr("host.name", hostName)
		}
		sm := rm.ScopeMetrics().AppendEmpty()
		sm.Scope().SetName(scopeName)
		sm.Scope().SetVersion(buildinfo.Version)
		ms := sm.Metrics()
		ms.EnsureCapacity(4)
		start := pcommon.NewTimestampFromTime(p.StartTime)

		cpu := ms.AppendEmpty()
		cpu.SetName("process.cpu.time")
		cpu.SetDescription("Total CPU seconds broken down by different states.")
		cpu.SetUnit("s")
		sum := cpu.SetEmptySum()
		sum.SetIsMonotonic(true)
		sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		dps := sum.DataPoints()
		dps.EnsureCapacity(3)
		for _, st := range [...]struct {
			state string
			v     float64
		}{{"user", p.CPUUser}, {"system", p.CPUSystem}, {"wait", p.CPUWait}} {
			dp := dps.AppendEmpty()
			dp.SetStartTimestamp(start)
			dp.SetTimestamp(now)
			dp.SetDoubleValue(st.v)
			dp.Attributes().PutStr("state", st.state)
		}

		appendGaugeSum(ms, "process.memory.usage", "The amount of physical memory in use.", p.MemoryUsage, start, now)
		appendGaugeSum(ms, "process.memory.virtual", "The amount of committed virtual memory.", p.MemoryVirtual, start, now)

		io := ms.AppendEmpty()
		io.SetName("process.disk.io")
		io.SetDescription("Disk bytes transferred.")
		io.SetUnit("By")
		ioSum := io.SetEmptySum()
		ioSum.SetIsMonotonic(true)
		ioSum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		iodps := ioSum.DataPoints()
		iodps.EnsureCapacity(2)
		for _, d := range [...]struct {
			dir string
			v   int64
		}{{"read", p.DiskRead}, {"write", p.DiskWrite}} {
			dp := iodps.AppendEmpty()
			dp.SetStartTimestamp(start)
			dp.SetTimestamp(now)
			dp.SetIntValue(d.v)
			dp.Attributes().PutStr("direction", d.dir)
		}
	}
}

// appendGaugeSum adds a non-monotonic cumulative int sum in bytes, the type
// the process scraper uses for memory.
func appendGaugeSum(ms pmetric.MetricSlice, name, desc string, v int64, start, now pcommon.Timestamp) {
	m := ms.AppendEmpty()
	m.SetName(name)
	m.SetDescription(desc)
	m.SetUnit("By")
	s := m.SetEmptySum()
	s.SetIsMonotonic(false)
	s.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	dp := s.DataPoints().AppendEmpty()
	dp.SetStartTimestamp(start)
	dp.SetTimestamp(now)
	dp.SetIntValue(v)
}
