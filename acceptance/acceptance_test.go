package acceptance

import "testing"

// TestAcceptance runs AT-P01..AT-P13 in an order that lets the shared
// experiment (see experiment_test.go) run its minutes while the other tests
// run: it starts after AT-P03 (whose topk output would count the
// experiment's critical services, kept on top of K) and the experiment
// tests come last. One test: go test ./acceptance -run 'TestAcceptance/AT-P02'.
func TestAcceptance(t *testing.T) {
	t.Run("AT-P03", atP03TopKCutsHighCardinality)
	startBackground()
	for _, tc := range []struct {
		id string
		fn func(*testing.T)
	}{
		{"AT-P06", atP06InvalidInputNamesLineOrField},
		{"AT-P11", atP11FailedDeploymentKeepsPreviousConfig},
		{"AT-P12", atP12RollbackToVersion},
		{"AT-P01", atP01BaselineDeployedAndArriving},
		{"AT-P02", atP02PriorityKeepsCritical},
		{"AT-P08", atP08ConsoleDeployedPipelines},
		{"AT-P07", atP07ExperimentBadInput},
		{"AT-P04", atP04ExperimentCompare},
		{"AT-P05", atP05ExperimentCriticalRetention},
		{"AT-P09", atP09ConsoleExperiment},
		{"AT-P10", atP10PromoteAndOverhead},
		{"AT-P13", atP13Packages},
	} {
		t.Run(tc.id, tc.fn)
	}
}
