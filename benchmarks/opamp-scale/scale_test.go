// Package opampscale is phoenix-server's scale benchmark: one process
// simulates N agents with real opamp-go clients against real phoenix-server
// processes (SQLite, PostgreSQL, or two replicas on one PostgreSQL with the
// agents on the replica that does not take the write), and measures
//
//   - deploy-to-applied: from the POST of a deployment targeting all N agents
//     to each agent applying its config (p50, p99, max), and to the server
//     reporting the deployment applied;
//   - server CPU per agent per deployment: the servers' utime+stime from the
//     POST until the server reports applied, divided by N;
//   - a change during the rollout: a small deployment (the canary hosts) is
//     changed once while nothing else happens and once as soon as the first
//     agent of the large deployment applied it, in the middle of its rollout; both latencies are reported side by side (a change lost
//     under load shows up here as tens of seconds);
//   - server RSS per connected agent: (RSS with N agents - RSS with none) / N;
//   - idle CPU: with N agents connected and nothing but heartbeats, the
//     servers' CPU over a window that covers the periodic jobs (resync and
//     liveness flush every minute);
//   - the server's own CPU profile over the deployment (--pprof-addr), kept
//     in -profile-dir;
//   - a staged rollout (opamp-server/rollout) of a new version of the large
//     deployment with the default policy (or -rollout-soak): from the PUT to
//     the last agent applying it, its batches, and the server CPU per agent.
//     The deployments above go all at once (version 1, and the canary's
//     changes with strategy all-at-once), so their figures mean what they
//     meant before rollouts were staged.
//
// The harness never polls the REST API while it measures: it reads its own
// simulated agents, and the server's Prometheus counter of applied configs.
//
// Run (figures in benchmarks/README.md):
//
//	go test -run '^$' -bench OpAMPScale -benchtime 1x -timeout 60m ./benchmarks/opamp-scale/ -agents 1000 [-store postgres] [-replicas 2]
package opampscale

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/agentsim"
	"github.com/phoenix-otel/phoenix/opamp-server/server"
	"github.com/phoenix-otel/phoenix/opamp-server/store/postgres/pgtest"
)

var (
	agentsFlag     = flag.Int("agents", 100, "simulated agents of the large deployment")
	canaryFlag     = flag.Int("canary", 20, "simulated agents of the small deployment changed during the rollout")
	heartbeatFlag  = flag.Duration("heartbeat", 30*time.Second, "agents' heartbeat interval (opamp-go default 30s)")
	idleFlag       = flag.Duration("idle-window", 65*time.Second, "window over which idle CPU is measured (covers the 1-minute resync and liveness flush)")
	storeFlag      = flag.String("store", "sqlite", "sqlite or postgres (PostgreSQL: PHOENIX_TEST_POSTGRES_DSN names the cluster)")
	replicasFlag   = flag.Int("replicas", 1, "server replicas (2 needs -store postgres); agents connect to the last, writes go to the first")
	profileDirFlag = flag.String("profile-dir", "", "keep the servers' CPU and heap profiles here (default: a temporary directory)")
	profileSecs    = flag.Int("profile-seconds", 20, "length of the CPU profile taken from the POST on")
	rolloutFlag    = flag.Bool("rollout", true, "measure a staged rollout of a new version of the large deployment")
	rolloutSoak    = flag.String("rollout-soak", "", "soak of the measured rollout (default: the rollout default, 30s)")
)

// serverProc is a phoenix-server child process.
type serverProc struct {
	cmd              *exec.Cmd
	opampURL, apiURL string
	pprofAddr        string
	log              *syncBuffer
}

func freeAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type syncBuffer struct {
	mu sync.Mutex
	bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.Write(p)
}
func (b *syncBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.Buffer.String() }

// cluster is the servers of one run and the tokens they share.
type cluster struct {
	servers             []*serverProc
	apiToken, enrollTok string
}

// writer takes the REST calls; agents connect to agentsOn.
func (c *cluster) writer() *serverProc   { return c.servers[0] }
func (c *cluster) agentsOn() *serverProc { return c.servers[len(c.servers)-1] }

func buildServer(t testing.TB) string {
	bin := filepath.Join(t.TempDir(), "phoenix-server")
	build := exec.Command("go", "build", "-o", bin, "github.com/phoenix-otel/phoenix/opamp-server/cmd/phoenix-server")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build phoenix-server: %v\n%s", err, out)
	}
	return bin
}

func startCluster(t testing.TB, storeKind string, replicas int) *cluster {
	t.Helper()
	bin := buildServer(t)
	dsn := ""
	switch storeKind {
	case "sqlite":
		if replicas != 1 {
			t.Fatalf("-replicas %d needs -store postgres: SQLite serves one process", replicas)
		}
	case "postgres":
		dsn = pgtest.FreshDatabase(t)
	default:
		t.Fatalf("-store %q: want sqlite or postgres", storeKind)
	}
	shared := t.TempDir()
	c := &cluster{}
	for i := range replicas {
		c.servers = append(c.servers, startServer(t, bin, dsn, shared, fmt.Sprintf("replica-%d", i)))
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(shared, name))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	c.apiToken, c.enrollTok = read("api-token"), read("enrollment-token")
	return c
}

func startServer(t testing.TB, bin, dsn, shared, id string) *serverProc {
	t.Helper()
	opampAddr, httpAddr, pprofAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	data := filepath.Join(t.TempDir(), "data")
	args := []string{"--opamp-addr", opampAddr, "--http-addr", httpAddr, "--data-dir", data, "--log-level", "warn",
		"--server-id", id, "--pprof-addr", pprofAddr,
		"--api-token-file", filepath.Join(shared, "api-token"), "--enrollment-token-file", filepath.Join(shared, "enrollment-token")}
	if dsn != "" {
		args = append(args, "--store", dsn)
	}
	cmd := exec.Command(bin, args...)
	logBuf := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logBuf, logBuf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	sp := &serverProc{cmd: cmd, opampURL: "ws://" + opampAddr + server.OpAMPPath, apiURL: "http://" + httpAddr, pprofAddr: pprofAddr, log: logBuf}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(sp.apiURL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("phoenix-server %s not ready:\n%s", id, logBuf.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return sp
}

// rssKiB is VmRSS of the process.
func rssKiB(t testing.TB, pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.Fields(v)[0])
			return n
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// cpuTicks is utime+stime of the process, in clock ticks (1/100 s on Linux).
func cpuTicks(t testing.TB, pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return ut + st
}

func (c *cluster) cpuTicks(t testing.TB) int64 {
	var n int64
	for _, s := range c.servers {
		n += cpuTicks(t, s.cmd.Process.Pid)
	}
	return n
}

func (c *cluster) rssKiB(t testing.TB) int {
	n := 0
	for _, s := range c.servers {
		n += rssKiB(t, s.cmd.Process.Pid)
	}
	return n
}

func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func (c *cluster) api(t testing.TB, sp *serverProc, method, path string, body any, out any) int {
	var rd io.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, sp.apiURL+path, rd)
	req.Header.Set("Authorization", "Bearer "+c.apiToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		_ = json.Unmarshal(b, out)
	}
	if resp.StatusCode >= 300 {
		t.Logf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return resp.StatusCode
}

// appliedCount reads phoenix_server_configs_applied_total (a counter, not
// a listing of the fleet).
func appliedCount(t testing.TB, sp *serverProc) int {
	resp, err := http.Get(sp.apiURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "phoenix_server_configs_applied_total "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return int(f)
		}
	}
	return 0
}

// profile takes the server's CPU profile for secs from now, in the background.
func profile(t testing.TB, sp *serverProc, secs int, dst string) func() {
	done := make(chan struct{})
	go func() {
		defer close(done)
		resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", sp.pprofAddr, secs))
		if err != nil {
			t.Logf("cpu profile: %v", err)
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Logf("cpu profile: %v", err)
		}
	}()
	return func() { <-done }
}

func heapProfile(t testing.TB, sp *serverProc, dst string) {
	resp, err := http.Get("http://" + sp.pprofAddr + "/debug/pprof/heap")
	if err != nil {
		t.Logf("heap profile: %v", err)
		return
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	_ = os.WriteFile(dst, b, 0o644)
}

// Result is one run's figures.
type Result struct {
	Store              string
	Replicas           int
	Agents, Canary     int
	ConnectAll         time.Duration
	ConnectCPUms       float64 // per agent
	PostAnswered       time.Duration
	P50, P99, Max      time.Duration
	ServerApplied      time.Duration
	DeployCPUms        float64 // per agent per deployment
	QuietChangeP99     time.Duration
	MidRolloutP99      time.Duration
	MidRolloutAt       int // fleet agents applied when the canary change was made
	RSSBaseKiB, RSSKiB int
	RSSPerAgentKiB     float64
	IdleCPUPercent     float64
	IdleWindow         time.Duration
	Heartbeat          time.Duration
	PushedConfigBytes  int
	LoadAvg            string
	ProfileDir         string
	// The staged rollout of version 2 of the large deployment.
	Rollout RolloutResult
}

// RolloutResult is the measured staged rollout.
type RolloutResult struct {
	Soak            string
	Total           time.Duration // PUT -> the last agent applied version 2
	Batches         int
	Sizes           []int
	ApplyMean       time.Duration // a batch admitted -> every reached host healthy
	ApplyMax        time.Duration
	CPUms           float64 // server CPU per agent over the rollout
	State           string
	HeldBackCorrect bool // no agent got version 2 before its batch started
	LoadAvg         string
	Stages          []RolloutStage
}

// RolloutStage is one batch: when it started after the PUT, and how long
// from its admission to every reached host healthy (the soak follows).
type RolloutStage struct {
	Size  int
	Start time.Duration
	Apply time.Duration
}

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	ds = append([]time.Duration(nil), ds...)
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	i := int(p*float64(len(ds))+0.5) - 1
	i = max(0, min(i, len(ds)-1))
	return ds[i]
}

func topk(name string, k int, selector string) map[string]any {
	return map[string]any{"name": name, "template": "process-topk-v1", "params": map[string]any{"k": k},
		"destination": map[string]any{"type": "debug"}, "target": map[string]any{"selector": map[string]string{"fleet": selector}}}
}

const rolloutWait = "the staged rollout"

// rolloutView is the part of GET .../rollout the benchmark reads.
type rolloutView struct {
	State   string `json:"state"`
	Version int    `json:"version"`
	Batches []struct {
		Size         int       `json:"size"`
		Hosts        []string  `json:"hosts"`
		StartedAt    time.Time `json:"started_at"`
		HealthySince time.Time `json:"healthy_since"`
	} `json:"batches"`
	Transitions []struct {
		Status string    `json:"status"`
		At     time.Time `json:"at"`
	} `json:"transitions"`
}

// measureRollout puts version 2 of the fleet deployment with the default
// policy and waits until every agent applied it, reading only the agents;
// then it reads the rollout once for its batches.
func measureRollout(t testing.TB, c *cluster, fleet []*agentsim.Agent, soak string) RolloutResult {
	w := c.writer()
	body := topk("fleet", 21, "bench")
	if soak != "" {
		body["rollout"] = map[string]any{"soak": soak}
	}
	before := receivedCounts(fleet)
	cpu0 := c.cpuTicks(t)
	t0 := time.Now()
	if code := c.api(t, w, "PUT", "/api/v1/deployments/fleet", body, nil); code != 200 {
		t.Fatalf("version 2 of the fleet: %d", code)
	}
	lat, _ := waitApplied(t, rolloutWait, fleet, before, t0, nil)
	res := RolloutResult{Soak: soak, Total: percentile(lat, 1), CPUms: float64(c.cpuTicks(t)-cpu0) * 10 / float64(len(fleet)), LoadAvg: loadAvg()}
	if res.Soak == "" {
		res.Soak = "30s (default)"
	}
	var rv rolloutView
	deadline := time.Now().Add(2 * time.Minute)
	for {
		c.api(t, w, "GET", "/api/v1/deployments/fleet/rollout", nil, &rv)
		if rv.State == "completed" || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second) // the last batch is applied; its healthy check follows within a second
	}
	res.State, res.Batches = rv.State, len(rv.Batches)
	var sum time.Duration
	for _, b := range rv.Batches {
		res.Sizes = append(res.Sizes, b.Size)
		end := b.HealthySince
		if end.IsZero() && len(rv.Transitions) > 0 {
			end = rv.Transitions[len(rv.Transitions)-1].At // the last batch completes the rollout
		}
		d := end.Sub(b.StartedAt)
		res.Stages = append(res.Stages, RolloutStage{Size: b.Size, Start: b.StartedAt.Sub(t0), Apply: d})
		sum += d
		res.ApplyMax = max(res.ApplyMax, d)
	}
	if res.Batches > 0 {
		res.ApplyMean = sum / time.Duration(res.Batches)
	}
	// Held back: an agent listed in a batch received version 2 only after
	// that batch started (hosts of big batches are not listed: checked on
	// the small ones, where a leak would show first).
	res.HeldBackCorrect = true
	started := map[string]time.Time{}
	for _, b := range rv.Batches {
		for _, h := range b.Hosts {
			started[h] = b.StartedAt
		}
	}
	for i, a := range fleet {
		st, ok := started[a.Host()]
		rec := a.Received()
		if ok && len(rec) > before[i] && rec[before[i]].At.Before(st) {
			res.HeldBackCorrect = false
		}
	}
	return res
}

// lastApplied is when the agent applied the last config it received (zero
// if it has not yet); ok says it received one at all.
func lastApplied(a *agentsim.Agent, after int) (time.Time, int, bool) {
	rec := a.Received()
	if len(rec) <= after {
		return time.Time{}, len(rec), false
	}
	last := rec[len(rec)-1]
	return a.AppliedAt(last.Hash), len(last.Body), true
}

// waitApplied waits until every agent applied a config received after the
// first `before[i]` ones, and returns the latencies from t0. progress, when
// set, is called with the number applied so far on every pass.
func waitApplied(t testing.TB, what string, agents []*agentsim.Agent, before []int, t0 time.Time, progress func(int)) ([]time.Duration, int) {
	t.Helper()
	lat := make([]time.Duration, len(agents))
	pending := make([]int, len(agents))
	for i := range pending {
		pending[i] = i
	}
	size := 0
	wait := 10 * time.Minute
	if what == rolloutWait {
		wait = time.Hour // a staged rollout at 10,000 agents runs 14 batches, each soaking 30 s
	}
	deadline := time.Now().Add(wait)
	for len(pending) > 0 {
		rest := pending[:0]
		for _, i := range pending {
			at, n, ok := lastApplied(agents[i], before[i])
			if !ok || at.IsZero() {
				rest = append(rest, i)
				continue
			}
			lat[i], size = at.Sub(t0), n
		}
		pending = rest
		if progress != nil {
			progress(len(agents) - len(pending))
		}
		if len(pending) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s after %s: %d of %d not applied", what, wait, len(pending), len(agents))
		}
		time.Sleep(20 * time.Millisecond)
	}
	return lat, size
}

func receivedCounts(agents []*agentsim.Agent) []int {
	out := make([]int, len(agents))
	for i, a := range agents {
		out[i] = len(a.Received())
	}
	return out
}

func startAgents(t testing.TB, c *cluster, n int, prefix, fleet string, heartbeat time.Duration) []*agentsim.Agent {
	ctx := context.Background()
	agents := make([]*agentsim.Agent, n)
	for i := range agents {
		a, err := agentsim.Start(ctx, agentsim.Options{
			URL: c.agentsOn().opampURL, Token: c.enrollTok, Host: fmt.Sprintf("%s-%05d", prefix, i),
			Labels: map[string]string{"fleet": fleet}, Heartbeat: heartbeat,
		})
		if err != nil {
			t.Fatal(err)
		}
		agents[i] = a
	}
	t.Cleanup(func() {
		var wg sync.WaitGroup
		for _, a := range agents {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sctx, c := context.WithTimeout(ctx, 10*time.Second)
				defer c()
				_ = a.Stop(sctx)
			}()
		}
		wg.Wait()
	})
	return agents
}

func waitConnected(t testing.TB, agents []*agentsim.Agent) {
	deadline := time.Now().Add(10 * time.Minute)
	for {
		on := 0
		for _, a := range agents {
			if a.Connected() {
				on++
			}
		}
		if on == len(agents) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d agents connected", on, len(agents))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func run(t testing.TB, storeKind string, replicas, n, canaries int, heartbeat, idle time.Duration, rollout bool, soak string) Result {
	c := startCluster(t, storeKind, replicas)
	profDir := *profileDirFlag
	if profDir == "" {
		profDir = t.TempDir()
	}
	if err := os.MkdirAll(profDir, 0o755); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // let the servers settle before the baseline
	res := Result{Store: storeKind, Replicas: replicas, Agents: n, Canary: canaries, Heartbeat: heartbeat, IdleWindow: idle,
		RSSBaseKiB: c.rssKiB(t), ProfileDir: profDir}

	cpu0 := c.cpuTicks(t)
	start := time.Now()
	fleet := startAgents(t, c, n, "host", "bench", heartbeat)
	canary := startAgents(t, c, canaries, "canary", "canary", heartbeat)
	waitConnected(t, append(append([]*agentsim.Agent(nil), fleet...), canary...))
	res.ConnectAll = time.Since(start)
	time.Sleep(2 * time.Second) // the servers finish the first reports
	res.ConnectCPUms = float64(c.cpuTicks(t)-cpu0) * 10 / float64(n+canaries)

	// The canary deployment, and one quiet change of it.
	w := c.writer()
	if code := c.api(t, w, "POST", "/api/v1/deployments", topk("canary", 10, "canary"), nil); code != 201 {
		t.Fatalf("deploy canary: %d", code)
	}
	waitApplied(t, "canary v1", canary, make([]int, canaries), time.Now(), nil)
	change := func(k, expect int) (time.Time, []int) {
		before := receivedCounts(canary)
		body := topk("canary", k, "canary")
		body["expected_version"] = expect
		body["rollout"] = map[string]any{"strategy": "all-at-once"} // the change's latency, not a rollout's
		t0 := time.Now()
		if code := c.api(t, w, "PUT", "/api/v1/deployments/canary", body, nil); code != 200 {
			t.Fatalf("change canary: %d", code)
		}
		t.Logf("canary change to k=%d answered in %s", k, time.Since(t0))
		return t0, before
	}
	t0, before := change(11, 1)
	lat, _ := waitApplied(t, "canary v2 (quiet)", canary, before, t0, nil)
	res.QuietChangeP99 = percentile(lat, .99)

	// The large deployment; the canary changes again in its middle.
	applied0 := appliedCount(t, c.agentsOn())
	cpu1 := c.cpuTicks(t)
	waitProfile := profile(t, w, *profileSecs, filepath.Join(profDir, fmt.Sprintf("cpu-deploy-%s-%dx%d.pprof", storeKind, replicas, n)))
	t0 = time.Now()
	posted := make(chan int, 1)
	go func() {
		code := c.api(t, w, "POST", "/api/v1/deployments", topk("fleet", 20, "bench"), nil)
		res.PostAnswered = time.Since(t0)
		posted <- code
	}()
	// The canary changes as soon as the first fleet agent applied: in the
	// middle of the rollout.
	var midT0 time.Time
	var midBefore []int
	lat, size := waitApplied(t, "all agents applied", fleet, make([]int, n), t0, func(done int) {
		if midT0.IsZero() && done >= 1 {
			res.MidRolloutAt = done
			midT0, midBefore = change(12, 2)
		}
	})
	if code := <-posted; code != 201 {
		t.Fatalf("deploy: %d", code)
	}
	res.PushedConfigBytes = size
	res.P50, res.P99, res.Max = percentile(lat, .50), percentile(lat, .99), percentile(lat, 1)
	mid, _ := waitApplied(t, "canary v3 (during the rollout)", canary, midBefore, midT0, nil)
	res.MidRolloutP99 = percentile(mid, .99)
	// The server has seen every APPLIED: its counter says so.
	want := applied0 + n + canaries
	deadline := time.Now().Add(5 * time.Minute)
	for appliedCount(t, c.agentsOn()) < want {
		if time.Now().After(deadline) {
			t.Fatalf("server counted %d applies, want %d", appliedCount(t, c.agentsOn()), want)
		}
		time.Sleep(100 * time.Millisecond)
	}
	res.ServerApplied = time.Since(t0)
	res.DeployCPUms = float64(c.cpuTicks(t)-cpu1) * 10 / float64(n)
	res.LoadAvg = loadAvg()
	// One read of the status, as a user would make it at the end.
	var st struct {
		Status string `json:"status"`
		Total  int    `json:"total"`
	}
	for range 50 {
		c.api(t, w, "GET", "/api/v1/deployments/fleet/status", nil, &st)
		if st.Status == "applied" && st.Total == n {
			break
		}
		time.Sleep(200 * time.Millisecond) // batched writes: bounded staleness
	}
	if st.Status != "applied" || st.Total != n {
		t.Fatalf("server status %+v, want applied for %d", st, n)
	}
	waitProfile()

	// Idle: only heartbeats and the periodic jobs.
	time.Sleep(3 * time.Second)
	res.RSSKiB = c.rssKiB(t)
	res.RSSPerAgentKiB = float64(res.RSSKiB-res.RSSBaseKiB) / float64(n+canaries)
	heapProfile(t, c.agentsOn(), filepath.Join(profDir, fmt.Sprintf("heap-%s-%dx%d.pprof", storeKind, replicas, n)))
	c0, w0 := c.cpuTicks(t), time.Now()
	// The idle window's CPU profile of the agents' server (pprof's sampling
	// costs a fraction of the profiled CPU itself).
	waitIdle := profile(t, c.agentsOn(), int(idle/time.Second), filepath.Join(profDir, fmt.Sprintf("cpu-idle-%s-%dx%d.pprof", storeKind, replicas, n)))
	time.Sleep(idle)
	c1, w1 := c.cpuTicks(t), time.Now()
	waitIdle()
	res.IdleCPUPercent = float64(c1-c0) / 100 / w1.Sub(w0).Seconds() * 100
	if rollout {
		res.Rollout = measureRollout(t, c, fleet, soak)
	}
	return res
}

func (r RolloutResult) table(n int) string {
	return fmt.Sprintf(`| agents | soak | rollout PUT→last agent applied | batches | sizes | batch admitted→healthy mean | max | server CPU per agent | state | held back | load average |
|---:|---|---:|---:|---|---:|---:|---:|---|---|---|
| %d | %s | %s | %d | %v | %s | %s | %.3f ms | %s | %v | %s |
`, n, r.Soak, r.Total.Round(time.Millisecond), r.Batches, r.Sizes, r.ApplyMean.Round(time.Millisecond), r.ApplyMax.Round(time.Millisecond), r.CPUms, r.State, r.HeldBackCorrect, r.LoadAvg) + r.stagesTable()
}

// stagesTable is the time of each batch: its start after the PUT, its
// admission to healthy, and the time to the next batch's start.
func (r RolloutResult) stagesTable() string {
	var sb strings.Builder
	sb.WriteString("\n| batch | size | started after the PUT | admitted→healthy | to the next batch |\n|---:|---:|---:|---:|---:|\n")
	for i, st := range r.Stages {
		next := "(last)"
		if i+1 < len(r.Stages) {
			next = (r.Stages[i+1].Start - st.Start).Round(time.Millisecond).String()
		}
		fmt.Fprintf(&sb, "| %d | %d | %s | %s | %s |\n", i+1, st.Size, st.Start.Round(time.Millisecond), st.Apply.Round(time.Millisecond), next)
	}
	return sb.String()
}

func (r Result) table() string {
	return fmt.Sprintf(`| store | replicas | agents | connect all | POST answered | deploy→applied p50 | p99 | max | server applied | server CPU per agent per deployment | canary change quiet p99 | canary change mid-rollout p99 | RSS per agent | idle CPU (%s window, heartbeat %s) | load average |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|
| %s | %d | %d | %s | %s | %s | %s | %s | %s | %.3f ms | %s | %s (at %d applied) | %.1f KiB | %.2f %% of one core | %s |
`, r.IdleWindow, r.Heartbeat, r.Store, r.Replicas, r.Agents, r.ConnectAll.Round(time.Millisecond), r.PostAnswered.Round(time.Millisecond),
		r.P50.Round(time.Millisecond), r.P99.Round(time.Millisecond), r.Max.Round(time.Millisecond), r.ServerApplied.Round(time.Millisecond),
		r.DeployCPUms, r.QuietChangeP99.Round(time.Millisecond), r.MidRolloutP99.Round(time.Millisecond), r.MidRolloutAt,
		r.RSSPerAgentKiB, r.IdleCPUPercent, r.LoadAvg)
}

// BenchmarkOpAMPScale runs the scale scenario once per iteration (use
// -benchtime 1x) and reports its figures as benchmark metrics.
func BenchmarkOpAMPScale(b *testing.B) {
	for b.Loop() {
		r := run(b, *storeFlag, *replicasFlag, *agentsFlag, *canaryFlag, *heartbeatFlag, *idleFlag, *rolloutFlag, *rolloutSoak)
		b.ReportMetric(float64(r.P50.Milliseconds()), "p50-ms")
		b.ReportMetric(float64(r.P99.Milliseconds()), "p99-ms")
		b.ReportMetric(r.DeployCPUms, "cpu-ms/agent/deploy")
		b.ReportMetric(float64(r.MidRolloutP99.Milliseconds()), "mid-rollout-change-p99-ms")
		b.ReportMetric(r.RSSPerAgentKiB, "rss-KiB/agent")
		b.ReportMetric(r.IdleCPUPercent, "idle-cpu-%")
		fmt.Print(r.table())
		if *rolloutFlag {
			b.ReportMetric(r.Rollout.Total.Seconds(), "rollout-s")
			fmt.Print(r.Rollout.table(r.Agents))
		}
		fmt.Printf("server profiles in %s (go tool pprof -top <file>)\n", r.ProfileDir)
	}
}

// TestScaleSmall runs the scenario at a small size so the harness itself is
// tested: every agent reaches applied and the figures are sane.
func TestScaleSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a phoenix-server process")
	}
	r := run(t, "sqlite", 1, 20, 5, 2*time.Second, 2*time.Second, true, "1s")
	t.Log("\n" + r.table() + r.Rollout.table(20))
	if ro := r.Rollout; ro.State != "completed" || ro.Batches != 3 || ro.Total < 2*time.Second || !ro.HeldBackCorrect {
		t.Fatalf("rollout of 20 agents (batches 3, 15, 2 with a 1s soak): %+v", ro)
	}
	if r.P50 <= 0 || r.P99 < r.P50 || r.Max < r.P99 || r.ServerApplied <= 0 {
		t.Fatalf("latencies out of order: %+v", r)
	}
	if r.RSSKiB <= 0 || r.IdleCPUPercent < 0 || r.PushedConfigBytes == 0 || r.DeployCPUms <= 0 {
		t.Fatalf("figures missing: %+v", r)
	}
	if fi, err := os.Stat(filepath.Join(r.ProfileDir, "heap-sqlite-1x20.pprof")); err != nil || fi.Size() == 0 {
		t.Fatalf("no server heap profile: %v", err)
	}
}

// TestChangeDuringRollout: a deployment changed in the middle of a rollout
// to many agents reaches its hosts about as fast as when nothing else
// happens, on one server and across two replicas. The agents' heartbeat is
// ten minutes, so a dropped change cannot be rescued by a heartbeat.
func TestChangeDuringRollout(t *testing.T) {
	if testing.Short() {
		t.Skip("starts phoenix-server processes and 1,000 agents")
	}
	cases := []struct {
		store    string
		replicas int
	}{{"sqlite", 1}, {"postgres", 2}}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s-%d", tc.store, tc.replicas), func(t *testing.T) {
			if tc.store == "postgres" {
				pgtest.DSN(t)
			}
			r := run(t, tc.store, tc.replicas, 1000, 20, 10*time.Minute, time.Second, false, "")
			t.Log("\n" + r.table())
			// A change lost under load waits for a resync (a minute) or a
			// heartbeat (ten minutes); one that is not lost takes about the
			// quiet time plus the rollout's queueing.
			if limit := 5*r.QuietChangeP99 + r.P99; r.MidRolloutP99 > limit {
				t.Fatalf("canary change during the rollout took p99 %s; quiet %s, rollout p99 %s: want under %s",
					r.MidRolloutP99, r.QuietChangeP99, r.P99, limit)
			}
		})
	}
}
