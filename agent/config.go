package agent

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"time"
)

// Config is everything phoenix-agent needs to run. The CLI fills it from
// flags; tests build it directly.
type Config struct {
	// ServerURL is the OpAMP WebSocket endpoint, e.g. ws://127.0.0.1:4320/v1/opamp.
	ServerURL string
	// Token is the enrollment token, sent as "Authorization: Bearer <token>".
	Token string
	// CAFile, when set, is a PEM bundle used to verify a wss:// server.
	CAFile string
	// DataDir holds the instance uid, the last working config and logs.
	DataDir string
	// CollectorPath is the phoenix-otelcol binary to supervise.
	CollectorPath string
	// HostName overrides os.Hostname() in the agent description and telemetry.
	HostName string
	// Labels are user labels, reported as non-identifying attributes.
	Labels map[string]string

	// ApplyTimeout bounds validate + restart + health of one remote config.
	ApplyTimeout time.Duration
	// HealthInterval is how often the running collector's health is polled.
	HealthInterval time.Duration
	// RestartBackoffInitial and RestartBackoffMax bound the delay before a
	// crashed collector is restarted; the delay doubles per consecutive crash.
	RestartBackoffInitial time.Duration
	RestartBackoffMax     time.Duration
	// StopTimeout is how long the collector gets to exit after SIGTERM
	// before it is killed.
	StopTimeout time.Duration
	// HeartbeatInterval is the OpAMP heartbeat period (0 = opamp-go default).
	HeartbeatInterval time.Duration
	// MaxLoadProcesses caps the real processes a load simulation may start.
	MaxLoadProcesses int
	// ExportFailureWindow: the collector's exporters count as failing for
	// this long after the last "Exporting failed" line in its log (it logs
	// failures, not successes), and the host reads degraded.
	ExportFailureWindow time.Duration

	Logger *slog.Logger
}

// Defaults for the optional fields.
const (
	DefaultApplyTimeout          = 30 * time.Second
	DefaultHealthInterval        = 5 * time.Second
	DefaultRestartBackoffInitial = time.Second
	DefaultRestartBackoffMax     = time.Minute
	DefaultStopTimeout           = 10 * time.Second
	DefaultMaxLoadProcesses      = 2000
	DefaultExportFailureWindow   = time.Minute
)

func (c *Config) setDefaults() {
	if c.ApplyTimeout == 0 {
		c.ApplyTimeout = DefaultApplyTimeout
	}
	if c.HealthInterval == 0 {
		c.HealthInterval = DefaultHealthInterval
	}
	if c.RestartBackoffInitial == 0 {
		c.RestartBackoffInitial = DefaultRestartBackoffInitial
	}
	if c.RestartBackoffMax == 0 {
		c.RestartBackoffMax = DefaultRestartBackoffMax
	}
	if c.StopTimeout == 0 {
		c.StopTimeout = DefaultStopTimeout
	}
	if c.MaxLoadProcesses == 0 {
		c.MaxLoadProcesses = DefaultMaxLoadProcesses
	}
	if c.ExportFailureWindow == 0 {
		c.ExportFailureWindow = DefaultExportFailureWindow
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if c.HostName == "" {
		c.HostName, _ = os.Hostname()
	}
}

// Validate reports the first thing wrong with the configuration, naming the
// flag it comes from.
func (c *Config) Validate() error {
	var errs []error
	if c.ServerURL == "" {
		errs = append(errs, errors.New("--server: the OpAMP server URL is required (e.g. ws://127.0.0.1:4320/v1/opamp)"))
	} else if u, err := url.Parse(c.ServerURL); err != nil {
		errs = append(errs, fmt.Errorf("--server %q: %w", c.ServerURL, err))
	} else if u.Scheme != "ws" && u.Scheme != "wss" {
		errs = append(errs, fmt.Errorf("--server %q: scheme must be ws or wss, not %q", c.ServerURL, u.Scheme))
	} else if u.Host == "" {
		errs = append(errs, fmt.Errorf("--server %q: no host", c.ServerURL))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("--data-dir: a data directory is required"))
	}
	if c.CollectorPath == "" {
		errs = append(errs, errors.New("--collector: the phoenix-otelcol binary path is required"))
	} else if st, err := os.Stat(c.CollectorPath); err != nil {
		errs = append(errs, fmt.Errorf("--collector %q: %w", c.CollectorPath, err))
	} else if st.IsDir() || st.Mode()&0o111 == 0 {
		errs = append(errs, fmt.Errorf("--collector %q: not an executable file", c.CollectorPath))
	}
	if c.CAFile != "" {
		if _, err := os.Stat(c.CAFile); err != nil {
			errs = append(errs, fmt.Errorf("--ca-file %q: %w", c.CAFile, err))
		}
	}
	for name, d := range map[string]time.Duration{
		"--apply-timeout":           c.ApplyTimeout,
		"--health-interval":         c.HealthInterval,
		"--restart-backoff-initial": c.RestartBackoffInitial,
		"--restart-backoff-max":     c.RestartBackoffMax,
		"--stop-timeout":            c.StopTimeout,
		"--heartbeat-interval":      c.HeartbeatInterval,
	} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("%s: must not be negative, got %s", name, d))
		}
	}
	if c.RestartBackoffMax > 0 && c.RestartBackoffInitial > c.RestartBackoffMax {
		errs = append(errs, fmt.Errorf("--restart-backoff-initial (%s) must not exceed --restart-backoff-max (%s)", c.RestartBackoffInitial, c.RestartBackoffMax))
	}
	if c.MaxLoadProcesses < 0 {
		errs = append(errs, fmt.Errorf("--max-load-processes: must not be negative, got %d", c.MaxLoadProcesses))
	}
	for k := range c.Labels {
		if k == "" {
			errs = append(errs, errors.New("--label: empty label key"))
		}
	}
	return errors.Join(errs...)
}
