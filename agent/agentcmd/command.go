// Package agentcmd is the command line of phoenix-agent (cobra).
package agentcmd

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/agent"
	"github.com/phoenix-otel/phoenix/internal/buildinfo"
	"github.com/phoenix-otel/phoenix/internal/configfile"
)

// TokenEnv is read when neither --token nor --token-file is given.
const TokenEnv = "PHOENIX_AGENT_TOKEN"

// NewCommand returns the phoenix-agent root command.
func NewCommand() *cobra.Command {
	var (
		cfg       agent.Config
		tokenFile string
		labels    []string
		logLevel  string
	)
	cmd := &cobra.Command{
		Use:   "phoenix-agent",
		Short: "OpAMP agent that supervises phoenix-otelcol and applies remote configs safely",
		Long: `phoenix-agent connects to phoenix-server over OpAMP (WebSocket), runs
phoenix-otelcol on the last config that worked, and applies remote configs
safely: validate with the real binary, restart, wait for health, and roll back
with the collector's own error when the new config does not come up.`,
		Version:       buildinfo.String(),
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var lvl slog.Level
			if err := lvl.UnmarshalText([]byte(logLevel)); err != nil {
				return fmt.Errorf("--log-level %q: want debug, info, warn or error", logLevel)
			}
			cfg.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: lvl}))
			tok, err := resolveToken(cfg.Token, tokenFile)
			if err != nil {
				return err
			}
			cfg.Token = tok
			cfg.Labels, err = parseLabels(labels)
			if err != nil {
				return err
			}
			a, err := agent.New(cfg)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return a.Run(ctx)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.ServerURL, "server", "ws://127.0.0.1:4320/v1/opamp", "OpAMP server WebSocket URL (ws:// or wss://)")
	f.StringVar(&cfg.Token, "token", "", "enrollment token (prefer --token-file or $"+TokenEnv+")")
	f.StringVar(&tokenFile, "token-file", "", "file holding the enrollment token")
	f.StringVar(&cfg.CAFile, "ca-file", "", "PEM CA bundle to verify a wss:// server")
	f.StringVar(&cfg.DataDir, "data-dir", "./data/agent", "directory for the instance uid, configs and logs")
	f.StringVar(&cfg.CollectorPath, "collector", "./bin/phoenix-otelcol", "path of the phoenix-otelcol binary to supervise")
	f.StringVar(&cfg.HostName, "host-name", "", "host name to report (default: the OS host name)")
	f.StringArrayVar(&labels, "label", nil, "user label k=v, repeatable (reported as "+agent.LabelAttributePrefix+"k)")
	f.DurationVar(&cfg.ApplyTimeout, "apply-timeout", agent.DefaultApplyTimeout, "time for a new config to validate, start and become healthy before it is rolled back")
	f.DurationVar(&cfg.HealthInterval, "health-interval", agent.DefaultHealthInterval, "how often the collector's health is checked")
	f.DurationVar(&cfg.ExportFailureWindow, "export-failure-window", agent.DefaultExportFailureWindow, "an exporter counts as failing (host degraded) until this long after the collector last logged a failed export")
	f.DurationVar(&cfg.RestartBackoffInitial, "restart-backoff-initial", agent.DefaultRestartBackoffInitial, "delay before restarting a crashed collector; doubles per consecutive crash")
	f.DurationVar(&cfg.RestartBackoffMax, "restart-backoff-max", agent.DefaultRestartBackoffMax, "cap of the restart delay")
	f.DurationVar(&cfg.StopTimeout, "stop-timeout", agent.DefaultStopTimeout, "time the collector gets to exit after SIGTERM before SIGKILL")
	f.DurationVar(&cfg.HeartbeatInterval, "heartbeat-interval", 0, "OpAMP heartbeat interval (0: opamp-go default, 30s)")
	f.IntVar(&cfg.MaxLoadProcesses, "max-load-processes", agent.DefaultMaxLoadProcesses, "cap on the real processes a load simulation may start")
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	configfile.Register(cmd) // --config /etc/phoenix/agent.yaml (deploy/)
	return cmd
}

func resolveToken(token, file string) (string, error) {
	if token != "" && file != "" {
		return "", fmt.Errorf("--token and --token-file: give one, not both")
	}
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("--token-file: %w", err)
		}
		t := strings.TrimSpace(string(b))
		if t == "" {
			return "", fmt.Errorf("--token-file %s: the file is empty", file)
		}
		return t, nil
	}
	if token != "" {
		return token, nil
	}
	return os.Getenv(TokenEnv), nil
}

func parseLabels(in []string) (map[string]string, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(in))
	for _, l := range in {
		k, v, ok := strings.Cut(l, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("--label %q: want key=value", l)
		}
		out[k] = strings.TrimSpace(v)
	}
	return out, nil
}

// Execute runs the command with args and returns the process exit code.
func Execute(ctx context.Context, args []string) int {
	cmd := NewCommand()
	cmd.SetArgs(args)
	if err := cmd.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "phoenix-agent:", err)
		return 1
	}
	return 0
}
