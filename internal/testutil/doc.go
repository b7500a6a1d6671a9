// Package testutil holds the helpers that Phoenix's integration tests share:
// finding the built phoenix-otelcol, running it with a config, a real OTLP/HTTP
// sink to export into, real backends (a Prometheus server with its
// remote-write receiver, a second collector's OTLP receiver), and free
// loopback ports.
package testutil
