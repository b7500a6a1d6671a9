package topkprocessor_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/phoenix-otel/phoenix/components/processor/topkprocessor"
	"github.com/phoenix-otel/phoenix/components/receiver/loadgenreceiver"
	"github.com/phoenix-otel/phoenix/pipelines"
)

var churnHour = flag.Bool("churn-hour", false, "TestSeriesStayPutInTopK: play an hour and a half (542 scrapes: nine full 10-minute windows, one full hour) instead of 20 minutes")

// churnRun plays a loadgen profile (logical 10 s scrapes) through topk,
// configured as the catalog's process-topk-v1 renders it with its defaults
// (then edit), and returns the input's and the output's series by scrape.
func churnRun(t *testing.T, profile string, churnRate float64, scrapes int, edit func(*topkprocessor.Config)) (in, out []map[string]bool) {
	t.Helper()
	tmpl, err := pipelines.Get(pipelines.TemplateTopK)
	if err != nil {
		t.Fatal(err)
	}
	def := tmpl.Defaults()
	f := topkprocessor.NewFactory()
	cfg := f.CreateDefaultConfig().(*topkprocessor.Config)
	cfg.TopK = def["k"].(int)
	cfg.CriticalProcesses = def["critical_processes"].([]string)
	if edit != nil {
		edit(cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sink := &scrapeSink{}
	proc, err := f.CreateMetrics(ctx, processortest.NewNopSettings(f.Type()), cfg, sink.out())
	if err != nil {
		t.Fatal(err)
	}
	rf := loadgenreceiver.NewFactory()
	rcfg := rf.CreateDefaultConfig().(*loadgenreceiver.Config)
	rcfg.Profile = profile
	rcfg.ChurnRate = churnRate
	rcfg.HostName = "churn-host"
	rcfg.CollectionInterval = time.Millisecond
	rcfg.InitialDelay = 0
	rcfg.Step = 10 * time.Second
	done := make(chan struct{})
	tee := consumerFunc(func(ctx context.Context, md pmetric.Metrics) error {
		if len(sink.in) >= scrapes {
			return nil
		}
		sink.in = append(sink.in, seriesOf(md))
		err := proc.ConsumeMetrics(ctx, md)
		if len(sink.in) == scrapes {
			close(done)
		}
		return err
	})
	rcv, err := rf.CreateMetrics(ctx, receivertest.NewNopSettings(rf.Type()), rcfg, tee)
	if err != nil {
		t.Fatal(err)
	}
	if err := proc.Start(ctx, componentHost{}); err != nil {
		t.Fatal(err)
	}
	if err := rcv.Start(ctx, componentHost{}); err != nil {
		t.Fatal(err)
	}
	<-done
	if err := rcv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := proc.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	return sink.in, sink.outs
}

type componentHost struct{}

func (componentHost) GetExtensions() map[component.ID]component.Component { return nil }

type consumerFunc func(context.Context, pmetric.Metrics) error

func (f consumerFunc) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }
func (f consumerFunc) ConsumeMetrics(ctx context.Context, md pmetric.Metrics) error {
	return f(ctx, md)
}

type scrapeSink struct {
	in, outs []map[string]bool
}

func (s *scrapeSink) out() consumer.Metrics {
	return consumerFunc(func(_ context.Context, md pmetric.Metrics) error {
		s.outs = append(s.outs, seriesOf(md))
		return nil
	})
}

// seriesOf is the set of series of one scrape, as a backend identifies
// them: resource attributes, metric name, data-point attributes.
func seriesOf(md pmetric.Metrics) map[string]bool {
	out := map[string]bool{}
	for _, rm := range md.ResourceMetrics().All() {
		ra, _ := json.Marshal(rm.Resource().Attributes().AsRaw())
		for _, sm := range rm.ScopeMetrics().All() {
			for _, m := range sm.Metrics().All() {
				var dps pmetric.NumberDataPointSlice
				switch m.Type() {
				case pmetric.MetricTypeSum:
					dps = m.Sum().DataPoints()
				case pmetric.MetricTypeGauge:
					dps = m.Gauge().DataPoints()
				default:
					continue
				}
				for _, dp := range dps.All() {
					key := string(ra) + "|" + m.Name()
					for k, v := range dp.Attributes().All() { // the scraper's points carry one or none
						key += "|" + k + "=" + v.AsString()
					}
					out[key] = true
				}
			}
		}
	}
	return out
}

// windowRatio is distinct series ÷ mean series per scrape over windows of w
// scrapes after skip: the mean and the worst window.
func windowRatio(s []map[string]bool, skip, w int) (mean, worst float64, n int) {
	for i := skip; i+w <= len(s); i += w {
		distinct := map[string]bool{}
		sum := 0
		for _, sc := range s[i : i+w] {
			for k := range sc {
				distinct[k] = true
			}
			sum += len(sc)
		}
		r := float64(len(distinct)) / (float64(sum) / float64(w))
		mean += r
		worst = max(worst, r)
		n++
	}
	if n > 0 {
		mean /= float64(n)
	}
	return mean, worst, n
}

func meanSeries(s []map[string]bool, skip int) float64 {
	sum := 0
	for _, sc := range s[skip:] {
		sum += len(sc)
	}
	return float64(sum) / float64(max(len(s)-skip, 1))
}

// churnFigure is one line of the README's churn table.
func churnFigure(name string, s []map[string]bool, skip int) string {
	m10, w10, _ := windowRatio(s, skip, 60)
	line := fmt.Sprintf("%s: %.0f series/scrape, 10 min %.2f× (worst %.2f×)", name, meanSeries(s, skip), m10, w10)
	if m60, w60, n := windowRatio(s, skip, 360); n > 0 {
		line += fmt.Sprintf(", 1 h %.2f× (worst %.2f×)", m60, w60)
	}
	return line
}

// TestSeriesStayPutInTopK is issue 12's goal for topk, on the loadgen
// receiver's profiles played through the processor as the catalog's
// process-topk-v1 configures it (k 10, the default critical list, every
// other knob at its default): distinct series over every 10-minute window
// (60 scrapes of 10 s) within 1.2x the series per scrape. The built
// collector measures the same in pipelines.TestSeriesStayPut.
// Every window is held to the goal, the first one too (loadgen's initial
// churners have steady-state ages, not the ages of services).
func TestSeriesStayPutInTopK(t *testing.T) {
	scrapes := 2 + 2*60 // two 10-minute windows
	if *churnHour {
		scrapes = 2 + 9*60
	}
	for _, c := range []struct {
		profile string
		churn   float64
	}{{"realistic", 0}, {"process-churn", 1}} {
		in, out := churnRun(t, c.profile, c.churn, scrapes, nil)
		t.Logf("%s\n  %s\n  %s", c.profile, churnFigure("input", in, 2), churnFigure("topk", out, 2))
		for w, i := 0, 2; i+60 <= len(out); w, i = w+1, i+60 {
			r, _, _ := windowRatio(out[i:i+60], 0, 60)
			if r > 1.2 {
				t.Errorf("%s: window %d (scrapes %d-%d): distinct series %.2fx the series per scrape, goal <= 1.2x", c.profile, w, i, i+59, r)
			}
		}
	}
}
