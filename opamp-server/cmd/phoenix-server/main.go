// Command phoenix-server is Phoenix's control plane: the OpAMP server of the
// phoenix-agents, the pipeline deployer and the REST + WebSocket API.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/internal/buildinfo"
	"github.com/phoenix-otel/phoenix/internal/configfile"
	"github.com/phoenix-otel/phoenix/opamp-server/otlpingest"
	"github.com/phoenix-otel/phoenix/opamp-server/server"
	"github.com/phoenix-otel/phoenix/opamp-server/store"
	"github.com/phoenix-otel/phoenix/pipelines"
)

func main() {
	if err := newCommand().Execute(); err != nil {
		os.Exit(1)
	}
}

func newCommand() *cobra.Command {
	var cfg server.Config
	var logLevel, pprofAddr, memLimit, catalogDir string
	cmd := &cobra.Command{
		Use:   "phoenix-server",
		Short: "Phoenix control plane: OpAMP fleet management, pipeline deployments and the REST API",
		Long: `phoenix-server drives phoenix-agents over OpAMP (WebSocket or plain-HTTP polling on
--opamp-addr, path /v1/opamp), deploys catalog pipelines to them with versions and
rollback, and serves the REST API (/api/v1), the event stream (/api/v1/stream),
the OTLP/HTTP ingest of the agents' own metrics (/v1/metrics), /healthz, /readyz
and Prometheus /metrics on --http-addr.

On first start it writes an API token (for the phoenix CLI) and an enrollment
token (for agents) into the data directory and prints where they are.`,
		Version:       buildinfo.String(),
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var lvl slog.Level
			if err := lvl.UnmarshalText([]byte(logLevel)); err != nil {
				return fmt.Errorf("--log-level %q: want debug, info, warn or error", logLevel)
			}
			cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
			if err := setMemoryLimit(memLimit); err != nil {
				return err
			}
			if catalogDir != "" {
				// Checked before anything listens: a bad template stops
				// the start, naming its file and field.
				if err := pipelines.LoadCatalogDir(catalogDir); err != nil {
					fmt.Fprintln(os.Stderr, "phoenix-server:", err)
					return err
				}
				cfg.Logger.Info("catalog extensions loaded", "dir", catalogDir, "templates", strings.Join(pipelines.Names(), ","))
			}
			stopPprof, _, err := startPprof(pprofAddr, cfg.Logger)
			if err != nil {
				return err
			}
			defer stopPprof()
			return run(cmd.Context(), cfg)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.OpAMPAddr, "opamp-addr", ":4320", "OpAMP listen address (path /v1/opamp)")
	f.StringVar(&cfg.HTTPAddr, "http-addr", ":8080", "REST API, stream, OTLP ingest and metrics listen address")
	f.StringVar(&cfg.DataDir, "data-dir", "./data", "directory of the SQLite database and the token files")
	f.StringVar(&cfg.StoreDSN, "store", envOr("PHOENIX_STORE_DSN", ""), "store: empty for SQLite in --data-dir, sqlite:<path>, or a PostgreSQL DSN postgres://user:pass@host:5432/db (env PHOENIX_STORE_DSN)")
	f.StringVar(&cfg.TLSCertFile, "tls-cert", "", "PEM certificate: serve TLS on both ports (with --tls-key)")
	f.StringVar(&cfg.TLSKeyFile, "tls-key", "", "PEM private key of --tls-cert")
	f.StringVar(&cfg.APITokenFile, "api-token-file", "", "API bearer token file, created on first start (default <data-dir>/api-token)")
	f.StringVar(&cfg.EnrollmentTokenFile, "enrollment-token-file", "", "agent enrollment token file, created on first start (default <data-dir>/enrollment-token)")
	f.StringVar(&cfg.SecretsKeyFile, "secrets-key-file", "", "AES-256 key that seals destination secrets at rest, created 0600 on first start; replicas sharing a database share it (default <data-dir>/secrets.key)")
	f.IntVar(&cfg.IngestLimits.MaxSeriesPerRequest, "ingest-max-series-per-request", otlpingest.DefaultMaxSeriesPerRequest, "own-metrics ingest: distinct series one request may carry (413 past it)")
	f.IntVar(&cfg.IngestLimits.MaxSeriesPerAgent, "ingest-max-series-per-agent", otlpingest.DefaultMaxSeriesPerAgent, "own-metrics ingest: distinct series one agent may write per 24 h (429 past it)")
	f.StringVar(&cfg.AdvertiseURL, "advertise-url", "", "base URL agents use to reach --http-addr, for the own_metrics offer (default: the host they dialled for OpAMP)")
	f.StringVar(&cfg.ServerID, "server-id", "", "name of this replica; keep it stable across restarts (default <hostname>:<opamp port>)")
	f.DurationVar(&cfg.AgentStaleAfter, "agent-stale-after", 2*time.Minute, "plain-HTTP agents silent this long are offline")
	f.DurationVar(&cfg.AgentRetention, "agent-retention", server.DefaultAgentRetention, "offline agents not heard from this long are deleted from the registry (negative: keep forever)")
	f.Var(&resolutionsFlag{&cfg.MetricResolutions}, "metric-resolutions", "own-metrics downsampling levels, step/retention, finest first (default 1m/24h,15m/336h); the finest step is the shortest experiment interval: 10s/2h,1m/24h,15m/336h allows 10 s intervals at about 1.5x the bucket writes")
	f.StringVar(&catalogDir, "catalog-dir", "", "load more pipeline templates from the *.yaml files of this directory (same metadata and parameter schema as the built-in ones, processors declared in the file; see pipelines/README.md); each is checked at start")
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	f.StringVar(&pprofAddr, "pprof-addr", "", "serve Go's profiler (/debug/pprof/) on this address; off when empty; no authentication: use loopback (127.0.0.1:6060)")
	f.StringVar(&memLimit, "memory-limit", "", "Go soft memory limit, as GOMEMLIMIT (e.g. 512MiB): the heap is collected harder near it; empty: GOMEMLIMIT or none")
	configfile.Register(cmd) // --config /etc/phoenix/server.yaml (deploy/)
	return cmd
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func run(parent context.Context, cfg server.Config) error {
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := server.New(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "phoenix-server:", err)
		return err
	}
	if err := srv.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "phoenix-server:", err)
		_ = srv.Stop(context.Background())
		return err
	}
	apiFile, enrollFile := cfg.APITokenFile, cfg.EnrollmentTokenFile
	if apiFile == "" {
		apiFile = filepath.Join(cfg.DataDir, "api-token")
	}
	if enrollFile == "" {
		enrollFile = filepath.Join(cfg.DataDir, "enrollment-token")
	}
	store := "sqlite in " + filepath.Join(cfg.DataDir, "phoenix.db")
	if cfg.StoreDSN != "" {
		store = redact(cfg.StoreDSN)
	}
	fmt.Fprintf(os.Stderr, `phoenix-server %s
  OpAMP:            %s
  API:              %s/api/v1
  store:            %s
  API token:        %s   (phoenix CLI: PHOENIX_TOKEN=$(cat %s))
  enrollment token: %s   (phoenix-agent --token-file)
`, buildinfo.Version, srv.OpAMPURL(), srv.APIURL(), store, apiFile, apiFile, enrollFile)
	<-ctx.Done()
	fmt.Fprintln(os.Stderr, "phoenix-server: stopping")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return srv.Stop(sctx)
}

// redact hides a password in a DSN before printing it.
func redact(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		rest := dsn[i+3:]
		if at := strings.Index(rest, "@"); at >= 0 {
			if colon := strings.Index(rest[:at], ":"); colon >= 0 {
				return dsn[:i+3] + rest[:colon] + ":***" + rest[at:]
			}
		}
	}
	return dsn
}

// resolutionsFlag is --metric-resolutions: "step/retention,..." as Go
// durations ("10s/2h,1m/24h"), steps increasing.
type resolutionsFlag struct{ to *[]store.Resolution }

func (r *resolutionsFlag) String() string {
	if r.to == nil || len(*r.to) == 0 {
		return ""
	}
	var parts []string
	for _, x := range *r.to {
		parts = append(parts, x.Step.String()+"/"+x.Retention.String())
	}
	return strings.Join(parts, ",")
}

func (r *resolutionsFlag) Type() string { return "step/retention,..." }

func (r *resolutionsFlag) Set(v string) error {
	var out []store.Resolution
	for i, part := range strings.Split(v, ",") {
		step, ret, ok := strings.Cut(strings.TrimSpace(part), "/")
		s, err1 := time.ParseDuration(step)
		k, err2 := time.ParseDuration(ret)
		if !ok || err1 != nil || err2 != nil {
			return fmt.Errorf("level %d %q: want step/retention as Go durations, e.g. 10s/2h", i+1, part)
		}
		if len(out) > 0 && s <= out[len(out)-1].Step {
			return fmt.Errorf("level %d %q: steps must increase (finest first)", i+1, part)
		}
		out = append(out, store.Resolution{Step: s, Retention: k})
	}
	*r.to = out
	return nil
}
