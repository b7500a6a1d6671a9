package loadgenreceiver

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"
)

func TestReceiverEmitsEachInterval(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.CollectionInterval = 20 * time.Millisecond
	cfg.Profile = "realistic"
	cfg.ProcessCount = 60
	cfg.HostName = "host-a"
	sink := new(consumertest.MetricsSink)
	f := NewFactory()
	r, err := f.CreateMetrics(context.Background(), receivertest.NewNopSettings(f.Type()), cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.Shutdown(context.Background()) }()
	for len(sink.AllMetrics()) < 3 {
		time.Sleep(10 * time.Millisecond)
	}
	for i, md := range sink.AllMetrics()[:3] {
		if md.ResourceMetrics().Len() != 60 {
			t.Fatalf("batch %d: %d resources, want 60", i, md.ResourceMetrics().Len())
		}
		if md.DataPointCount() != 60*7 {
			t.Fatalf("batch %d: %d data points, want 420", i, md.DataPointCount())
		}
		host, _ := md.ResourceMetrics().At(0).Resource().Attributes().Get("host.name")
		if host.Str() != "host-a" {
			t.Fatalf("host.name %q", host.Str())
		}
	}
	// Cumulative CPU grows between batches for the same pid.
	first, third := cpuByPID(sink.AllMetrics()[0]), cpuByPID(sink.AllMetrics()[2])
	grew := 0
	for pid, v := range first {
		if w, ok := third[pid]; ok {
			if w < v {
				t.Fatalf("pid %d: cpu time went down %v -> %v", pid, v, w)
			}
			if w > v {
				grew++
			}
		}
	}
	if grew == 0 {
		t.Fatal("no process's cpu time grew")
	}
}

func TestReceiverStopsAfterDuration(t *testing.T) {
	g, err := newGenerator(&Config{ControllerConfig: createDefaultConfig().(*Config).ControllerConfig, Profile: "realistic", Seed: 1}, receivertest.NewNopSettings(componentType))
	if err != nil {
		t.Fatal(err)
	}
	g.cfg.CollectionInterval = time.Second
	g.profile.Duration = 2 * time.Second
	_ = g.start(context.Background(), nil)
	for i, want := range []int{100, 100, 0, 0} {
		md, _ := g.scrape(context.Background())
		if md.ResourceMetrics().Len() != want {
			t.Fatalf("scrape %d: %d resources, want %d", i, md.ResourceMetrics().Len(), want)
		}
	}
}

// With step set, one scrape advances the load by step and stamps logical
// time: 3 scrapes at step 10s span 20 s of data timestamps, whatever the
// wall clock did.
func TestReceiverStepCompressesTime(t *testing.T) {
	g, err := newGenerator(&Config{ControllerConfig: createDefaultConfig().(*Config).ControllerConfig, Profile: "realistic", Seed: 1, Step: 10 * time.Second}, receivertest.NewNopSettings(componentType))
	if err != nil {
		t.Fatal(err)
	}
	g.cfg.CollectionInterval = time.Second
	_ = g.start(context.Background(), nil)
	var stamps []pcommon.Timestamp
	for range 3 {
		md, _ := g.scrape(context.Background())
		stamps = append(stamps, md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Sum().DataPoints().At(0).Timestamp())
	}
	if d := time.Duration(stamps[2] - stamps[0]); d != 20*time.Second || stamps[1]-stamps[0] != stamps[2]-stamps[1] {
		t.Fatalf("timestamps %v: want 10 s apart", stamps)
	}
}

func cpuByPID(md pmetric.Metrics) map[int64]float64 {
	out := map[int64]float64{}
	for i := 0; i < md.ResourceMetrics().Len(); i++ {
		rm := md.ResourceMetrics().At(i)
		pid, _ := rm.Resource().Attributes().Get("process.pid")
		ms := rm.ScopeMetrics().At(0).Metrics()
		for j := 0; j < ms.Len(); j++ {
			if ms.At(j).Name() == "process.cpu.time" {
				dps := ms.At(j).Sum().DataPoints()
				for k := 0; k < dps.Len(); k++ {
					out[pid.Int()] += dps.At(k).DoubleValue()
				}
			}
		}
	}
	return out
}
