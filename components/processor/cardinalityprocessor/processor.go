package cardinalityprocessor

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/otel/attribute"
	"go.uber.org/zap"

	"github.com/phoenix-otel/phoenix/components/internal/processmetrics"
)

// maxPendingWindows bounds the figures held for emit_metrics while no data
// flows to carry them.
const maxPendingWindows = 10

type cardinalityProcessor struct {
	cfg     *Config
	logger  *zap.Logger
	labels  []attribute.KeyValue
	version string
	now     func() time.Time

	mu             sync.Mutex
	state          *windowState
	pending        pmetric.Metrics // emit_metrics: figures waiting for a batch
	pendingWindows int

	last atomic.Pointer[snapshot]
	tel  *telemetry

	stop chan struct{}
	done chan struct{}
}

func newProcessor(set processor.Settings, cfg *Config) (*cardinalityProcessor, error) {
	critical, err := processmetrics.NewCriticalMatcher(cfg.CriticalProcesses)
	if err != nil {
		return nil, err
	}
	p := &cardinalityProcessor{
		cfg:     cfg,
		logger:  set.Logger,
		labels:  configLabels(cfg),
		version: set.BuildInfo.Version,
		now:     time.Now,
		pending: pmetric.NewMetrics(),
	}
	p.state = newWindowState(cfg, critical, p.now())
	if set.MeterProvider == nil {
		return nil, errNilMeterProvider
	}
	p.tel, err = newTelemetry(set.MeterProvider, p.labels, p.last.Load)
	if err != nil {
		return nil, err
	}
	return p, nil
}

func (p *cardinalityProcessor) start(context.Context, component.Host) error {
	p.mu.Lock()
	p.state.start = p.now()
	p.mu.Unlock()
	p.stop, p.done = make(chan struct{}), make(chan struct{})
	go p.run()
	return nil
}

// run closes a window every cfg.Window, also when no data flows: an empty
// window reports zero, which is the truth.
func (p *cardinalityProcessor) run() {
	defer close(p.done)
	t := time.NewTicker(p.cfg.Window)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.rotate(p.now())
		}
	}
}

func (p *cardinalityProcessor) shutdown(context.Context) error {
	if p.stop != nil {
		close(p.stop)
		<-p.done
		p.stop = nil
	}
	return p.tel.shutdown()
}

// processMetrics measures md and passes it on untouched, except that with
// emit_metrics the figures of finished windows are appended to it.
func (p *cardinalityProcessor) processMetrics(_ context.Context, md pmetric.Metrics) (pmetric.Metrics, error) {
	p.mu.Lock()
	p.state.observe(md)
	if p.pendingWindows > 0 {
		p.pending.ResourceMetrics().MoveAndAppendTo(md.ResourceMetrics())
		p.pendingWindows = 0
	}
	p.mu.Unlock()
	return md, nil
}

// rotate closes the current window at now and publishes its figures.
func (p *cardinalityProcessor) rotate(now time.Time) *snapshot {
	p.mu.Lock()
	snap := p.state.finish(now)
	if p.cfg.EmitMetrics {
		if p.pendingWindows >= maxPendingWindows {
			p.logger.Warn("No data flowed for several windows; dropping the oldest un-emitted figures",
				zap.Int("windows", p.pendingWindows))
			p.pending.ResourceMetrics().RemoveIf(func(pmetric.ResourceMetrics) bool { return true })
			p.pendingWindows = 0
		}
		appendFigures(p.pending, snap, p.labels, p.version)
		p.pendingWindows++
	}
	p.mu.Unlock()
	p.last.Store(snap)
	if ce := p.logger.Check(zap.DebugLevel, "Cardinality window closed"); ce != nil {
		ce.Write(
			zap.Time("start", snap.start), zap.Time("end", snap.end),
			zap.Uint64("series", snap.series), zap.Bool("series_estimated", snap.seriesEstimated),
			zap.Uint64("datapoints", snap.datapoints),
			zap.Uint64("processes", snap.processes),
			zap.Uint64("critical_processes", snap.criticalProcesses))
	}
	return snap
}
