package loadgen

import (
	"os"
	"testing"
)

// TestMain lets the spawner re-execute this test binary as load children.
func TestMain(m *testing.M) {
	RunChildIfRequested()
	os.Exit(m.Run())
}
