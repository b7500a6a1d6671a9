// Package server is phoenix-server: the OpAMP server that drives the fleet of
// phoenix-agents, the pipeline deployer (deployments with immutable versions,
// rollback and one deployment per host), the REST and WebSocket API, the
// OTLP/HTTP ingest of the agents' own metrics, and the server's own health
// and Prometheus metrics.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	opampserver "github.com/open-telemetry/opamp-go/server"

	"github.com/phoenix-otel/phoenix/opamp-server/deployment"
	"github.com/phoenix-otel/phoenix/opamp-server/experiment"
	"github.com/phoenix-otel/phoenix/opamp-server/identity"
	"github.com/phoenix-otel/phoenix/opamp-server/internal/loadsim"
	"github.com/phoenix-otel/phoenix/opamp-server/otlpingest"
	"github.com/phoenix-otel/phoenix/opamp-server/rollout"
	"github.com/phoenix-otel/phoenix/opamp-server/secrets"
	"github.com/phoenix-otel/phoenix/opamp-server/store"
	"github.com/phoenix-otel/phoenix/opamp-server/store/postgres"
	"github.com/phoenix-otel/phoenix/opamp-server/store/sqlite"
)

// OpAMPPath is where agents connect (the OpAMP default).
const OpAMPPath = "/v1/opamp"

// Config configures a Server. Zero values take the documented defaults.
type Config struct {
	// OpAMPAddr is the OpAMP listen address (default ":4320").
	OpAMPAddr string
	// HTTPAddr is the REST, WebSocket, OTLP ingest and metrics address (default ":8080").
	HTTPAddr string
	// DataDir holds the SQLite database and the token files (default "./data").
	DataDir string
	// StoreDSN chooses the store: "" or "sqlite" (DataDir/phoenix.db),
	// "sqlite:<path>" or a PostgreSQL DSN ("postgres://..." or key=value).
	StoreDSN string
	// TLSCertFile and TLSKeyFile turn TLS on for both listeners.
	TLSCertFile, TLSKeyFile string
	// APITokenFile and EnrollmentTokenFile hold the bearer tokens; they are
	// generated on first start (defaults: DataDir/api-token, DataDir/enrollment-token).
	APITokenFile, EnrollmentTokenFile string
	// AdvertiseURL is the base URL agents use to reach the HTTP port, for the
	// own_metrics offer (default: the scheme, the host the agent dialled for
	// OpAMP, and the HTTP port).
	AdvertiseURL string
	// ServerID names this replica (default: host name + OpAMP port); keep it
	// stable across restarts so a restarted replica can release its agents.
	ServerID string
	// AgentStaleAfter marks HTTP-polling agents offline after this silence (default 2m).
	AgentStaleAfter time.Duration
	// AgentRetention: an offline agent's record is deleted after this long
	// without contact (default 7 days; negative keeps records forever).
	AgentRetention time.Duration
	// AgentStateFlush bounds how long an agent's state change waits in
	// memory before its batch is written (default 250ms).
	AgentStateFlush time.Duration
	// AgentLivenessFlush is how often agents' last_seen is written, in one
	// batch (default 1m, at most a third of AgentStaleAfter).
	AgentLivenessFlush time.Duration
	// MetricResolutions are the own-metrics downsampling levels (default 1m
	// for 24h and 15m for 14 days).
	MetricResolutions []store.Resolution
	// SecretsKeyFile holds the AES-256 key that seals destination secrets at
	// rest; generated 0600 on first start (default DataDir/secrets.key).
	// Replicas sharing a PostgreSQL database must share this file.
	SecretsKeyFile string
	// IngestLimits cap the own-metrics ingest per agent: series per request
	// and series per agent (defaults in otlpingest).
	IngestLimits otlpingest.Limits
	// Logger (default: text on stderr).
	Logger *slog.Logger
	// Store, when set, is used instead of opening StoreDSN (tests).
	Store store.Store
}

func (c *Config) setDefaults() {
	if c.OpAMPAddr == "" {
		c.OpAMPAddr = ":4320"
	}
	if c.HTTPAddr == "" {
		c.HTTPAddr = ":8080"
	}
	if c.DataDir == "" {
		c.DataDir = "data"
	}
	if c.APITokenFile == "" {
		c.APITokenFile = filepath.Join(c.DataDir, "api-token")
	}
	if c.EnrollmentTokenFile == "" {
		c.EnrollmentTokenFile = filepath.Join(c.DataDir, "enrollment-token")
	}
	if c.SecretsKeyFile == "" {
		c.SecretsKeyFile = filepath.Join(c.DataDir, "secrets.key")
	}
	if c.AgentStaleAfter == 0 {
		c.AgentStaleAfter = 2 * time.Minute
	}
	if c.AgentRetention == 0 {
		c.AgentRetention = DefaultAgentRetention
	}
	if c.AgentStateFlush == 0 {
		c.AgentStateFlush = defaultStateFlush
	}
	if c.AgentLivenessFlush == 0 {
		c.AgentLivenessFlush = min(defaultLivenessFlush, c.AgentStaleAfter/3)
	}
	if len(c.MetricResolutions) == 0 {
		c.MetricResolutions = []store.Resolution{{Step: time.Minute, Retention: 24 * time.Hour}, {Step: 15 * time.Minute, Retention: 14 * 24 * time.Hour}}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if c.ServerID == "" {
		h, _ := os.Hostname()
		_, port, _ := net.SplitHostPort(c.OpAMPAddr)
		c.ServerID = h + ":" + port
	}
}

// Validate reports what is wrong with the configuration, naming the setting.
func (c *Config) Validate() error {
	var errs []error
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		errs = append(errs, errors.New("--tls-cert and --tls-key go together: give both or neither"))
	}
	for name, addr := range map[string]string{"--opamp-addr": c.OpAMPAddr, "--http-addr": c.HTTPAddr} {
		if addr == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: want host:port or :port: %v", name, addr, err))
		}
	}
	if c.AdvertiseURL != "" && !strings.HasPrefix(c.AdvertiseURL, "http://") && !strings.HasPrefix(c.AdvertiseURL, "https://") {
		errs = append(errs, fmt.Errorf("--advertise-url %q: must start with http:// or https://", c.AdvertiseURL))
	}
	if c.IngestLimits.MaxSeriesPerRequest < 0 || c.IngestLimits.MaxSeriesPerAgent < 0 || c.IngestLimits.Window < 0 {
		errs = append(errs, errors.New("--ingest-max-series-per-request and --ingest-max-series-per-agent must not be negative"))
	}
	for _, r := range c.MetricResolutions {
		if r.Step < time.Second || r.Retention < r.Step {
			errs = append(errs, fmt.Errorf("metric resolution %s/%s: the step must be at least 1s and the retention at least one step", r.Step, r.Retention))
		}
	}
	return errors.Join(errs...)
}

// OpenStore opens the store a DSN names (see Config.StoreDSN).
func OpenStore(ctx context.Context, dsn, dataDir, serverID string) (store.Store, error) {
	switch {
	case dsn == "" || dsn == "sqlite":
		return sqlite.Open(ctx, dataDir, serverID)
	case strings.HasPrefix(dsn, "sqlite:"):
		p := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "//")
		if p == "" {
			return nil, fmt.Errorf("store DSN %q: give a file path after sqlite:", dsn)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return nil, fmt.Errorf("store DSN %q: %w", dsn, err)
		}
		return sqlite.OpenFile(ctx, p, serverID)
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"), strings.Contains(dsn, "="):
		return postgres.Open(ctx, dsn, serverID)
	default:
		return nil, fmt.Errorf("store DSN %q: want sqlite, sqlite:<path> or a PostgreSQL DSN (postgres://user@host:port/db)", dsn)
	}
}

// Server is a running phoenix-server replica.
type Server struct {
	cfg    Config
	log    *slog.Logger
	store  store.Store
	ownsDB bool

	apiToken, enrollToken string
	tlsConfig             *tls.Config

	opamp     opampserver.OpAMPServer
	opampHTTP *http.Server
	apiHTTP   *http.Server
	opampLn   net.Listener
	apiLn     net.Listener
	metrics   *metrics
	hub       *hub
	fleet     *fleet
	// identity authenticates agents and keeps host bindings; ingestLimits
	// caps what each agent may write (identity.go, ingest.go).
	identity     *identity.Registry
	secrets      *secrets.Box
	ingestLimits *otlpingest.Limiter
	// deployments is the deployment domain: it computes each host's
	// desired state through its chain of layers.
	deployments *deployment.Service
	experiments *experiment.Manager
	rollouts    *rollout.Manager
	loadsim     *loadsim.Manager
	// loadSimChanges feeds the store's changes to the load simulation loop.
	loadSimChanges chan store.Change
	ready          atomic.Bool
	cancel         context.CancelFunc
	wg             sync.WaitGroup
	stopOnce       sync.Once
	startedAt      time.Time
	dirtyMu        sync.Mutex
	dirtyDeps      map[string]bool
	// idem replays answers to repeated writes with an Idempotency-Key (idempotency.go).
	idem *idempotencyCache
}

// New prepares a server: it opens the store and loads or creates the tokens.
func New(ctx context.Context, cfg Config) (*Server, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger, dirtyDeps: map[string]bool{}, idem: newIdempotencyCache()}
	var err error
	if s.apiToken, err = loadOrCreateToken(cfg.APITokenFile, "phx_api_"); err != nil {
		return nil, err
	}
	if s.enrollToken, err = loadOrCreateToken(cfg.EnrollmentTokenFile, "phx_enroll_"); err != nil {
		return nil, err
	}
	// The data dir holds the tokens and the database: the owner's only.
	if err := os.Chmod(cfg.DataDir, 0o700); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("data dir %s: %w", cfg.DataDir, err)
	}
	if cfg.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("--tls-cert %s / --tls-key %s: %w", cfg.TLSCertFile, cfg.TLSKeyFile, err)
		}
		s.tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if cfg.Store != nil {
		s.store = cfg.Store
	} else {
		s.store, err = OpenStore(ctx, cfg.StoreDSN, cfg.DataDir, cfg.ServerID)
		if err != nil {
			return nil, err
		}
		s.ownsDB = true
	}
	key, err := secrets.LoadOrCreateKey(cfg.SecretsKeyFile)
	if err != nil {
		return nil, err
	}
	if s.secrets, err = secrets.NewBox(key); err != nil {
		return nil, err
	}
	// Destination secrets are sealed below this point and references above.
	s.store = secrets.WrapStore(s.store, s.secrets)
	s.identity = identity.New(s.store, s.enrollToken, cfg.EnrollmentTokenFile)
	s.ingestLimits = otlpingest.NewLimiter(cfg.IngestLimits)
	s.metrics = newMetrics()
	s.hub = newHub(s.metrics)
	s.fleet = newFleet(s) // its writer writes to the store itself
	s.store = readYourWrites{Store: s.store, w: s.fleet.writer}
	s.deployments = deployment.New(s.store, cfg.AgentStaleAfter)
	s.deployments.SetSecretReferrer(s.secrets.ReferSpec)
	// The load simulation loop learns of job, agent and deployment writes
	// (this and other replicas) through the store's notifications.
	s.loadSimChanges = make(chan store.Change, 64)
	s.loadsim = s.newLoadSim()
	s.experiments = s.newExperiments()
	s.rollouts = s.newRollouts()
	// A host's desired state: deployment -> rollout -> experiment -> load simulation.
	s.deployments.SetLayers(s.rollouts.Layer(), s.experiments.Layer(), s.loadSimLayer())
	s.deployments.SetAfterWrite(s.rollouts.Sync) // a new version's rollout exists before its write returns
	return s, nil
}

// Deployments is the server's deployment domain.
func (s *Server) Deployments() *deployment.Service { return s.deployments }

// Store is the server's store.
func (s *Server) Store() store.Store { return s.store }

// APIToken is the bearer token of the REST API.
func (s *Server) APIToken() string { return s.apiToken }

// EnrollmentToken is the token agents present to OpAMP once, to enrol (the
// one in force: the file is re-read when it changes).
func (s *Server) EnrollmentToken() string { return s.identity.EnrollmentToken() }

// Identity is the server's agent identity registry.
func (s *Server) Identity() *identity.Registry { return s.identity }

// Start listens on both ports and serves until Stop.
func (s *Server) Start(ctx context.Context) error {
	s.startedAt = time.Now()
	// A replica restarting under the same id held connections that are gone.
	if err := s.store.MarkServerDisconnected(ctx, s.cfg.ServerID); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if err := s.fleet.reload(ctx); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	var err error
	if s.opampLn, err = s.listen(s.cfg.OpAMPAddr); err != nil {
		return fmt.Errorf("--opamp-addr %s: %w", s.cfg.OpAMPAddr, err)
	}
	if s.apiLn, err = s.listen(s.cfg.HTTPAddr); err != nil {
		s.opampLn.Close()
		return fmt.Errorf("--http-addr %s: %w", s.cfg.HTTPAddr, err)
	}
	s.opamp = opampserver.New(&opampLogger{s.log})
	handler, connContext, err := s.opamp.Attach(opampserver.Settings{Callbacks: s.fleet.callbacks()})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc(OpAMPPath, smallWSBuffers(http.HandlerFunc(handler)))
	errLog := slog.NewLogLogger(s.log.Handler(), slog.LevelDebug) // handshake noise from scanners
	s.opampHTTP = &http.Server{Handler: mux, ConnContext: connContext, ReadHeaderTimeout: 10 * time.Second, ErrorLog: errLog}
	s.apiHTTP = &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: errLog}

	bg, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	changes := s.store.Subscribe(bg)
	s.wg.Add(4)
	go func() { defer s.wg.Done(); s.fleet.watchChanges(bg, changes) }()
	go func() { defer s.wg.Done(); s.statusLoop(bg) }()
	go func() { defer s.wg.Done(); s.retentionLoop(bg) }()
	go func() { defer s.wg.Done(); s.fleet.resyncLoop(bg) }()
	s.wg.Add(1)
	go func() { defer s.wg.Done(); s.fleet.writer.run(bg) }()
	s.wg.Add(1)
	go func() { defer s.wg.Done(); s.loadsim.Run(bg) }()
	lsChanges := s.store.Subscribe(bg)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for c := range lsChanges {
			switch c.Kind {
			case store.ChangeLoadSim, store.ChangeAgent, store.ChangeDeployment, store.ChangeResync:
				select {
				case s.loadSimChanges <- c:
				default: // the loop is busy: it reconciles everything when it gets to it
				}
			}
		}
	}()
	expChanges := s.store.Subscribe(bg)
	s.wg.Add(1)
	go func() { defer s.wg.Done(); s.experiments.Run(bg, expChanges) }()
	roChanges := s.store.Subscribe(bg)
	s.wg.Add(1)
	go func() { defer s.wg.Done(); s.rollouts.Run(bg, roChanges) }()
	for _, pair := range []struct {
		srv *http.Server
		ln  net.Listener
	}{{s.opampHTTP, s.opampLn}, {s.apiHTTP, s.apiLn}} {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := pair.srv.Serve(pair.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("listener stopped", "addr", pair.ln.Addr().String(), "err", err)
			}
		}()
	}
	s.ready.Store(true)
	s.log.Info("phoenix-server started", "opamp", s.OpAMPURL(), "api", s.APIURL(), "server_id", s.cfg.ServerID)
	return nil
}

func (s *Server) listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	if s.tlsConfig != nil {
		ln = tls.NewListener(ln, s.tlsConfig)
	}
	return ln, nil
}

func (s *Server) scheme(ws bool) string {
	switch {
	case ws && s.tlsConfig != nil:
		return "wss"
	case ws:
		return "ws"
	case s.tlsConfig != nil:
		return "https"
	default:
		return "http"
	}
}

func loopbackIfUnspecified(addr net.Addr) string {
	host, port, _ := net.SplitHostPort(addr.String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// OpAMPURL is the WebSocket URL agents dial (loopback when listening on all addresses).
func (s *Server) OpAMPURL() string {
	return s.scheme(true) + "://" + loopbackIfUnspecified(s.opampLn.Addr()) + OpAMPPath
}

// APIURL is the base URL of the REST API and the OTLP ingest.
func (s *Server) APIURL() string {
	return s.scheme(false) + "://" + loopbackIfUnspecified(s.apiLn.Addr())
}

// Stop closes the listeners, the agents' connections and the store (when
// the server opened it).
func (s *Server) Stop(ctx context.Context) error {
	var err error
	s.stopOnce.Do(func() {
		s.ready.Store(false)
		if s.cancel != nil {
			s.cancel()
		}
		if s.opampHTTP != nil {
			err = errors.Join(err, s.opampHTTP.Shutdown(ctx))
			err = errors.Join(err, s.apiHTTP.Shutdown(ctx))
		}
		// Hijacked WebSockets survive Shutdown: close them.
		s.fleet.disconnectAll(ctx)
		s.hub.closeAll()
		s.wg.Wait()
		if s.ownsDB {
			err = errors.Join(err, s.store.Close())
		}
	})
	return err
}

// opampLogger adapts slog to opamp-go's logger.
type opampLogger struct{ l *slog.Logger }

func (o *opampLogger) Debugf(_ context.Context, format string, v ...any) {
	o.l.Debug(fmt.Sprintf(format, v...), "component", "opamp")
}

func (o *opampLogger) Errorf(_ context.Context, format string, v ...any) {
	o.l.Warn(fmt.Sprintf(format, v...), "component", "opamp")
}
