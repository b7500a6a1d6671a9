// Package acceptance is Phoenix's acceptance suite: the PRD's tests AT-P01..
// AT-P13, each run against the real parts (phoenix-server, phoenix-agent,
// the built phoenix-otelcol with the real hostmetrics process scraper, real
// processes from the loadgen spawner, a real Prometheus as the backend) and
// driven through the real bin/phoenix CLI. `make acceptance` runs it and
// writes acceptance/report/report.{md,json}. See README.md.
package acceptance
