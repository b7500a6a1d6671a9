// Package opampscale is phoenix-server's scale benchmark: one process
// simulates N agents with real opamp-go clients against a real
// phoenix-server process (SQLite store), and measures
//
//   - deploy-to-applied: from the POST of a deployment targeting all N agents
//     to each agent applying its config (p50, p99, max), and to the server
//     reporting the deployment applied;
//   - server RSS per connected agent: (RSS with N agents - RSS with none) / N;
//   - server CPU at idle heartbeat: with N agents connected and nothing to
//     do but heartbeats, the server's CPU time over a window, as % of a core.
//
// Run (figures in benchmarks/README.md):
//
//	go test -run '^$' -bench OpAMPScale -benchtime 1x -timeout 30m ./benchmarks/opamp-scale/ -agents 1000
package opampscale

import (
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
)

var (
	agentsFlag    = flag.Int("agents", 100, "simulated agents")
	heartbeatFlag = flag.Duration("heartbeat", 30*time.Second, "agents' heartbeat interval (opamp-go default 30s)")
	idleFlag      = flag.Duration("idle-window", 30*time.Second, "window over which idle CPU is measured")
)

// serverProc is a phoenix-server child process.
type serverProc struct {
	cmd                 *exec.Cmd
	opampURL, apiURL    string
	apiToken, enrollTok string
	log                 *bytes.Buffer
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

func (b *syncBuffer) Write(p []byte) (int, error) { b.mu.Lock(); defer b.mu.Unlock(); return b.Buffer.Write(p) }

func startServer(t testing.TB) *serverProc {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "phoenix-server")
	build := exec.Command("go", "build", "-o", bin, "github.com/phoenix-otel/phoenix/opamp-server/cmd/phoenix-server")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build phoenix-server: %v\n%s", err, out)
	}
	opampAddr, httpAddr := freeAddr(t), freeAddr(t)
	data := filepath.Join(dir, "data")
	cmd := exec.Command(bin, "--opamp-addr", opampAddr, "--http-addr", httpAddr, "--data-dir", data, "--log-level", "warn")
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
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	sp := &serverProc{cmd: cmd, opampURL: "ws://" + opampAddr + server.OpAMPPath, apiURL: "http://" + httpAddr}
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
			t.Fatalf("phoenix-server not ready:\n%s", logBuf.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(data, name))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	sp.apiToken, sp.enrollTok = read("api-token"), read("enrollment-token")
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

func (sp *serverProc) api(t testing.TB, method, path string, body any, out any) int {
	var rd io.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, sp.apiURL+path, rd)
	req.Header.Set("Authorization", "Bearer "+sp.apiToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		_ = json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

// Result is one run's figures.
type Result struct {
	Agents              int
	ConnectAll          time.Duration
	P50, P99, Max       time.Duration
	ServerApplied       time.Duration
	RSSBaseKiB, RSSKiB  int
	RSSPerAgentKiB      float64
	IdleCPUPercent      float64
	IdleWindow          time.Duration
	Heartbeat           time.Duration
	PushedConfigBytes   int
	ServerGoroutinesEst string
}

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	i := int(p*float64(len(ds))+0.5) - 1
	i = max(0, min(i, len(ds)-1))
	return ds[i]
}

func run(t testing.TB, n int, heartbeat, idle time.Duration) Result {
	sp := startServer(t)
	pid := sp.cmd.Process.Pid
	time.Sleep(time.Second) // let the server settle before the baseline
	res := Result{Agents: n, Heartbeat: heartbeat, IdleWindow: idle, RSSBaseKiB: rssKiB(t, pid)}

	ctx := context.Background()
	agents := make([]*agentsim.Agent, n)
	start := time.Now()
	for i := range agents {
		a, err := agentsim.Start(ctx, agentsim.Options{
			URL: sp.opampURL, Token: sp.enrollTok, Host: fmt.Sprintf("host-%05d", i),
			Labels: map[string]string{"fleet": "bench"}, Heartbeat: heartbeat,
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
			go func() { defer wg.Done(); sctx, c := context.WithTimeout(ctx, 10*time.Second); defer c(); _ = a.Stop(sctx) }()
		}
		wg.Wait()
	})
	waitFor(t, "all agents registered", func() bool {
		var out struct {
			Agents []struct {
				Online bool `json:"online"`
			} `json:"agents"`
		}
		sp.api(t, "GET", "/api/v1/agents", nil, &out)
		on := 0
		for _, a := range out.Agents {
			if a.Online {
				on++
			}
		}
		return on == n
	})
	res.ConnectAll = time.Since(start)

	// Deploy to the whole fleet by selector.
	body := map[string]any{"name": "fleet", "template": "process-topk-v1", "params": map[string]any{"k": 20},
		"destination": map[string]any{"type": "debug"}, "target": map[string]any{"selector": map[string]string{"fleet": "bench"}}}
	t0 := time.Now()
	if code := sp.api(t, "POST", "/api/v1/deployments", body, nil); code != 201 {
		t.Fatalf("deploy: %d", code)
	}
	waitFor(t, "all agents applied", func() bool {
		for _, a := range agents {
			rec := a.Received()
			if len(rec) == 0 || a.AppliedAt(rec[len(rec)-1].Hash).IsZero() {
				return false
			}
		}
		return true
	})
	lat := make([]time.Duration, n)
	for i, a := range agents {
		rec := a.Received()
		lat[i] = a.AppliedAt(rec[len(rec)-1].Hash).Sub(t0)
		res.PushedConfigBytes = len(rec[len(rec)-1].Body)
	}
	waitFor(t, "server reports applied", func() bool {
		var st struct {
			Status string `json:"status"`
			Total  int    `json:"total"`
		}
		sp.api(t, "GET", "/api/v1/deployments/fleet/status", nil, &st)
		return st.Status == "applied" && st.Total == n
	})
	res.ServerApplied = time.Since(t0)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	res.P50, res.P99, res.Max = percentile(lat, .50), percentile(lat, .99), lat[n-1]

	// Idle: only heartbeats. Let the deployment's writes settle first.
	time.Sleep(3 * time.Second)
	res.RSSKiB = rssKiB(t, pid)
	res.RSSPerAgentKiB = float64(res.RSSKiB-res.RSSBaseKiB) / float64(n)
	c0, w0 := cpuTicks(t, pid), time.Now()
	time.Sleep(idle)
	c1, w1 := cpuTicks(t, pid), time.Now()
	res.IdleCPUPercent = float64(c1-c0) / 100 / w1.Sub(w0).Seconds() * 100
	return res
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (r Result) table() string {
	return fmt.Sprintf(`| agents | connect all | deploy→applied p50 | p99 | max | server status applied | RSS base | RSS with agents | RSS per agent | idle CPU (heartbeat %s, %s window) |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
| %d | %s | %s | %s | %s | %s | %.1f MiB | %.1f MiB | %.1f KiB | %.2f %% of one core |
`, r.Heartbeat, r.IdleWindow, r.Agents, r.ConnectAll.Round(time.Millisecond), r.P50.Round(time.Millisecond), r.P99.Round(time.Millisecond),
		r.Max.Round(time.Millisecond), r.ServerApplied.Round(time.Millisecond), float64(r.RSSBaseKiB)/1024, float64(r.RSSKiB)/1024, r.RSSPerAgentKiB, r.IdleCPUPercent)
}

// BenchmarkOpAMPScale runs the scale scenario once per iteration (use
// -benchtime 1x) and reports its figures as benchmark metrics.
func BenchmarkOpAMPScale(b *testing.B) {
	for b.Loop() {
		r := run(b, *agentsFlag, *heartbeatFlag, *idleFlag)
		b.ReportMetric(float64(r.P50.Milliseconds()), "p50-ms")
		b.ReportMetric(float64(r.P99.Milliseconds()), "p99-ms")
		b.ReportMetric(r.RSSPerAgentKiB, "rss-KiB/agent")
		b.ReportMetric(r.IdleCPUPercent, "idle-cpu-%")
		fmt.Print(r.table())
	}
}

// TestScaleSmall runs the scenario at a small size so the harness itself is
// tested: every agent reaches applied and the figures are sane.
func TestScaleSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a phoenix-server process")
	}
	r := run(t, 20, 2*time.Second, 2*time.Second)
	t.Log("\n" + r.table())
	if r.P50 <= 0 || r.P99 < r.P50 || r.Max < r.P99 || r.ServerApplied <= 0 {
		t.Fatalf("latencies out of order: %+v", r)
	}
	if r.RSSKiB <= 0 || r.IdleCPUPercent < 0 || r.PushedConfigBytes == 0 {
		t.Fatalf("figures missing: %+v", r)
	}
}
