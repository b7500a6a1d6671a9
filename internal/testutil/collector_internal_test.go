package testutil

import "testing"

// Only a config that names its own-metrics destination keeps it; the
// others get level none instead of the collider on :8888.
func TestSetsOwnMetrics(t *testing.T) {
	for cfg, want := range map[string]bool{
		"receivers: {}\nservice:\n  pipelines: {}\n":                                 false,
		"service:\n  telemetry:\n    logs:\n      level: debug\n":                    false,
		"service:\n  telemetry:\n    metrics:\n      level: none\n":                  true,
		"service:\n  telemetry:\n    metrics:\n      readers:\n        - pull: {}\n": true,
		"service: [\n": true,
	} {
		if got := setsOwnMetrics(cfg); got != want {
			t.Errorf("setsOwnMetrics(%q) = %v, want %v", cfg, got, want)
		}
	}
}
