package cardinalityprocessor

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// The warm path skips a resource whose fingerprint it saw in this window,
// looked up first at the resource's position in the last batch, and the
// fingerprint hashes short strings inline. Both are shortcuts: a resource
// that keeps its position and its resource attributes but changes a data
// point's attribute value (by one byte, in every length class of the string
// hash), gains a data point or a metric, must still count exactly what the
// brute force counts.
func TestShortcutsCountLikeTheFullWalk(t *testing.T) {
	values := []string{"u", "us", "usr", "user", "user7", "userXYZ", "user-mode", "user-mode-one-x", "user-mode-one-xyz", "user-mode-one-two-three-four"}
	// change returns the i-th variant of a scrape: the resource at position
	// i%procs differs from the template in one way.
	change := func(md pmetric.Metrics, i int) {
		rms := md.ResourceMetrics()
		rm := rms.At(i % rms.Len())
		ms := rm.ScopeMetrics().At(0).Metrics()
		switch i % 4 {
		case 0: // a data-point attribute value, one byte off in the middle
			v := values[(i/4)%len(values)]
			b := []byte(v)
			b[len(b)/2] ^= byte(1 + i%7)
			ms.At(0).Sum().DataPoints().At(0).Attributes().PutStr("state", string(b))
		case 1: // a new data point in a known metric
			dp := ms.At(3).Sum().DataPoints().AppendEmpty()
			dp.Attributes().PutStr("direction", fmt.Sprintf("dir%d", i))
		case 2: // a new metric in a known resource
			m := ms.AppendEmpty()
			m.SetName(fmt.Sprintf("process.extra.%d", i%3))
			m.SetEmptyGauge().DataPoints().AppendEmpty().SetIntValue(1)
		case 3: // an int data-point attribute, one off
			ms.At(1).Sum().DataPoints().At(0).Attributes().PutInt("n", int64(i))
		}
	}
	cfg := testConfig()
	cfg.TopOffenders = maxOffenders
	p := newTestProcessor(t, cfg)
	template := processBatch(20, 1, defaultNames)
	for _, v := range values { // every length class seen unchanged first
		md := pmetric.NewMetrics()
		template.CopyTo(md)
		md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Sum().DataPoints().At(0).Attributes().PutStr("state", v)
		_, err := p.processMetrics(context.Background(), md)
		require.NoError(t, err)
	}
	p.rotate(time.Now())
	for window := 0; window < 3; window++ {
		bf := newBruteForce()
		for i := 0; i < 80; i++ {
			for _, changed := range []bool{false, true} { // the same scrape, then a variant
				md := pmetric.NewMetrics()
				template.CopyTo(md)
				if changed {
					change(md, window*80+i)
				}
				bf.observe(md)
				_, err := p.processMetrics(context.Background(), md)
				require.NoError(t, err)
			}
		}
		snap := p.rotate(time.Now())
		require.Equal(t, uint64(bf.datapoints), snap.datapoints, "data points, window %d", window)
		require.Equal(t, uint64(len(bf.series)), snap.series, "series, window %d", window)
		perMetric := map[string]uint64{}
		for _, nc := range snap.seriesByMetric {
			perMetric[nc.name] = nc.count
		}
		wantPerMetric := map[string]uint64{}
		for name, set := range bf.perMetric {
			wantPerMetric[name] = uint64(len(set))
		}
		require.Equal(t, wantPerMetric, perMetric, "series per metric, window %d", window)
		gotKeys := map[string]uint64{}
		for _, o := range snap.offenders {
			gotKeys[o.scope+"/"+o.key] = o.values
		}
		wantKeys := map[string]uint64{}
		for id, set := range bf.keyValues {
			wantKeys[id] = uint64(len(set))
		}
		require.Equal(t, wantKeys, gotKeys, "values per key, window %d", window)
	}
}
