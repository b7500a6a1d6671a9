package acceptance

import "testing"

// TestAcceptance runs AT-P01..AT-P13 in an order that lets the shared
// experiment (started at set-up, see experiment_test.go) run its minutes
// while the other tests run: the experiment tests come last. One test:
// go test ./acceptance -run 'TestAcceptance/AT-P02'.
func TestAcceptance(t *testing.T) {
	for _, tc := range []struct {
		id string
		fn func(*testing.T)
	}{
		{"AT-P06", atP06InvalidInputNamesLineOrField},
		{"AT-P11", atP11FailedDeploymentKeepsPreviousConfig},
		{"AT-P12", atP12RollbackToVersion},
		{"AT-P01", atP01BaselineDeployedAndArriving},
		{"AT-P02", atP02PriorityKeepsCritical},
		{"AT-P03", atP03TopKCutsHighCardinality},
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
