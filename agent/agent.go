package agent

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/open-telemetry/opamp-go/client"
	"github.com/open-telemetry/opamp-go/client/types"
	"github.com/open-telemetry/opamp-go/protobufs"

	"github.com/phoenix-otel/phoenix/internal/agentsecrets"
)

// Capabilities is what phoenix-agent tells the server it does.
const Capabilities = protobufs.AgentCapabilities_AgentCapabilities_ReportsStatus |
	protobufs.AgentCapabilities_AgentCapabilities_AcceptsRemoteConfig |
	protobufs.AgentCapabilities_AgentCapabilities_ReportsEffectiveConfig |
	protobufs.AgentCapabilities_AgentCapabilities_ReportsRemoteConfig |
	protobufs.AgentCapabilities_AgentCapabilities_ReportsHealth |
	protobufs.AgentCapabilities_AgentCapabilities_ReportsOwnMetrics |
	protobufs.AgentCapabilities_AgentCapabilities_AcceptsRestartCommand |
	protobufs.AgentCapabilities_AgentCapabilities_ReportsHeartbeat |
	protobufs.AgentCapabilities_AgentCapabilities_AcceptsOpAMPConnectionSettings

// ownMetricsPeriod is how often the collector pushes its own metrics.
const ownMetricsPeriod = 10 * time.Second

// Agent is one running phoenix-agent.
type Agent struct {
	cfg     Config
	log     *slog.Logger
	dd      *dataDir
	uid     uuid.UUID
	version string // collector version
	client  client.OpAMPClient
	events  chan func(context.Context)
	done    chan struct{} // closed when Run returns
	loadsim *loadSim

	// Owned by the loop goroutine.
	proc         *collectorProc
	running      *storedConfig // what the collector runs; Hash "" = minimal safe config
	lastWorking  *storedConfig
	failed       failedHashes
	crashes      int
	healthySince time.Time
	restartTimer *time.Timer

	// Read by OpAMP callbacks too.
	mu             sync.Mutex
	effectiveFiles map[string]string
	ownMetrics     *ownMetricsDest
	metricsPeriod  time.Duration
	health         *protobufs.ComponentHealth
	status         storedStatus
	credential     string // the agent's own credential (credential.go)
	credTries      int    // dials in a row with it that did not connect
}

// New prepares an agent: it validates cfg, opens the data directory and
// loads the identity and the persisted state. Run starts it.
func New(cfg Config) (*Agent, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// The collector runs in the data directory and is handed config paths:
	// relative paths would resolve against the wrong directory.
	var err error
	if cfg.DataDir, err = filepath.Abs(cfg.DataDir); err != nil {
		return nil, fmt.Errorf("--data-dir: %w", err)
	}
	if cfg.CollectorPath, err = filepath.Abs(cfg.CollectorPath); err != nil {
		return nil, fmt.Errorf("--collector: %w", err)
	}
	dd, err := openDataDir(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	uid, err := dd.instanceUID()
	if err != nil {
		return nil, err
	}
	a, err := load(cfg, dd, uid)
	if err != nil {
		return nil, err
	}
	return a, nil
}

func load(cfg Config, dd *dataDir, uid uuid.UUID) (*Agent, error) {
	a := &Agent{
		cfg:           cfg,
		log:           cfg.Logger.With("instance_uid", uid.String()),
		dd:            dd,
		uid:           uid,
		events:        make(chan func(context.Context), 64),
		done:          make(chan struct{}),
		failed:        failedHashes{},
		metricsPeriod: ownMetricsPeriod,
	}
	if _, err := dd.readJSON(&a.failed, "state", "failed_hashes.json"); err != nil {
		return nil, err
	}
	var lw storedConfig
	if ok, err := dd.readJSON(&lw, "config", "last_working.json"); err != nil {
		return nil, err
	} else if ok && len(lw.Files) > 0 {
		a.lastWorking = &lw
	}
	var om ownMetricsDest
	if ok, err := dd.readJSON(&om, "state", "own_metrics.json"); err != nil {
		return nil, err
	} else if ok && om.Endpoint != "" {
		a.ownMetrics = &om
	}
	if _, err := dd.readJSON(&a.status, "state", "remote_config_status.json"); err != nil {
		return nil, err
	}
	var err error
	if a.credential, err = dd.loadCredential(); err != nil {
		return nil, err
	}
	a.loadsim = newLoadSim(a)
	return a, nil
}

// InstanceUID is the agent's persisted UUIDv7.
func (a *Agent) InstanceUID() uuid.UUID { return a.uid }

// SetOwnMetricsPeriod changes how often the collector pushes its own
// metrics (default 10s). Call before Run.
func (a *Agent) SetOwnMetricsPeriod(d time.Duration) { a.metricsPeriod = d }

// Run starts the collector and the OpAMP client and supervises both until
// ctx is cancelled; then it stops the load simulation and the collector.
// Run may be called once.
func (a *Agent) Run(ctx context.Context) error {
	if err := a.dd.lockExclusive(); err != nil {
		return err
	}
	defer a.dd.unlock()
	v, err := collectorVersion(ctx, a.cfg.CollectorPath)
	if err != nil {
		return fmt.Errorf("--collector %s: cannot read its version: %w", a.cfg.CollectorPath, err)
	}
	a.version = v
	a.log.Info("phoenix-agent starting", "collector", a.cfg.CollectorPath, "collector_version", v, "data_dir", a.cfg.DataDir)

	// The collector first: the host must not wait for the server.
	start := a.lastWorking
	if start != nil {
		a.log.Info("starting the collector on the last working config", "hash", start.Hash)
	} else {
		start = &storedConfig{Files: map[string]string{"": minimalConfig}}
		a.log.Info("no working config yet: starting the collector on the minimal safe config")
	}
	if err := a.launch(start); err != nil {
		a.setHealth(false, "failed to start", err.Error())
		a.scheduleRestart(ctx)
	}

	if err := a.startClient(ctx); err != nil {
		a.shutdown()
		return err
	}

	health := time.NewTimer(0)
	defer health.Stop()
	for {
		select {
		case <-ctx.Done():
			a.shutdown()
			return nil
		case ev := <-a.events:
			ev(ctx)
		case <-health.C:
			a.pollHealth(ctx)
			next := a.cfg.HealthInterval
			if a.healthySince.IsZero() && next > 250*time.Millisecond {
				next = 250 * time.Millisecond // starting: notice readiness quickly
			}
			health.Reset(next)
		}
	}
}

// enqueue runs fn on the loop goroutine, which owns the collector.
func (a *Agent) enqueue(ctx context.Context, fn func(context.Context)) {
	select {
	case a.events <- fn:
	case <-ctx.Done():
	case <-a.done:
	}
}

func (a *Agent) shutdown() {
	defer close(a.done)
	if a.restartTimer != nil {
		a.restartTimer.Stop()
	}
	if a.client != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := a.client.Stop(ctx); err != nil {
			a.log.Warn("opamp client stop", "err", err)
		}
		cancel()
	}
	a.loadsim.stop()
	if a.proc != nil {
		a.proc.stop(a.cfg.StopTimeout)
	}
	a.log.Info("phoenix-agent stopped")
}

func (a *Agent) startClient(ctx context.Context) error {
	c := client.NewWebSocket(opampLogger{a.log.With("component", "opamp")})
	if err := c.SetAgentDescription(agentDescription(a.uid.String(), a.cfg.HostName, a.version, a.cfg.Labels)); err != nil {
		return err
	}
	if err := c.SetCustomCapabilities(&protobufs.CustomCapabilities{Capabilities: []string{LoadSimCapability, RetryCapability}}); err != nil {
		return err
	}
	// opamp-go wants the health before the ReportsHealth capability.
	a.mu.Lock()
	h := a.health
	a.mu.Unlock()
	if h == nil {
		h = &protobufs.ComponentHealth{Status: "starting", StatusTimeUnixNano: uint64(time.Now().UnixNano())}
	}
	if err := c.SetHealth(h); err != nil {
		return err
	}
	caps := Capabilities
	if err := c.SetCapabilities(&caps); err != nil {
		return err
	}
	settings := types.StartSettings{
		OpAMPServerURL: a.cfg.ServerURL,
		// Called on every dial: the credential once enrolled, else the
		// enrollment token.
		HeaderFunc: func(h http.Header) http.Header {
			if tok := a.authorization(); tok != "" {
				h.Set("Authorization", "Bearer "+tok)
			}
			return h
		},
		InstanceUid:        types.InstanceUid(a.uid),
		RemoteConfigStatus: a.startupRemoteConfigStatus(),
		Callbacks: types.Callbacks{
			OnConnect: func(context.Context) {
				a.connected()
				a.log.Info("connected to the OpAMP server", "url", a.cfg.ServerURL)
			},
			OnConnectFailed: func(_ context.Context, err error) {
				a.log.Warn("cannot reach the OpAMP server; the collector keeps running, retrying with backoff", "url", a.cfg.ServerURL, "err", err)
			},
			OnError: func(_ context.Context, e *protobufs.ServerErrorResponse) {
				a.log.Warn("server error response", "type", e.GetType().String(), "message", e.GetErrorMessage())
			},
			OnMessage:                 func(_ context.Context, m *types.MessageData) { a.onMessage(ctx, m) },
			OnOpampConnectionSettings: a.onOpampConnectionSettings,
			GetEffectiveConfig:        func(context.Context) (*protobufs.EffectiveConfig, error) { return a.effectiveConfig(), nil },
			OnCommand: func(_ context.Context, cmd *protobufs.ServerToAgentCommand) error {
				if cmd.GetType() == protobufs.CommandType_CommandType_Restart {
					a.log.Info("server asked for a restart")
					go a.enqueue(ctx, a.restartCollector)
				}
				return nil
			},
		},
	}
	if a.cfg.HeartbeatInterval > 0 {
		hb := a.cfg.HeartbeatInterval
		settings.HeartbeatInterval = &hb
	}
	if a.cfg.CAFile != "" {
		pem, err := os.ReadFile(a.cfg.CAFile)
		if err != nil {
			return fmt.Errorf("--ca-file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("--ca-file %s: no PEM certificate found", a.cfg.CAFile)
		}
		settings.TLSConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	if err := c.Start(ctx, settings); err != nil {
		return fmt.Errorf("opamp client: %w", err)
	}
	a.client = c
	return nil
}

// startupRemoteConfigStatus is what the agent tells the server on first
// connect. An apply interrupted by an agent restart never finished: the
// agent runs the last working config, so it reports that one, and the server
// pushes the interrupted config again.
func (a *Agent) startupRemoteConfigStatus() *protobufs.RemoteConfigStatus {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := a.status
	if st.Status == "APPLYING" {
		if a.lastWorking != nil {
			st = storedStatus{Hash: a.lastWorking.Hash, Status: "APPLIED"}
		} else {
			st = storedStatus{}
		}
		a.status = st
	}
	if st.Hash == "" {
		return nil
	}
	return st.proto()
}

func (s storedStatus) proto() *protobufs.RemoteConfigStatus {
	h, _ := hex.DecodeString(s.Hash)
	out := &protobufs.RemoteConfigStatus{LastRemoteConfigHash: h, ErrorMessage: s.Error}
	switch s.Status {
	case "APPLIED":
		out.Status = protobufs.RemoteConfigStatuses_RemoteConfigStatuses_APPLIED
	case "APPLYING":
		out.Status = protobufs.RemoteConfigStatuses_RemoteConfigStatuses_APPLYING
	case "FAILED":
		out.Status = protobufs.RemoteConfigStatuses_RemoteConfigStatuses_FAILED
	}
	return out
}

func (a *Agent) onMessage(ctx context.Context, m *types.MessageData) {
	if cm := m.CustomMessage; cm != nil && cm.Capability == RetryCapability && cm.Type == RetryType {
		a.enqueue(ctx, func(ctx context.Context) { a.forgetFailed(ctx, cm) }) // before the config it came with
	}
	if m.RemoteConfig != nil {
		rc := m.RemoteConfig
		a.enqueue(ctx, func(ctx context.Context) { a.applyRemote(ctx, rc) })
	}
	if m.OwnMetricsConnSettings != nil {
		s := m.OwnMetricsConnSettings
		a.enqueue(ctx, func(ctx context.Context) { a.applyOwnMetrics(ctx, s) })
	}
	if m.CustomMessage != nil && m.CustomMessage.Capability == LoadSimCapability {
		cm := m.CustomMessage
		a.enqueue(ctx, func(ctx context.Context) { a.loadsim.handle(ctx, cm) })
	}
}

func (a *Agent) effectiveConfig() *protobufs.EffectiveConfig {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.effectiveFiles == nil {
		return nil
	}
	m := make(map[string]*protobufs.AgentConfigFile, len(a.effectiveFiles))
	for name, body := range a.effectiveFiles {
		if name == agentsecrets.FileName {
			continue // secrets are never reported
		}
		m[name] = &protobufs.AgentConfigFile{Body: []byte(body), ContentType: "text/yaml"}
	}
	return &protobufs.EffectiveConfig{ConfigMap: &protobufs.AgentConfigMap{ConfigMap: m}}
}

// configHash is the hash the server sent, or sha256 over the files (name
// and body, in name order) when it sent none.
func configHash(rc *protobufs.AgentRemoteConfig, files map[string]string) string {
	if len(rc.GetConfigHash()) > 0 {
		return hex.EncodeToString(rc.GetConfigHash())
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%d:%s%d:", len(n), n, len(files[n]))
		h.Write([]byte(files[n]))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (a *Agent) setStatus(hash, status, msg string) {
	a.mu.Lock()
	a.status = storedStatus{Hash: hash, Status: status, Error: msg}
	st := a.status
	a.mu.Unlock()
	if err := a.dd.writeJSON(st, "state", "remote_config_status.json"); err != nil {
		a.log.Error("persist remote config status", "err", err)
	}
	if a.client != nil {
		if err := a.client.SetRemoteConfigStatus(st.proto()); err != nil {
			a.log.Error("report remote config status", "err", err)
		}
	}
}

// applyRemote is the safe apply: APPLYING, validate with the real binary,
// restart, wait for health within apply_timeout, then APPLIED and persist as
// last working; or roll back, FAILED with the collector's error, and never
// try that hash again.
func (a *Agent) applyRemote(ctx context.Context, rc *protobufs.AgentRemoteConfig) {
	files := map[string]string{}
	for name, f := range rc.GetConfig().GetConfigMap() {
		files[name] = string(f.GetBody())
	}
	hash := configHash(rc, files)
	log := a.log.With("hash", hash)
	if err := a.dd.writeJSON(storedConfig{Hash: hash, Files: files}, "config", "last_received.json"); err != nil {
		log.Error("persist last received config", "err", err)
	}
	if a.running != nil && a.running.Hash == hash && a.proc != nil && !a.proc.exited() {
		a.setStatus(hash, "APPLIED", "")
		return
	}
	if msg, bad := a.failed[hash]; bad {
		log.Info("ignoring a config that already failed here", "error", firstLine(msg))
		a.setStatus(hash, "FAILED", msg)
		return
	}
	if len(files) == 0 {
		// An empty config map takes the pipelines off this host.
		files = map[string]string{"": minimalConfig}
	}
	log.Info("applying remote config")
	a.setStatus(hash, "APPLYING", "")
	started := time.Now()

	fail := func(msg string) {
		log.Warn("remote config FAILED", "error", firstLine(msg))
		a.failed[hash] = msg
		if err := a.dd.writeJSON(a.failed, "state", "failed_hashes.json"); err != nil {
			log.Error("persist failed hashes", "err", err)
		}
		a.setStatus(hash, "FAILED", msg)
	}

	cand := &storedConfig{Hash: hash, Files: files}
	body, endpoint, err := a.render(cand)
	if err != nil {
		fail("config rejected: " + err.Error())
		return
	}
	candPath := a.dd.path("config", "candidate.yaml")
	if err := writeFileAtomic(candPath, body); err != nil {
		fail("cannot write the candidate config: " + err.Error())
		return
	}
	vctx, cancel := context.WithTimeout(ctx, a.cfg.ApplyTimeout)
	err = validateConfig(vctx, a.cfg.CollectorPath, candPath, a.collectorEnv(cand))
	cancel()
	if err != nil {
		fail("invalid config (phoenix-otelcol validate): " + err.Error())
		return
	}

	prev := a.running
	if a.proc != nil {
		a.proc.stop(a.cfg.StopTimeout)
	}
	p, err := a.start(cand, body, endpoint)
	if err == nil {
		err = a.waitHealthy(ctx, p, a.cfg.ApplyTimeout)
	}
	if err != nil {
		report := fmt.Sprintf("config did not become healthy within apply_timeout %s: %v", a.cfg.ApplyTimeout, err)
		if p != nil {
			report = failureReport(report, p.log)
			p.stop(a.cfg.StopTimeout)
		}
		fail(report + "\nrolled back to the last working config")
		a.restore(ctx, prev)
		return
	}
	cand.AppliedAt = time.Now().UTC()
	a.lastWorking = cand
	if err := a.dd.writeJSON(cand, "config", "last_working.json"); err != nil {
		log.Error("persist last working config", "err", err)
	}
	a.setStatus(hash, "APPLIED", "")
	a.reportEffective(ctx)
	log.Info("remote config APPLIED", "pid", p.pid, "took", time.Since(started).Round(time.Millisecond))
}

// restore runs prev (the config that ran before a failed apply) again.
func (a *Agent) restore(ctx context.Context, prev *storedConfig) {
	if prev == nil {
		prev = &storedConfig{Files: map[string]string{"": minimalConfig}}
	}
	if err := a.launch(prev); err != nil {
		a.log.Error("rollback: cannot start the collector", "err", err)
		a.setHealth(false, "failed to start", err.Error())
		a.scheduleRestart(ctx)
		return
	}
	if err := a.waitHealthy(ctx, a.proc, a.cfg.ApplyTimeout); err != nil {
		a.log.Error("rollback: the previous config is not healthy either", "err", err)
	}
	a.reportEffective(ctx)
}

// render composes a stored config with the agent's injections on a fresh
// health-check port.
func (a *Agent) render(c *storedConfig) ([]byte, string, error) {
	user, err := mergeConfigFiles(c.Files)
	if err != nil {
		return nil, "", err
	}
	endpoint, err := freeLoopbackEndpoint()
	if err != nil {
		return nil, "", err
	}
	a.mu.Lock()
	inj := injection{
		HealthEndpoint: endpoint,
		OwnMetrics:     a.ownMetrics,
		MetricsPeriod:  a.metricsPeriod,
		Resource: map[string]string{
			attrServiceInstanceID: a.uid.String(),
			attrHostName:          a.cfg.HostName,
		},
	}
	a.mu.Unlock()
	body, err := compose(user, inj)
	return body, endpoint, err
}

// launch renders c and starts the collector on it (no health wait).
func (a *Agent) launch(c *storedConfig) error {
	body, endpoint, err := a.render(c)
	if err != nil {
		return err
	}
	_, err = a.start(c, body, endpoint)
	return err
}

// start writes the effective config and starts the collector on it, making
// it the supervised process.
func (a *Agent) start(c *storedConfig, body []byte, endpoint string) (*collectorProc, error) {
	path := a.dd.path("config", "effective.yaml")
	if err := writeFileAtomic(path, body); err != nil {
		return nil, err
	}
	p, err := startCollector(a.cfg.CollectorPath, a.dd.root, path, endpoint, a.dd.path("logs", "collector.log"), a.collectorEnv(c))
	if err != nil {
		return nil, err
	}
	a.proc = p
	a.running = c
	a.healthySince = time.Time{}
	a.mu.Lock()
	a.effectiveFiles = c.Files
	a.mu.Unlock()
	a.setHealth(false, "starting", "")
	a.log.Info("collector started", "pid", p.pid, "config_hash", c.Hash, "health", p.healthURL)
	go func() {
		<-p.done
		if !p.isStopping() {
			// Not asked to stop: a crash. The loop decides what to do.
			select {
			case a.events <- func(ctx context.Context) { a.onCrash(ctx, p) }:
			case <-a.done:
			}
		}
	}()
	return p, nil
}

// waitHealthy polls until the collector is alive, its health check answers
// 200 twice in a row half a second apart (a component that fails just after
// start has time to show), or timeout passes.
func (a *Agent) waitHealthy(ctx context.Context, p *collectorProc, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var firstOK time.Time
	var lastErr error
	for {
		err := p.checkHealth(ctx)
		switch {
		case p.exited():
			return fmt.Errorf("collector (pid %d) %s", p.pid, p.exitDescription())
		case err != nil:
			firstOK = time.Time{}
			lastErr = err
		case firstOK.IsZero():
			firstOK = time.Now()
		case time.Since(firstOK) >= 500*time.Millisecond:
			a.markHealthy(p)
			return nil
		}
		if time.Now().After(deadline) {
			if lastErr == nil {
				lastErr = errors.New("health check did not stay healthy")
			}
			return lastErr
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-p.done:
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (a *Agent) markHealthy(p *collectorProc) {
	if a.healthySince.IsZero() {
		a.healthySince = time.Now()
	}
	a.setHealth(true, "running", "")
	_ = p
}

// pollHealth is the periodic check of the running collector.
func (a *Agent) pollHealth(ctx context.Context) {
	p := a.proc
	if p == nil || p.exited() {
		return // a crash is handled by onCrash
	}
	if err := p.checkHealth(ctx); err != nil {
		if !a.healthySince.IsZero() {
			a.log.Warn("collector unhealthy", "pid", p.pid, "err", err)
		}
		a.healthySince = time.Time{}
		status := "starting"
		if time.Since(p.started) > a.cfg.ApplyTimeout {
			status = "unhealthy"
		}
		a.setHealth(false, status, err.Error())
		return
	}
	a.markHealthy(p)
	// Healthy long enough: a later crash starts the backoff from the beginning.
	if a.crashes > 0 && time.Since(a.healthySince) >= a.cfg.RestartBackoffMax {
		a.crashes = 0
	}
}

func (a *Agent) onCrash(ctx context.Context, p *collectorProc) {
	if p != a.proc {
		return // an old process (e.g. a candidate that was rolled back)
	}
	a.crashes++
	delay := a.backoff(a.crashes)
	msg := failureReport(fmt.Sprintf("collector (pid %d) %s after %s; restart %d in %s",
		p.pid, p.exitDescription(), time.Since(p.started).Round(time.Millisecond), a.crashes, delay), p.log)
	a.log.Warn("collector crashed", "pid", p.pid, "exit", p.exitDescription(), "restart_in", delay, "error", errorSummary(p.log))
	a.healthySince = time.Time{}
	a.setHealth(false, "crashed", msg)
	a.scheduleRestartAfter(ctx, delay)
}

func (a *Agent) backoff(n int) time.Duration {
	d := a.cfg.RestartBackoffInitial
	for i := 1; i < n && d < a.cfg.RestartBackoffMax; i++ {
		d *= 2
	}
	return min(d, a.cfg.RestartBackoffMax)
}

func (a *Agent) scheduleRestart(ctx context.Context) {
	a.crashes++
	a.scheduleRestartAfter(ctx, a.backoff(a.crashes))
}

func (a *Agent) scheduleRestartAfter(ctx context.Context, d time.Duration) {
	if a.restartTimer != nil {
		a.restartTimer.Stop()
	}
	a.restartTimer = time.AfterFunc(d, func() {
		a.enqueue(ctx, func(ctx context.Context) {
			if a.proc != nil && !a.proc.exited() {
				return // something else (an apply) started one meanwhile
			}
			a.relaunch(ctx)
		})
	})
}

// relaunch starts the running config again on a fresh health port.
func (a *Agent) relaunch(ctx context.Context) {
	c := a.running
	if c == nil {
		c = &storedConfig{Files: map[string]string{"": minimalConfig}}
	}
	if err := a.launch(c); err != nil {
		a.log.Error("cannot start the collector", "err", err)
		a.setHealth(false, "failed to start", err.Error())
		a.scheduleRestart(ctx)
	}
}

// restartCollector is the server's Restart command.
func (a *Agent) restartCollector(ctx context.Context) {
	if a.proc != nil {
		a.proc.stop(a.cfg.StopTimeout)
	}
	a.relaunch(ctx)
}

// applyOwnMetrics points the collector's telemetry at the endpoint the
// server offered and restarts it on the same config.
func (a *Agent) applyOwnMetrics(ctx context.Context, s *protobufs.TelemetryConnectionSettings) {
	var dest *ownMetricsDest
	if s.GetDestinationEndpoint() != "" {
		ep, err := normalizeMetricsEndpoint(s.GetDestinationEndpoint())
		if err != nil {
			a.log.Error("ignoring the own_metrics offer", "err", err)
			return
		}
		dest = &ownMetricsDest{Endpoint: ep}
		for _, h := range s.GetHeaders().GetHeaders() {
			if dest.Headers == nil {
				dest.Headers = map[string]string{}
			}
			dest.Headers[h.GetKey()] = h.GetValue()
		}
	}
	a.mu.Lock()
	same := a.ownMetrics.equal(dest)
	prev := a.ownMetrics
	a.ownMetrics = dest
	a.mu.Unlock()
	if same {
		return
	}
	var err error
	if dest == nil {
		err = os.Remove(a.dd.path("state", "own_metrics.json"))
		if errors.Is(err, os.ErrNotExist) {
			err = nil
		}
	} else {
		err = a.dd.writeJSON(dest, "state", "own_metrics.json")
	}
	if err != nil {
		a.log.Error("persist own_metrics destination", "err", err)
	}
	a.log.Info("own metrics destination offered", "endpoint", dest.endpointOrNone())

	// Validate the running config with the new telemetry before restarting.
	c := a.running
	if c == nil {
		c = &storedConfig{Files: map[string]string{"": minimalConfig}}
	}
	body, _, err := a.render(c)
	if err == nil {
		candPath := a.dd.path("config", "candidate.yaml")
		if err = writeFileAtomic(candPath, body); err == nil {
			vctx, cancel := context.WithTimeout(ctx, a.cfg.ApplyTimeout)
			err = validateConfig(vctx, a.cfg.CollectorPath, candPath, a.collectorEnv(c))
			cancel()
		}
	}
	if err != nil {
		a.log.Error("own metrics settings rejected; keeping the previous telemetry", "err", err)
		a.mu.Lock()
		a.ownMetrics = prev
		a.mu.Unlock()
		return
	}
	a.restartCollector(ctx)
	if err := a.waitHealthy(ctx, a.proc, a.cfg.ApplyTimeout); err != nil {
		a.log.Error("collector unhealthy after the own metrics change", "err", err)
	}
}

func (o *ownMetricsDest) endpointOrNone() string {
	if o == nil {
		return "(none)"
	}
	return o.Endpoint
}

func (a *Agent) reportEffective(ctx context.Context) {
	if a.client == nil {
		return
	}
	if err := a.client.UpdateEffectiveConfig(ctx); err != nil {
		a.log.Error("report effective config", "err", err)
	}
}

// setHealth reports the collector's health, with its start time, pid and
// last error, plus the load simulation as a sub-component.
func (a *Agent) setHealth(healthy bool, status, lastErr string) {
	now := uint64(time.Now().UnixNano())
	coll := &protobufs.ComponentHealth{Healthy: healthy, Status: status, LastError: lastErr, StatusTimeUnixNano: now}
	if p := a.proc; p != nil {
		coll.StartTimeUnixNano = uint64(p.started.UnixNano())
		coll.Status = fmt.Sprintf("%s pid=%d", status, p.pid)
	}
	h := &protobufs.ComponentHealth{
		Healthy:            healthy,
		StartTimeUnixNano:  coll.StartTimeUnixNano,
		Status:             status,
		LastError:          lastErr,
		StatusTimeUnixNano: now,
		ComponentHealthMap: map[string]*protobufs.ComponentHealth{"collector": coll},
	}
	if ls := a.loadsim.health(); ls != nil {
		h.ComponentHealthMap["loadsim"] = ls
	}
	// Failing exports (from the collector's log, exportwatch.go): the
	// collector runs, but the data does not arrive.
	if k, ex := exportHealth(a.proc, time.Now(), a.cfg.ExportFailureWindow); ex != nil {
		h.ComponentHealthMap[k] = ex
	}
	a.mu.Lock()
	old := a.health
	a.health = h
	a.mu.Unlock()
	if old != nil && healthKey(old) == healthKey(h) {
		return // unchanged: do not resend
	}
	if a.client != nil {
		if err := a.client.SetHealth(h); err != nil {
			a.log.Error("report health", "err", err)
		}
	}
}

// refreshHealth re-sends the current collector health (e.g. after the load
// simulation changed).
func (a *Agent) refreshHealth() {
	a.mu.Lock()
	h := a.health
	a.mu.Unlock()
	if h == nil {
		return
	}
	a.setHealth(h.Healthy, h.Status, h.LastError)
}

// opampLogger routes opamp-go's log lines to slog.
type opampLogger struct{ l *slog.Logger }

func (o opampLogger) Debugf(_ context.Context, format string, v ...any) {
	o.l.Debug(fmt.Sprintf(format, v...))
}

func (o opampLogger) Errorf(_ context.Context, format string, v ...any) {
	o.l.Warn(fmt.Sprintf(format, v...))
}
