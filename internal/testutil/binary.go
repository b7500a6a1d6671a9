package testutil

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// RepoRoot is the repository root, found from this source file's location.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// InCI reports whether the tests run under CI (CI=true), where a missing
// prerequisite is a failure rather than a skip.
func InCI() bool { return os.Getenv("CI") == "true" }

// OtelcolBinary returns the path of the built phoenix-otelcol: $PHOENIX_OTELCOL,
// else <repo>/bin/phoenix-otelcol. Outside CI a missing binary skips the test
// with the command that builds it; in CI it fails the test.
func OtelcolBinary(t testing.TB) string {
	t.Helper()
	return requireBinary(t, "PHOENIX_OTELCOL", "phoenix-otelcol", "make otelcol")
}

// Binary returns the path of a built Phoenix binary in <repo>/bin (for example
// "phoenix-server"), or $envVar when set, with the same skip/fail rule as
// OtelcolBinary.
func Binary(t testing.TB, envVar, name string) string {
	t.Helper()
	return requireBinary(t, envVar, name, "make build")
}

func requireBinary(t testing.TB, envVar, name, how string) string {
	t.Helper()
	path := os.Getenv(envVar)
	if path == "" {
		path = filepath.Join(RepoRoot(), "bin", name)
	}
	if st, err := os.Stat(path); err != nil || st.IsDir() {
		if InCI() {
			t.Fatalf("%s not found at %s (set %s or run `%s`)", name, path, envVar, how)
		}
		t.Skipf("%s not built at %s: run `%s` first (or set %s)", name, path, how, envVar)
	}
	return path
}
