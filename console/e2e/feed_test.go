package e2e

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"

	"github.com/phoenix-otel/phoenix/opamp-server/agentsim"
)

// variantFigures is what one variant's cardinality processors would count.
type variantFigures struct {
	pipeline string  // phoenix.pipeline (the variant's template)
	share    float64 // output series / input series
}

// feedOwnMetrics posts a simulated agent's own metrics to the OTLP ingest
// its own_metrics offer names, with the offered credential, every 200 ms
// until the test ends: per variant, the figures a collector running both
// variants on one receiver would report (the same input, each variant's
// share of it as output, with 1% noise; critical processes all kept). The
// server turns them into samples at its resolution, as it does a real
// collector's, without the cardinality processor's 1-minute window.
func feedOwnMetrics(t *testing.T, a *agentsim.Agent, seed uint64, variants map[string]variantFigures) {
	t.Helper()
	waitFor(t, 30*time.Second, "own_metrics offer to "+a.Host(), func() bool { return a.OwnMetrics() != nil })
	om := a.OwnMetrics()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	rng := rand.New(rand.NewPCG(seed, seed))
	go func() {
		defer close(done)
		tk := time.NewTicker(200 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tk.C:
			}
			md := pmetric.NewMetrics()
			sm := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty()
			now := pcommon.NewTimestampFromTime(time.Now())
			input := 700 + rng.NormFloat64()*20
			gauge := func(name, pipeline, stage, variant string, v float64) {
				m := sm.Metrics().AppendEmpty()
				m.SetName(name)
				dp := m.SetEmptyGauge().DataPoints().AppendEmpty()
				dp.SetDoubleValue(v)
				dp.SetTimestamp(now)
				dp.Attributes().PutStr("phoenix.pipeline", pipeline)
				dp.Attributes().PutStr("phoenix.stage", stage)
				dp.Attributes().PutStr("phoenix.variant", variant)
			}
			for name, v := range variants {
				out := input * v.share * (1 + rng.NormFloat64()*0.01)
				gauge("phoenix.cardinality.series", v.pipeline, "input", name, input)
				gauge("phoenix.cardinality.series", v.pipeline, "output", name, out)
				gauge("phoenix.cardinality.datapoints", v.pipeline, "input", name, input*7)
				gauge("phoenix.cardinality.datapoints", v.pipeline, "output", name, out*7)
				gauge("phoenix.cardinality.processes", v.pipeline, "input", name, 100)
				gauge("phoenix.cardinality.processes", v.pipeline, "output", name, 100)
				gauge("phoenix.cardinality.critical_processes", v.pipeline, "input", name, 5)
				gauge("phoenix.cardinality.critical_processes", v.pipeline, "output", name, 5)
			}
			body, err := pmetricotlp.NewExportRequestFromMetrics(md).MarshalProto()
			if err != nil {
				t.Error(err)
				return
			}
			req, _ := http.NewRequestWithContext(ctx, "POST", om.GetDestinationEndpoint(), bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/x-protobuf")
			for _, h := range om.GetHeaders().GetHeaders() {
				req.Header.Set(h.GetKey(), h.GetValue())
			}
			if resp, err := http.DefaultClient.Do(req); err == nil {
				if resp.StatusCode >= 300 {
					t.Logf("ingest of %s: %s", a.Host(), resp.Status)
				}
				resp.Body.Close()
			}
		}
	}()
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within %s", what, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
