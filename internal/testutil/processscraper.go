package testutil

import (
	"context"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/receiver/hostmetricsreceiver"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"
)

// ScrapeProcesses runs the real hostmetrics process scraper (in process, with
// the error-muting switches an unprivileged run needs) and returns its first
// scrape of this machine's processes.
func ScrapeProcesses(t testing.TB) pmetric.Metrics {
	t.Helper()
	f := hostmetricsreceiver.NewFactory()
	cfg := f.CreateDefaultConfig()
	err := confmap.NewFromStringMap(map[string]any{
		"collection_interval": "1h", // one scrape at start is all we need
		"scrapers": map[string]any{"process": map[string]any{
			"mute_process_name_error": true, "mute_process_exe_error": true, "mute_process_io_error": true,
			"mute_process_user_error": true, "mute_process_cgroup_error": true,
		}},
	}).Unmarshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sink := new(consumertest.MetricsSink)
	r, err := f.CreateMetrics(context.Background(), receivertest.NewNopSettings(f.Type()), cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.Shutdown(context.Background()) }()
	deadline := time.Now().Add(time.Minute)
	for len(sink.AllMetrics()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the process scraper produced nothing in a minute")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return sink.AllMetrics()[0]
}
