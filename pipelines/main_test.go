package pipelines

import (
	"os"
	"testing"

	"github.com/phoenix-otel/phoenix/loadgen"
)

// TestMain lets the spawner re-execute this test binary as real load
// processes (see realproc_test.go).
func TestMain(m *testing.M) {
	loadgen.RunChildIfRequested()
	os.Exit(m.Run())
}
