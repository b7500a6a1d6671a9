package harness

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Backend is where deployments export and where the tests count: a real
// Prometheus, written to either directly (destination prometheusremotewrite,
// when the rendered exporter keeps process identity) or through a relay, a
// second collector whose OTLP receiver forwards to the same Prometheus with
// resource_to_telemetry_conversion on. Either way every resource attribute
// (host.name, process.pid, process.executable.name, ...) is a label in
// Prometheus, so the counting below is the same.
type Backend struct {
	Prom *Prometheus
	// Relay is the second collector, nil when deployments write directly.
	Relay *Proc
	// Destination is the --destination value deployments use.
	Destination string
	// Path says in words how data reaches Prometheus, for the report.
	Path string
}

// relayConfig forwards OTLP/HTTP to Prometheus remote write, turning
// resource attributes into labels; one consumer keeps each series' samples
// in order.
const relayConfig = `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:%d
exporters:
  prometheus_remote_write:
    endpoint: %s
    resource_to_telemetry_conversion:
      enabled: true
    remote_write_queue:
      num_consumers: 1
    tls:
      insecure: true
service:
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
  pipelines:
    metrics:
      receivers: [otlp]
      exporters: [prometheus_remote_write]
`

// NewBackend decides how deployments reach prom: directly when the catalog
// renders the remote-write destination with process identity (asked through
// `phoenix pipeline show`), else through a relay collector started here.
func NewBackend(ctx context.Context, dir string, bins Bins, cli *CLI, prom *Prometheus) (*Backend, error) {
	direct := "prometheusremotewrite=" + prom.WriteURL()
	r := cli.Run(ctx, "pipeline", "show", "process-baseline-v1", "--destination", direct)
	if r.Code != 0 {
		return nil, fmt.Errorf("phoenix pipeline show: exit %d: %s", r.Code, r.Stderr)
	}
	if rendersIdentity(r.Stdout) {
		return &Backend{Prom: prom, Destination: direct, Path: "destination prometheusremotewrite, written directly into " + prom.Version}, nil
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	cfg := filepath.Join(dir, "relay-collector.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, relayConfig, port, prom.WriteURL()), 0o600); err != nil {
		return nil, err
	}
	p, err := Start(dir, "relay-collector", bins.Otelcol, nil, "--config="+cfg)
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	err = WaitUntil(wctx, 200*time.Millisecond, func() (bool, string) {
		if p.Exited() {
			return false, "exited: " + p.Log(2000)
		}
		c, err := dial("127.0.0.1:" + strconv.Itoa(port))
		if err != nil {
			return false, err.Error()
		}
		c.Close()
		return true, ""
	})
	if err != nil {
		p.Stop(10 * time.Second)
		return nil, fmt.Errorf("relay collector: %w", err)
	}
	return &Backend{Prom: prom, Relay: p, Destination: fmt.Sprintf("otlphttp=http://127.0.0.1:%d", port),
		Path: "destination otlphttp into a second phoenix-otelcol (OTLP receiver -> prometheus_remote_write with resource_to_telemetry_conversion) into " + prom.Version +
			" (the catalog's prometheusremotewrite destination does not render resource attributes as labels in this tree)"}, nil
}

// rendersIdentity reports whether a rendered remote-write exporter turns
// resource attributes into labels: resource_to_telemetry_conversion on, or
// resource_constant_labels including every attribute ("*").
func rendersIdentity(yaml string) bool {
	if i := strings.Index(yaml, "resource_to_telemetry_conversion"); i >= 0 && strings.Contains(yaml[i:min(len(yaml), i+120)], "enabled: true") {
		return true
	}
	i := strings.Index(yaml, "resource_constant_labels")
	return i >= 0 && strings.Contains(yaml[i:min(len(yaml), i+120)], `"*"`) || i >= 0 && strings.Contains(yaml[i:min(len(yaml), i+120)], "'*'")
}

// HostSelector selects the process series of one host.
func HostSelector(host string) string {
	return fmt.Sprintf(`{__name__=~"process_.+",host_name=%q}`, host)
}

// Stop ends the relay, if any.
func (b *Backend) Stop() {
	if b.Relay != nil {
		b.Relay.Stop(10 * time.Second)
	}
}
