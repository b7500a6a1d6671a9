package cardinalityprocessor

import (
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/phoenix-otel/phoenix/components/internal/processmetrics"
)

// Process recognition, identity and critical matching come from the shared
// processmetrics package, so this processor counts processes exactly as the
// topk and adaptive filter processors see them.

// identifyProcess returns the identity of a process resource (host + pid +
// start time, as processmetrics defines it) and false for other resources.
func identifyProcess(rm pmetric.ResourceMetrics, sample *processmetrics.Sample) (processmetrics.Identity, bool) {
	attrs := rm.Resource().Attributes()
	if !processmetrics.IsProcessResource(attrs) {
		return 0, false
	}
	processmetrics.ReadSample(rm, sample)
	return processmetrics.Identify(attrs, sample.StartTime), true
}

// criticalName is the name a critical process is reported under: its
// executable name, else the pattern that matched it (index i, from
// CriticalMatcher.MatchIndex). ok is false when the process is not critical
// (i < 0). The name aliases pdata memory.
func criticalName(m *processmetrics.CriticalMatcher, rm pmetric.ResourceMetrics, i int) (string, bool) {
	attrs := rm.Resource().Attributes()
	if i < 0 {
		return "", false
	}
	if name := processmetrics.ExecutableName(attrs); name != "" {
		return name, true
	}
	return m.Pattern(i), true
}
