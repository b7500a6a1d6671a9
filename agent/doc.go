// Package agent is phoenix-agent: the OpAMP client that runs on every host
// and supervises phoenix-otelcol.
//
// It applies remote configs safely (validate with the real binary, restart,
// wait for health, roll back to the last working config on failure), restarts
// a crashed collector with capped backoff, keeps the collector running while
// the server is away, points the collector's own telemetry at the endpoint
// the server offers, and runs real-process load simulations through the
// loadgen spawner. See README.md for the flags and the data-directory layout.
package agent
