//go:build !linux

package cardinalityprocessor

// threadCPUNanos: no thread CPU clock here, so no CPU-time counters.
func threadCPUNanos() (int64, bool) { return 0, false }
