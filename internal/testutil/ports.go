package testutil

import (
	"net"
	"testing"
)

// FreePort asks the OS for a free TCP port on 127.0.0.1. The port is released
// before returning, so a caller must bind it soon; good enough for tests.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
