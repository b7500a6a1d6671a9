package agent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/open-telemetry/opamp-go/protobufs"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/phoenix-otel/phoenix/agent"
	"github.com/phoenix-otel/phoenix/agent/agentcmd"
	"github.com/phoenix-otel/phoenix/internal/testutil"
	"github.com/phoenix-otel/phoenix/loadgen"
)

// cliArgsEnv makes the test binary run the real phoenix-agent command line
// (used to test the agent as a separate process that can be killed).
const cliArgsEnv = "PHOENIX_AGENT_TEST_CLI_ARGS"

func TestMain(m *testing.M) {
	loadgen.RunChildIfRequested()
	if args, ok := os.LookupEnv(cliArgsEnv); ok {
		os.Exit(agentcmd.Execute(context.Background(), strings.Split(args, "\n")))
	}
	os.Exit(m.Run())
}

const testToken = "test-enrollment-token"

// syncBuffer collects the agent's log; it is printed when a test fails.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type runningAgent struct {
	a      *agent.Agent
	cancel context.CancelFunc
	done   chan error
	log    *syncBuffer
	once   sync.Once
}

func testConfig(t *testing.T, srv *opampServer, dataDir string) agent.Config {
	return agent.Config{
		ServerURL:             srv.url(),
		Token:                 testToken,
		DataDir:               dataDir,
		CollectorPath:         testutil.OtelcolBinary(t),
		HostName:              "test-host",
		Labels:                map[string]string{"env": "test", "team": "phoenix"},
		ApplyTimeout:          20 * time.Second,
		HealthInterval:        300 * time.Millisecond,
		RestartBackoffInitial: 200 * time.Millisecond,
		RestartBackoffMax:     2 * time.Second,
		StopTimeout:           5 * time.Second,
		HeartbeatInterval:     time.Second,
		MaxLoadProcesses:      200,
	}
}

// startAgent runs an agent in this process until the test ends (or stop).
func startAgent(t *testing.T, cfg agent.Config) *runningAgent {
	t.Helper()
	buf := &syncBuffer{}
	cfg.Logger = slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := agent.New(cfg)
	if err != nil {
		t.Fatalf("agent.New: %v", err)
	}
	a.SetOwnMetricsPeriod(500 * time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	r := &runningAgent{a: a, cancel: cancel, done: make(chan error, 1), log: buf}
	go func() { r.done <- a.Run(ctx) }()
	t.Cleanup(func() {
		r.stop(t)
		if t.Failed() {
			t.Logf("agent log:\n%s", buf.String())
		}
	})
	return r
}

func (r *runningAgent) stop(t *testing.T) {
	r.once.Do(func() {
		r.cancel()
		select {
		case err := <-r.done:
			if err != nil {
				t.Errorf("agent.Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("agent did not stop within 30s")
		}
	})
}

// waitLog waits until the agent logged a line containing s.
func (r *runningAgent) waitLog(t *testing.T, s string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(r.log.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("agent never logged %q", s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// flowConfig scrapes host memory every 500ms and exports it to the sink,
// tagged with phoenix.test.config=tag.
func flowConfig(sink *testutil.OTLPSink, tag string) string {
	return fmt.Sprintf(`receivers:
  host_metrics:
    collection_interval: 500ms
    scrapers:
      memory: {}
processors:
  resource:
    attributes:
      - {key: phoenix.test.config, value: %q, action: upsert}
exporters:
  otlp_http:
    endpoint: %s
    compression: none
service:
  pipelines:
    metrics:
      receivers: [host_metrics]
      processors: [resource]
      exporters: [otlp_http]
`, tag, sink.Endpoint())
}

// waitTagged waits for a batch tagged with tag that arrives after now.
func waitTagged(t *testing.T, sink *testutil.OTLPSink, tag string) {
	t.Helper()
	sink.Reset()
	sink.WaitFor(t, 30*time.Second, func(batches []pmetric.Metrics) bool {
		for _, b := range batches {
			for i := 0; i < b.ResourceMetrics().Len(); i++ {
				if v, ok := b.ResourceMetrics().At(i).Resource().Attributes().Get("phoenix.test.config"); ok && v.Str() == tag {
					return true
				}
			}
		}
		return false
	})
}

// collectorPID reads the pid the agent reports in its health.
func collectorPID(h *protobufs.ComponentHealth) int {
	st := h.GetComponentHealthMap()["collector"].GetStatus()
	i := strings.Index(st, "pid=")
	if i < 0 {
		return 0
	}
	pid, _ := strconv.Atoi(strings.Fields(st[i+4:])[0])
	return pid
}

func healthyPID(sn snapshot) int {
	if sn.health == nil || !sn.health.Healthy {
		return 0
	}
	return collectorPID(sn.health)
}

func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	// A zombie still answers kill(0); look at its state.
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && len(s) > i+2 && s[i+2] != 'Z'
}

func effectiveBody(sn snapshot) string {
	return string(sn.effective.GetConfigMap().GetConfigMap()[""].GetBody())
}

func TestIdentityAndGoodConfigApplied(t *testing.T) {
	srv := newOpAMPServer(t, testToken)
	sink := testutil.NewOTLPSink(t)
	dir := t.TempDir()
	r := startAgent(t, testConfig(t, srv, dir))

	// Before any config: the minimal safe config runs, and is healthy.
	sn := srv.waitFor(t, "agent healthy on the minimal config", 60*time.Second, func(sn snapshot) bool { return healthyPID(sn) > 0 })
	if !strings.Contains(effectiveBody(sn), "minimal safe config") {
		t.Fatalf("effective config before any push is not the minimal safe config:\n%s", effectiveBody(sn))
	}

	// Identity: a persisted UUIDv7, the description and the capabilities.
	id, err := uuid.FromBytes(sn.uid)
	if err != nil || id.Version() != 7 {
		t.Fatalf("instance uid %x is not a UUIDv7 (%v)", sn.uid, err)
	}
	if id != r.a.InstanceUID() {
		t.Fatalf("server saw uid %s, agent has %s", id, r.a.InstanceUID())
	}
	onDisk, _ := os.ReadFile(filepath.Join(dir, "instance_uid"))
	if strings.TrimSpace(string(onDisk)) != id.String() {
		t.Fatalf("instance_uid file holds %q, want %s", onDisk, id)
	}
	wantCaps := uint64(agent.Capabilities)
	if sn.caps != wantCaps {
		t.Fatalf("capabilities = %b, want %b", sn.caps, wantCaps)
	}
	for _, c := range []protobufs.AgentCapabilities{
		protobufs.AgentCapabilities_AgentCapabilities_AcceptsRemoteConfig,
		protobufs.AgentCapabilities_AgentCapabilities_ReportsEffectiveConfig,
		protobufs.AgentCapabilities_AgentCapabilities_ReportsRemoteConfig,
		protobufs.AgentCapabilities_AgentCapabilities_ReportsHealth,
		protobufs.AgentCapabilities_AgentCapabilities_ReportsOwnMetrics,
		protobufs.AgentCapabilities_AgentCapabilities_AcceptsRestartCommand,
	} {
		if sn.caps&uint64(c) == 0 {
			t.Errorf("capability %s not set", c)
		}
	}
	if len(sn.customCaps) != 2 || sn.customCaps[0] != agent.LoadSimCapability || sn.customCaps[1] != agent.RetryCapability {
		t.Errorf("custom capabilities = %v, want [%s %s]", sn.customCaps, agent.LoadSimCapability, agent.RetryCapability)
	}
	attrs := map[string]string{}
	for _, kv := range append(sn.desc.GetIdentifyingAttributes(), sn.desc.GetNonIdentifyingAttributes()...) {
		attrs[kv.Key] = kv.GetValue().GetStringValue()
	}
	for k, want := range map[string]string{
		"service.instance.id": id.String(), "service.name": "phoenix-otelcol", "host.name": "test-host",
		"os.type": "linux", "phoenix.label.env": "test", "phoenix.label.team": "phoenix",
	} {
		if attrs[k] != want {
			t.Errorf("description %s = %q, want %q", k, attrs[k], want)
		}
	}
	for _, k := range []string{"host.arch", "os.description", "service.version", "phoenix.agent.version", "phoenix.collector.version"} {
		if attrs[k] == "" {
			t.Errorf("description lacks %s", k)
		}
	}

	// A good config: APPLIED, the effective config equals it, data flows.
	cfg := flowConfig(sink, "A")
	hash := srv.setDesired(cfg)
	srv.waitStatus(t, hash, protobufs.RemoteConfigStatuses_RemoteConfigStatuses_APPLIED, 60*time.Second)
	sn = srv.waitFor(t, "effective config reported", 10*time.Second, func(sn snapshot) bool { return effectiveBody(sn) == cfg })
	if got := effectiveBody(sn); got != cfg {
		t.Fatalf("effective config differs from the applied one:\n%s", got)
	}
	seenApplying := false
	for _, st := range sn.statuses {
		if string(st.LastRemoteConfigHash) == string(hash) && st.Status == protobufs.RemoteConfigStatuses_RemoteConfigStatuses_APPLYING {
			seenApplying = true
		}
	}
	if !seenApplying {
		t.Error("APPLYING was never reported before APPLIED")
	}
	waitTagged(t, sink, "A")
	if !sn.health.GetHealthy() || sn.health.GetStartTimeUnixNano() == 0 {
		t.Errorf("health after apply: %s (start time %d)", describeHealth(sn.health), sn.health.GetStartTimeUnixNano())
	}
	// The last working config is on disk.
	lw, err := os.ReadFile(filepath.Join(dir, "config", "last_working.json"))
	if err != nil || !strings.Contains(string(lw), fmt.Sprintf("%x", hash)) {
		t.Fatalf("last_working.json does not hold the applied hash: %v\n%s", err, lw)
	}
}

func TestInvalidConfigLeavesCollectorUntouched(t *testing.T) {
	srv := newOpAMPServer(t, testToken)
	sink := testutil.NewOTLPSink(t)
	r := startAgent(t, testConfig(t, srv, t.TempDir()))

	good := srv.setDesired(flowConfig(sink, "A"))
	srv.waitStatus(t, good, protobufs.RemoteConfigStatuses_RemoteConfigStatuses_APPLIED, 60*time.Second)
	sn := srv.waitFor(t, "healthy", 10*time.Second, func(sn snapshot) bool { return healthyPID(sn) > 0 })
	pid := healthyPID(sn)
	waitTagged(t, sink, "A")

	bad := strings.Replace(flowConfig(sink, "B"), "exporters: [otlp_http]", "exporters: [otlp_http/missing]", 1)
	badHash := srv.setDesired(bad)
	st := srv.waitStatus(t, badHash, protobufs.RemoteConfigStatuses_RemoteConfigStatuses_FAILED, 60*time.Second)
	if !strings.Contains(st.ErrorMessage, `references exporter "otlp_http/missing" which is not configured`) {
		t.Fatalf("FAILED message lacks the validator's message:\n%s", st.ErrorMessage)
	}
	// Same process, still running, data still flowing with the old config.
	sn = srv.snap()
	if got := collectorPID(sn.health); got != pid || !alive(pid) {
		t.Fatalf("collector pid %d -> %d (alive=%v): the invalid config touched the running collector", pid, got, alive(pid))
	}
	waitTagged(t, sink, "A")
	if effectiveBody(sn) != flowConfig(sink, "A") {
		t.Fatalf("effective config changed after an invalid push:\n%s", effectiveBody(sn))
	}

	// The failed hash is never tried again, even if pushed again.
	n := len(srv.snap().statuses)
	srv.forcePush(bad)
	r.waitLog(t, "ignoring a config that already failed here")
	time.Sleep(time.Second) // a heartbeat carries any status change
	sn = srv.snap()
	for _, s := range sn.statuses[n:] {
		if s.Status != protobufs.RemoteConfigStatuses_RemoteConfigStatuses_FAILED {
			t.Fatalf("a hash that failed was handled again: %s", describeStatus(s))
		}
	}
	if string(sn.status.LastRemoteConfigHash) != string(badHash) || sn.status.Status != protobufs.RemoteConfigStatuses_RemoteConfigStatuses_FAILED {
		t.Fatalf("re-push of a failed hash: status %s", describeStatus(sn.status))
	}
	if collectorPID(sn.health) != pid {
		t.Fatal("re-push of a failed hash restarted the collector")
	}
}

func TestStartFailureRollsBack(t *testing.T) {
	srv := newOpAMPServer(t, testToken)
	sink := testutil.NewOTLPSink(t)
	cfg := testConfig(t, srv, t.TempDir())
	cfg.ApplyTimeout = 15 * time.Second
	startAgent(t, cfg)

	good := srv.setDesired(flowConfig(sink, "A"))
	srv.waitStatus(t, good, protobufs.RemoteConfigStatuses_RemoteConfigStatuses_APPLIED, 60*time.Second)
	waitTagged(t, sink, "A")

	// A port this test holds: the config validates but cannot start.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	broken := strings.Replace(flowConfig(sink, "B"), "receivers:\n  host_metrics:", fmt.Sprintf("receivers:\n  otlp:\n    protocols:\n      http:\n        endpoint: %s\n  host_metrics:", busy.Addr()), 1)
	broken = strings.Replace(broken, "receivers: [host_metrics]", "receivers: [host_metrics, otlp]", 1)
	hash := srv.setDesired(broken)
	started := time.Now()
	st := srv.waitStatus(t, hash, protobufs.RemoteConfigStatuses_RemoteConfigStatuses_FAILED, 60*time.Second)
	if took := time.Since(started); took > cfg.ApplyTimeout+10*time.Second {
		t.Errorf("rollback took %s, apply timeout is %s", took, cfg.ApplyTimeout)
	}
	if !strings.Contains(st.ErrorMessage, "address already in use") {
		t.Fatalf("FAILED message lacks the collector's error:\n%s", st.ErrorMessage)
	}
	// Rolled back: config A runs again, healthy, data flows.
	sn := srv.waitFor(t, "healthy after rollback", 30*time.Second, func(sn snapshot) bool { return healthyPID(sn) > 0 })
	if effectiveBody(sn) != flowConfig(sink, "A") {
		t.Fatalf("effective config after rollback is not the last working one:\n%s", effectiveBody(sn))
	}
	waitTagged(t, sink, "A")
	if sn.pushes[string(hash)] != 1 {
		t.Errorf("the failed config was pushed %d times, want 1", sn.pushes[string(hash)])
	}
}

func TestCrashedCollectorIsRestarted(t *testing.T) {
	srv := newOpAMPServer(t, testToken)
	sink := testutil.NewOTLPSink(t)
	startAgent(t, testConfig(t, srv, t.TempDir()))
	hash := srv.setDesired(flowConfig(sink, "A"))
	srv.waitStatus(t, hash, protobufs.RemoteConfigStatuses_RemoteConfigStatuses_APPLIED, 60*time.Second)
	sn := srv.waitFor(t, "healthy", 10*time.Second, func(sn snapshot) bool { return healthyPID(sn) > 0 })
	pid := healthyPID(sn)
	start := sn.health.StartTimeUnixNano

	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	sn = srv.waitFor(t, "crash reported", 30*time.Second, func(sn snapshot) bool {
		return sn.health != nil && !sn.health.Healthy && strings.Contains(sn.health.LastError, "signal: killed")
	})
	if !strings.Contains(sn.health.Status, "crashed") && !strings.Contains(sn.health.Status, "starting") {
		t.Errorf("health status after the kill: %q", sn.health.Status)
	}
	sn = srv.waitFor(t, "restarted and healthy", 30*time.Second, func(sn snapshot) bool {
		p := healthyPID(sn)
		return p > 0 && p != pid
	})
	if sn.health.StartTimeUnixNano <= start {
		t.Errorf("start time did not move: %d -> %d", start, sn.health.StartTimeUnixNano)
	}
	waitTagged(t, sink, "A")

	// The server's Restart command restarts it too, on the same config.
	pid2 := healthyPID(sn)
	srv.sendRestart()
	sn = srv.waitFor(t, "restarted on command", 30*time.Second, func(sn snapshot) bool {
		p := healthyPID(sn)
		return p > 0 && p != pid2
	})
	if alive(pid2) {
		t.Errorf("the old collector %d survived the restart", pid2)
	}
	if effectiveBody(sn) != flowConfig(sink, "A") {
		t.Errorf("restart changed the effective config")
	}
	waitTagged(t, sink, "A")
}

func TestServerAwayAndBack(t *testing.T) {
	srv := newOpAMPServer(t, testToken)
	sink := testutil.NewOTLPSink(t)
	startAgent(t, testConfig(t, srv, t.TempDir()))
	hash := srv.setDesired(flowConfig(sink, "A"))
	srv.waitStatus(t, hash, protobufs.RemoteConfigStatuses_RemoteConfigStatuses_APPLIED, 60*time.Second)
	pid := healthyPID(srv.waitFor(t, "healthy", 10*time.Second, func(sn snapshot) bool { return healthyPID(sn) > 0 }))
	connects := srv.snap().connects

	srv.stop()
	// Server away: the collector keeps running and data keeps flowing.
	time.Sleep(2 * time.Second)
	if !alive(pid) {
		t.Fatal("collector died while the server was away")
	}
	waitTagged(t, sink, "A")

	// The server comes back on the same address with a new desired config.
	srv.start()
	hashB := srv.setDesired(flowConfig(sink, "B"))
	srv.waitFor(t, "reconnected", 90*time.Second, func(sn snapshot) bool { return sn.connects > connects })
	srv.waitStatus(t, hashB, protobufs.RemoteConfigStatuses_RemoteConfigStatuses_APPLIED, 60*time.Second)
	waitTagged(t, sink, "B")
}

func TestBadTokenRejectedCollectorStillRuns(t *testing.T) {
	srv := newOpAMPServer(t, testToken)
	cfg := testConfig(t, srv, t.TempDir())
	cfg.Token = "wrong"
	r := startAgent(t, cfg)
	srv.waitFor(t, "connection rejected twice (with backoff)", 30*time.Second, func(sn snapshot) bool { return sn.rejected >= 2 })
	if sn := srv.snap(); sn.connects != 0 {
		t.Fatalf("agent with a bad token got connected")
	}
	// The host is not blind: the collector runs its minimal config.
	r.waitLog(t, "collector started")
}

func TestAgentRestartKeepsIdentityAndConfig(t *testing.T) {
	srv := newOpAMPServer(t, testToken)
	sink := testutil.NewOTLPSink(t)
	dir := t.TempDir()
	r := startAgent(t, testConfig(t, srv, dir))
	cfg := flowConfig(sink, "A")
	hash := srv.setDesired(cfg)
	srv.waitStatus(t, hash, protobufs.RemoteConfigStatuses_RemoteConfigStatuses_APPLIED, 60*time.Second)
	pid := healthyPID(srv.waitFor(t, "healthy", 10*time.Second, func(sn snapshot) bool { return healthyPID(sn) > 0 }))
	uid := r.a.InstanceUID()
	r.stop(t)
	if alive(pid) {
		t.Fatalf("collector %d still runs after the agent stopped", pid)
	}

	// A fresh server that pushes nothing.
	srv2 := newOpAMPServer(t, testToken)
	r2 := startAgent(t, testConfig(t, srv2, dir))
	if r2.a.InstanceUID() != uid {
		t.Fatalf("uid changed across restarts: %s -> %s", uid, r2.a.InstanceUID())
	}
	sn := srv2.waitFor(t, "healthy after restart", 60*time.Second, func(sn snapshot) bool { return healthyPID(sn) > 0 })
	if string(sn.uid) != string(uid[:]) {
		t.Fatalf("server saw uid %x, want %s", sn.uid, uid)
	}
	if effectiveBody(sn) != cfg {
		t.Fatalf("after restart the effective config is not the last working one:\n%s", effectiveBody(sn))
	}
	if sn.status == nil || string(sn.status.LastRemoteConfigHash) != string(hash) ||
		sn.status.Status != protobufs.RemoteConfigStatuses_RemoteConfigStatuses_APPLIED {
		t.Fatalf("after restart the reported status is %s, want APPLIED for the last working hash", describeStatus(sn.status))
	}
	waitTagged(t, sink, "A")
	if len(sn.pushes) != 0 {
		t.Fatalf("the server pushed configs: %v", sn.pushes)
	}
}

func TestOwnMetricsReachOfferedEndpoint(t *testing.T) {
	srv := newOpAMPServer(t, testToken)
	sink := testutil.NewOTLPSink(t)
	own := testutil.NewOTLPSink(t)
	r := startAgent(t, testConfig(t, srv, t.TempDir()))
	hash := srv.setDesired(flowConfig(sink, "A"))
	srv.waitStatus(t, hash, protobufs.RemoteConfigStatuses_RemoteConfigStatuses_APPLIED, 60*time.Second)

	srv.offerOwnMetrics(own.Endpoint() + "/v1/metrics")
	uid := r.a.InstanceUID().String()
	own.WaitFor(t, 60*time.Second, func(batches []pmetric.Metrics) bool {
		for _, b := range batches {
			for i := 0; i < b.ResourceMetrics().Len(); i++ {
				rm := b.ResourceMetrics().At(i)
				id, _ := rm.Resource().Attributes().Get("service.instance.id")
				host, _ := rm.Resource().Attributes().Get("host.name")
				if id.Str() != uid || host.Str() != "test-host" {
					continue
				}
				for j := 0; j < rm.ScopeMetrics().Len(); j++ {
					ms := rm.ScopeMetrics().At(j).Metrics()
					for k := 0; k < ms.Len(); k++ {
						if strings.HasPrefix(ms.At(k).Name(), "otelcol_") {
							return true
						}
					}
				}
			}
		}
		return false
	})
	// The data pipeline still works after the telemetry change.
	waitTagged(t, sink, "A")
}

// childPIDs lists the live (non-zombie) children of parent.
func childPIDs(t *testing.T, parent int) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		f := strings.Fields(s[i+2:])
		if len(f) < 2 || f[0] == "Z" {
			continue
		}
		if ppid, _ := strconv.Atoi(f[1]); ppid == parent {
			out = append(out, pid)
		}
	}
	return out
}

// loadChildren are the children of parent that are load processes.
func loadChildren(t *testing.T, parent int) []int {
	var out []int
	for _, pid := range childPIDs(t, parent) {
		env, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if bytes.Contains(env, []byte("PHOENIX_LOADGEN_CHILD=")) {
			out = append(out, pid)
		}
	}
	return out
}

func lastLoadState(t *testing.T, sn snapshot) *agent.LoadSimState {
	for i := len(sn.custom) - 1; i >= 0; i-- {
		m := sn.custom[i]
		if m.Capability == agent.LoadSimCapability && m.Type == agent.LoadSimStatus {
			var st agent.LoadSimState
			if err := jsonUnmarshal(m.Data, &st); err != nil {
				t.Fatalf("bad load status %s: %v", m.Data, err)
			}
			return &st
		}
	}
	return nil
}

// loadRequest asks for a small custom profile: 2*perGroup light processes.
func loadRequest(t *testing.T, perGroup int, duration string) []byte {
	t.Helper()
	profile := fmt.Sprintf(`name: agent-test
processes:
  - name_template: "nginx: worker process {i}"
    executable: nginx
    count: %d
    cpu: {pattern: steady, base: 0.005}
    memory: {pattern: steady, base: 1MiB}
  - name_template: "python3 /opt/app/job.py --id={id}"
    count: %d
    cpu: {pattern: steady, base: 0.005}
    memory: {pattern: steady, base: 1MiB}
`, perGroup, perGroup)
	b, err := json.Marshal(agent.LoadSimRequest{Profile: "custom", ProfileYAML: profile, Duration: duration, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLoadSimulationStartsAndStopsRealProcesses(t *testing.T) {
	srv := newOpAMPServer(t, testToken)
	startAgent(t, testConfig(t, srv, t.TempDir()))
	srv.waitFor(t, "connected", 60*time.Second, func(sn snapshot) bool { return sn.connected && sn.desc != nil })

	// A bad request is refused with a message naming the field.
	srv.sendCustom(agent.LoadSimStart, []byte(`{"profile":"realistic","process_count":-3}`))
	sn := srv.waitFor(t, "refusal reported", 30*time.Second, func(sn snapshot) bool {
		st := lastLoadState(t, sn)
		return st != nil && st.State == "failed"
	})
	if st := lastLoadState(t, sn); !strings.Contains(st.Error, "process_count") {
		t.Fatalf("refusal does not name process_count: %q", st.Error)
	}

	const n = 12
	srv.sendCustom(agent.LoadSimStart, loadRequest(t, 6, "10m"))
	srv.waitFor(t, "running reported", 30*time.Second, func(sn snapshot) bool {
		st := lastLoadState(t, sn)
		return st != nil && st.State == "running" && st.Target == n
	})
	me := os.Getpid()
	deadline := time.Now().Add(30 * time.Second)
	for len(loadChildren(t, me)) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d load processes running, want %d", len(loadChildren(t, me)), n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	pids := loadChildren(t, me)
	if len(pids) != n {
		t.Fatalf("%d load processes, want exactly %d", len(pids), n)
	}
	srv.sendCustom(agent.LoadSimStatus, nil)
	srv.waitFor(t, "status with live count", 30*time.Second, func(sn snapshot) bool {
		st := lastLoadState(t, sn)
		return st != nil && st.State == "running" && st.Live == n && st.Started == n
	})

	srv.sendCustom(agent.LoadSimStop, nil)
	srv.waitFor(t, "stopped reported", 30*time.Second, func(sn snapshot) bool {
		st := lastLoadState(t, sn)
		return st != nil && st.State == "stopped" && st.Live == 0
	})
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("load process %d still alive after stop", pid)
		}
	}
	if left := loadChildren(t, me); len(left) != 0 {
		t.Fatalf("load processes left after stop: %v", left)
	}
}

// TestNoOrphansWhenAgentIsKilled runs the real phoenix-agent command line in
// a separate process, with its collector and a load simulation, kills it
// with SIGKILL (no chance to clean up) and checks that every child died.
func TestNoOrphansWhenAgentIsKilled(t *testing.T) {
	srv := newOpAMPServer(t, testToken)
	bin := testutil.OtelcolBinary(t)
	// A relative --data-dir, as `make run` passes it.
	args := []string{
		"--server=" + srv.url(), "--token=" + testToken, "--data-dir=data/agent",
		"--collector=" + bin, "--health-interval=300ms", "--heartbeat-interval=1s",
	}
	self, err := filepath.Abs(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), cliArgsEnv+"="+strings.Join(args, "\n"))
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(waited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-waited
		if t.Failed() {
			t.Logf("agent output:\n%s", out.String())
		}
	})

	sn := srv.waitFor(t, "agent healthy", 60*time.Second, func(sn snapshot) bool { return healthyPID(sn) > 0 })
	collector := healthyPID(sn)
	srv.sendCustom(agent.LoadSimStart, loadRequest(t, 5, ""))
	deadline := time.Now().Add(30 * time.Second)
	for len(loadChildren(t, cmd.Process.Pid)) < 10 {
		if time.Now().After(deadline) {
			t.Fatalf("load processes of the agent: %d, want 10", len(loadChildren(t, cmd.Process.Pid)))
		}
		time.Sleep(100 * time.Millisecond)
	}
	victims := append(loadChildren(t, cmd.Process.Pid), collector)

	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-waited
	deadline = time.Now().Add(10 * time.Second)
	for {
		var left []int
		for _, pid := range victims {
			if alive(pid) {
				left = append(left, pid)
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("orphans left after the agent was killed: %v (collector %d)", left, collector)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// BenchmarkApplyRemoteConfig measures one safe apply end to end with the
// real collector: push -> APPLYING -> validate -> restart -> healthy ->
// APPLIED as seen by the server.
func BenchmarkApplyRemoteConfig(b *testing.B) {
	srv := newOpAMPServer(b, testToken)
	sink := testutil.NewOTLPSink(b)
	cfg := agent.Config{
		ServerURL: srv.url(), Token: testToken, DataDir: b.TempDir(), CollectorPath: testutil.OtelcolBinary(b),
		HealthInterval: time.Second, HeartbeatInterval: time.Second, Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil)),
	}
	a, err := agent.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() { cancel(); <-done }()
	srv.waitFor(b, "connected", 60*time.Second, func(sn snapshot) bool { return sn.connected && sn.desc != nil })
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		hash := srv.setDesired(flowConfig(sink, fmt.Sprintf("bench-%d", i)))
		srv.waitStatus(b, hash, protobufs.RemoteConfigStatuses_RemoteConfigStatuses_APPLIED, 60*time.Second)
	}
}
