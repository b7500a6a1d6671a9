// Package overhead is the data plane's overhead benchmark: the built
// phoenix-otelcol with each catalog template on the real process scraper,
// with real processes from the spawner (loadgen's realistic profile scaled to
// N), exporting by remote write into a real Prometheus. Beside them, on the
// same processes at the same time, run two floors: the scraper with the same
// exporter, and the scraper with nop. For each collector it reports
//
//   - CPU, % of one core: utime+stime from /proc/<pid>/stat over the
//     measured window (after two scrapes of warm-up), divided by wall time;
//   - RSS, anonymous and file-backed: RssAnon and RssFile from
//     /proc/<pid>/status, means of samples every 2 s, and the peak (VmHWM);
//   - the ratios of CPU and RSS to both floors;
//   - what arrived in Prometheus: series per scrape (mean), distinct series
//     over the window, and their ratio (the churn a bill sees), processes.
//
// Run (writes the table into benchmarks/README.md):
//
//	make bench-overhead
//	go test -run TestOverhead -timeout 90m ./benchmarks/overhead/ -procs 100,500,2000 -duration 4m -write
//
// `go test ./benchmarks/overhead/` alone runs a short mode (N=100, 40 s) to
// keep the harness tested.
package overhead

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/phoenix-otel/phoenix/internal/testutil"
	"github.com/phoenix-otel/phoenix/loadgen"
	"github.com/phoenix-otel/phoenix/pipelines"
)

var (
	flagN        = flag.String("procs", "100", "process counts to measure, comma-separated")
	flagDuration = flag.Duration("duration", 40*time.Second, "measured window per process count (after warm-up)")
	flagScrape   = flag.Duration("scrape", 10*time.Second, "collection interval of every collector")
	flagCPU      = flag.Float64("cpu-budget", 0.25, "cores all spawned processes burn together")
	flagWrite    = flag.Bool("write", false, "write the table into benchmarks/README.md, the figures into benchmarks/overhead/results.json, and the catalog's table on real processes (pipelines/testdata/realprocesses.json, pipelines/README.md)")
	flagReuse    = flag.Bool("from-results", false, "measure nothing: rewrite the READMEs from benchmarks/overhead/results.json")
	flagMerge    = flag.Bool("merge", false, "with -write: keep the process counts of results.json that this run does not measure (run N=2000 apart from the others)")
	flagBusy     = flag.Int("busy", 500, "most processes the spawner plays (loadgen children: busy, churning); the rest of N are idle sleepers")
)

func TestMain(m *testing.M) {
	loadgen.RunChildIfRequested()
	os.Exit(m.Run())
}

// Result is one collector at one process count.
type Result struct {
	N         int     `json:"n"`
	Collector string  `json:"collector"`
	Template  string  `json:"template,omitempty"`
	CPUPct    float64 `json:"cpu_pct"`
	AnonMiB   float64 `json:"rss_anon_mib"`
	FileMiB   float64 `json:"rss_file_mib"`
	PeakMiB   float64 `json:"rss_peak_mib"`
	// What arrived in Prometheus over the window.
	SeriesPerScrape    float64 `json:"series_per_scrape"`
	DistinctSeries     float64 `json:"distinct_series"`
	ProcessesPerScrape float64 `json:"processes_per_scrape"`
	Scrapes            float64 `json:"scrapes"`
	// ScrapeErrors counts the collector's "Error scraping metrics" lines.
	ScrapeErrors int `json:"scrape_errors"`
	// ExportFailures counts its "Exporting failed" lines: requests the
	// backend did not take in time, whose data were dropped (so its counts,
	// and its CPU, are short of a full export).
	ExportFailures int `json:"export_failures"`
}

// Run is one process count.
type Run struct {
	N    int `json:"n"`
	Live int `json:"live_processes"`
	// Sleepers are the idle processes beside the spawner's (N - Live).
	Sleepers int      `json:"idle_sleepers,omitempty"`
	Window   string   `json:"window"`
	LoadAvg  []string `json:"load_average"` // at start and end, /proc/loadavg
	Results  []Result `json:"results"`
	Skipped  string   `json:"skipped,omitempty"`
	Started  string   `json:"started"`
	HostCPUs int      `json:"host_cpus"`
}

const (
	floorNop = "floor: scraper + nop"
	floorPRW = "floor: scraper + remote write"
)

func TestOverhead(t *testing.T) {
	if *flagReuse {
		b, err := os.ReadFile(filepath.Join(testutil.RepoRoot(), "benchmarks", "overhead", "results.json"))
		if err != nil {
			t.Fatal(err)
		}
		var runs []Run
		if err := json.Unmarshal(b, &runs); err != nil {
			t.Fatal(err)
		}
		write(t, runs)
		return
	}
	testutil.OtelcolBinary(t)
	testutil.PrometheusBinary(t)
	var runs []Run
	for _, s := range strings.Split(*flagN, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			t.Fatalf("-procs: %q is not a process count", s)
		}
		runs = append(runs, measure(t, n))
	}
	for _, r := range runs {
		t.Logf("N=%d: %s", r.N, table([]Run{r}))
	}
	if *flagWrite {
		if *flagMerge {
			runs = merge(t, runs)
		}
		write(t, runs)
	}
}

// merge adds the runs of results.json whose process count runs lacks.
func merge(t *testing.T, runs []Run) []Run {
	b, err := os.ReadFile(filepath.Join(testutil.RepoRoot(), "benchmarks", "overhead", "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var old []Run
	if err := json.Unmarshal(b, &old); err != nil {
		t.Fatal(err)
	}
	have := map[int]bool{}
	for _, r := range runs {
		have[r.N] = true
	}
	for _, r := range old {
		if !have[r.N] {
			runs = append(runs, r)
		}
	}
	return runs
}

type collector struct {
	name, template string
	c              *testutil.Collector
	anon, file     []float64
	ticks0         int64
}

func measure(t *testing.T, n int) Run {
	run := Run{N: n, Window: flagDuration.String(), Started: time.Now().UTC().Format(time.RFC3339), HostCPUs: numCPU()}
	// Up to -busy processes are loadgen children (a Go runtime each, waking
	// every 100 ms, churning); the rest are idle sleepers, as most of a real
	// host's processes are. A spawned child holds about 3-6 MiB, a sleeper
	// well under 1 MiB; leave room for the rest.
	busy := min(n, *flagBusy)
	if need := busy*8 + (n - busy) + 1024; memAvailableMiB() < float64(need) {
		run.Skipped = fmt.Sprintf("%.0f MiB available, %d processes need about %d MiB", memAvailableMiB(), n, need)
		t.Logf("N=%d skipped: %s", n, run.Skipped)
		return run
	}
	prom := testutil.StartPrometheus(t)
	p := population(t, busy)
	sp := loadgen.NewSpawner(loadgen.SpawnerConfig{MaxProcesses: p.ProcessCount(), CPUBudget: *flagCPU, MaxMemoryPerProcess: 2 << 20})
	if err := sp.Start(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	defer sp.Stop()
	run.Live = sp.Status().Live
	run.Sleepers = startSleepers(t, n-busy)

	interval := flagScrape.String()
	var cols []*collector
	add := func(name, template string, r pipelines.Rendered, edit func(m map[string]any)) {
		var m map[string]any
		if err := yaml.Unmarshal(r.YAML, &m); err != nil {
			t.Fatal(err)
		}
		if edit != nil {
			edit(m)
		}
		// The machine is shared and loaded: give remote write the time
		// to answer (every exporter alike), so that no collector's cost is
		// lowered by data it dropped.
		for id, e := range m["exporters"].(map[string]any) {
			if strings.HasPrefix(id, "prometheus_remote_write/") {
				e.(map[string]any)["timeout"] = "30s"
			}
		}
		// Every collector serves its own telemetry, as under the agent.
		m["service"].(map[string]any)["telemetry"] = map[string]any{"metrics": map[string]any{"readers": []any{map[string]any{"pull": map[string]any{"exporter": map[string]any{
			"prometheus": map[string]any{"host": "127.0.0.1", "port": testutil.FreePort(t), "without_scope_info": true}}}}}}}
		out, _ := yaml.Marshal(m)
		cols = append(cols, &collector{name: name, template: template, c: testutil.StartCollector(t, string(out))})
	}
	dest := pipelines.Destination{Type: pipelines.DestPromRW, Endpoint: prom.RemoteWriteURL(), Insecure: true}
	render := func(template, host string, d pipelines.Destination) pipelines.Rendered {
		r, err := pipelines.Render(pipelines.Spec{Template: template, Destination: d,
			Params: map[string]any{"collection_interval": interval}}, pipelines.Context{HostName: host})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	add(floorNop, "", render(pipelines.TemplateBaseline, "bench-floor-nop", pipelines.Destination{Type: pipelines.DestNone}), floor)
	add(floorPRW, "", render(pipelines.TemplateBaseline, "bench-floor-prw", dest), floor)
	for _, tmpl := range pipelines.Names() {
		short := strings.TrimSuffix(strings.TrimPrefix(tmpl, "process-"), "-v1")
		add(short, tmpl, render(tmpl, "bench-"+short, dest), nil)
	}

	// Warm-up: two scrapes (rates and controllers need them).
	time.Sleep(2**flagScrape + 2*time.Second)
	for _, c := range cols {
		if exited, err := c.c.Exited(); exited {
			t.Fatalf("%s exited: %v\n%s", c.name, err, c.c.Log())
		}
		c.ticks0 = ticks(t, c.c.Cmd.Process.Pid)
	}
	run.LoadAvg = append(run.LoadAvg, loadAvg())
	start := time.Now()
	for time.Since(start) < *flagDuration {
		for _, c := range cols {
			a, f := rss(t, c.c.Cmd.Process.Pid)
			c.anon, c.file = append(c.anon, a), append(c.file, f)
		}
		time.Sleep(2 * time.Second)
	}
	wall := time.Since(start)
	end := time.Now()
	run.LoadAvg = append(run.LoadAvg, loadAvg())
	for _, c := range cols {
		pid := c.c.Cmd.Process.Pid
		run.Results = append(run.Results, Result{N: n, Collector: c.name, Template: c.template,
			CPUPct:  100 * float64(ticks(t, pid)-c.ticks0) / clkTck / wall.Seconds(),
			AnonMiB: mean(c.anon), FileMiB: mean(c.file), PeakMiB: status(t, pid, "VmHWM") / 1024})
	}
	hosts := map[string]*Result{}
	for i := range run.Results {
		switch r := &run.Results[i]; r.Collector {
		case floorNop:
		case floorPRW:
			hosts["bench-floor-prw"] = r
		default:
			hosts["bench-"+r.Collector] = r
		}
	}
	// CPU and RSS first, so they survive a backend that fails to answer.
	t.Logf("N=%d, before the backend's counts:\n%s", n, table([]Run{run}))
	backend(t, prom, hosts, wall, end)
	for i, c := range cols {
		run.Results[i].ScrapeErrors = strings.Count(c.c.Log(), "Error scraping metrics")
		run.Results[i].ExportFailures = strings.Count(c.c.Log(), "Exporting failed")
		if strings.Contains(c.c.Log(), "\terror\t") {
			t.Logf("%s logged errors:\n%s", c.name, errorLines(c.c.Log()))
		}
		c.c.Stop()
	}
	return run
}

// floor turns a rendered config into a floor: the same receiver and
// exporter, and of the processors only host.name (resource) and batch.
func floor(m map[string]any) {
	pipes := m["service"].(map[string]any)["pipelines"].(map[string]any)
	for _, p := range pipes {
		pm := p.(map[string]any)
		var keep []any
		for _, id := range pm["processors"].([]any) {
			if s := id.(string); strings.HasPrefix(s, "resource/") || strings.HasPrefix(s, "batch/") {
				keep = append(keep, s)
			}
		}
		pm["processors"] = keep
	}
}

// population is loadgen's realistic profile with n processes: resolved by
// loadgen up to its 200, beyond that with every group but the core services
// scaled by the same factor (the mix stays that of the profile).
func population(t *testing.T, n int) *loadgen.Profile {
	const most = 200
	p, err := loadgen.Resolve(loadgen.Spec{Profile: loadgen.ProfileRealistic, Overrides: loadgen.Overrides{ProcessCount: min(n, most)}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if n <= most {
		return p
	}
	core := map[string]bool{}
	for _, g := range loadgen.CoreServices() {
		core[g.NameTemplate] = true
	}
	coreN, rest := 0, 0
	for _, g := range p.Groups {
		if core[g.NameTemplate] {
			coreN += g.Count
		} else {
			rest += g.Count
		}
	}
	f := float64(n-coreN) / float64(rest)
	total, biggest := coreN, -1
	for i := range p.Groups {
		if core[p.Groups[i].NameTemplate] {
			continue
		}
		p.Groups[i].Count = max(1, int(float64(p.Groups[i].Count)*f))
		total += p.Groups[i].Count
		if biggest < 0 || p.Groups[i].Count > p.Groups[biggest].Count {
			biggest = i
		}
	}
	p.Groups[biggest].Count += n - total
	if p.ProcessCount() != n {
		t.Fatalf("scaled realistic profile has %d processes, want %d", p.ProcessCount(), n)
	}
	return p
}

// sleeperNames are what the idle processes are called: the executable
// name (comm) is the name of the link each is started through, so the
// scraper and the templates see a mix of daemons, shells and runtimes.
var sleeperNames = []string{"bash", "sshd", "agetty", "dbus-daemon", "pause", "containerd-shim", "python3", "node", "php-fpm8.2", "kworker-idle"}

// startSleepers starts n idle processes: the system's sleep(1), run through
// a link named after one of sleeperNames with a unique command line
// ("<name> 86400 <i>"). Unlike a loadgen child it never wakes up, so 1,500
// of them cost the machine nothing between scrapes (the first N=2,000 run,
// 2,000 Go children each waking 10 times a second on 2 shared cores, drove
// the load average to about 2,400). They are killed when the test ends, and
// by the kernel if the test process dies.
func startSleepers(t *testing.T, n int) int {
	if n <= 0 {
		return 0
	}
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Fatalf("idle sleepers need sleep(1): %v", err)
	}
	dir := t.TempDir()
	for _, name := range sleeperNames {
		if err := os.Symlink(sleep, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	var cmds []*exec.Cmd
	t.Cleanup(func() {
		for _, c := range cmds {
			_ = c.Process.Kill()
			_ = c.Wait()
		}
	})
	for i := range n {
		name := sleeperNames[i%len(sleeperNames)]
		c := exec.Command(filepath.Join(dir, name), "86400", strconv.Itoa(i))
		c.Args[0] = name
		c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := c.Start(); err != nil {
			t.Fatalf("sleeper %d of %d: %v", i, n, err)
		}
		cmds = append(cmds, c)
	}
	return n
}

// backend counts what arrived in Prometheus from each collector (by its
// host_name) over the window ending at end: samples / scrapes = series per
// scrape, distinct series, processes per scrape (series of
// process.memory.usage). Every query groups by host_name, so the backend
// answers once for all collectors (at N=2,000 one query per collector made
// a loaded Prometheus time out).
func backend(t *testing.T, prom *testutil.Prometheus, hosts map[string]*Result, window time.Duration, end time.Time) {
	w := fmt.Sprintf("%ds", int(window.Seconds()))
	byHost := func(expr string, f func(r *Result, v float64)) {
		for _, s := range prom.Query(t, expr, end) {
			if r := hosts[s.Metric["host_name"]]; r != nil {
				f(r, s.Value)
			}
		}
	}
	samples, procSamples := map[*Result]float64{}, map[*Result]float64{}
	// One metric name at a time: count_over_time drops the name, and two
	// metrics of one process would then have the same labels.
	for _, name := range prom.LabelValues(t, "__name__") {
		sel := fmt.Sprintf(`%s{host_name=~"bench-.+"}`, name)
		byHost(fmt.Sprintf(`sum by (host_name) (count_over_time(%s[%s]))`, sel, w), func(r *Result, v float64) {
			samples[r] += v
			if name == "process_memory_usage_bytes" {
				procSamples[r] = v
			}
		})
		byHost(fmt.Sprintf(`max by (host_name) (count_over_time(%s[%s]))`, sel, w), func(r *Result, v float64) { r.Scrapes = max(r.Scrapes, v) })
		byHost(fmt.Sprintf(`count by (host_name) (count_over_time(%s[%s]))`, sel, w), func(r *Result, v float64) { r.DistinctSeries += v })
	}
	for _, r := range hosts {
		if r.Scrapes > 0 {
			r.SeriesPerScrape = samples[r] / r.Scrapes
			r.ProcessesPerScrape = procSamples[r] / r.Scrapes
		}
	}
}

const clkTck = 100 // USER_HZ on Linux

// ticks is utime+stime of a process, in clock ticks.
func ticks(t *testing.T, pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// The command name is in parentheses and may hold spaces: fields
	// count from the last ')'.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return u + s
}

// status returns a kB field of /proc/<pid>/status.
func status(t *testing.T, pid int, key string) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && k == key {
			n, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return n
		}
	}
	return 0
}

func rss(t *testing.T, pid int) (anonMiB, fileMiB float64) {
	return status(t, pid, "RssAnon") / 1024, status(t, pid, "RssFile") / 1024
}

func memAvailableMiB() float64 {
	b, _ := os.ReadFile("/proc/meminfo")
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "MemAvailable:") {
			n, _ := strconv.ParseFloat(strings.Fields(line)[1], 64)
			return n / 1024
		}
	}
	return 0
}

func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func numCPU() int {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return strings.Count(string(b), "processor\t:")
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func errorLines(log string) string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "\terror\t") {
			out = append(out, l)
		}
	}
	if len(out) > 5 {
		out = append(out[:5], fmt.Sprintf("... %d more", len(out)-5))
	}
	return strings.Join(out, "\n")
}

func ratio(a, b float64) string {
	if b == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

// table renders runs as the README's Markdown table.
func table(runs []Run) string {
	var b strings.Builder
	b.WriteString("| N | collector | CPU % of a core | ÷ remote-write floor | ÷ nop floor | RSS anon MiB | RSS file MiB | RSS ÷ remote-write floor | peak RSS MiB | series / scrape in Prometheus | distinct series in the window | distinct ÷ per scrape | processes / scrape | scrape errors logged | exports failed |\n")
	b.WriteString("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, run := range runs {
		if run.Skipped != "" {
			fmt.Fprintf(&b, "| %d | skipped: %s | | | | | | | | | | | | | |\n", run.N, run.Skipped)
			continue
		}
		var nop, prw Result
		for _, r := range run.Results {
			switch r.Collector {
			case floorNop:
				nop = r
			case floorPRW:
				prw = r
			}
		}
		for _, r := range run.Results {
			backendCols := "— | — | — | —"
			if r.Collector != floorNop {
				backendCols = fmt.Sprintf("%.0f | %.0f | %s | %.0f", r.SeriesPerScrape, r.DistinctSeries, ratio(r.DistinctSeries, r.SeriesPerScrape), r.ProcessesPerScrape)
			}
			fmt.Fprintf(&b, "| %d | %s | %.2f | %s | %s | %.1f | %.1f | %s | %.1f | %s | %d | %d |\n", run.N, r.Collector, r.CPUPct,
				ratio(r.CPUPct, prw.CPUPct), ratio(r.CPUPct, nop.CPUPct), r.AnonMiB, r.FileMiB,
				ratio(r.AnonMiB+r.FileMiB, prw.AnonMiB+prw.FileMiB), r.PeakMiB, backendCols, r.ScrapeErrors, r.ExportFailures)
		}
	}
	return b.String()
}

const (
	beginMarker = "<!-- overhead:begin (written by make bench-overhead) -->"
	endMarker   = "<!-- overhead:end -->"
)

func write(t *testing.T, runs []Run) {
	sort.SliceStable(runs, func(i, j int) bool { return runs[i].N < runs[j].N })
	root := testutil.RepoRoot()
	js, _ := json.MarshalIndent(runs, "", "  ")
	if err := os.WriteFile(filepath.Join(root, "benchmarks", "overhead", "results.json"), append(js, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	var ns []string
	for _, r := range runs {
		ns = append(ns, strconv.Itoa(r.N))
	}
	var sec strings.Builder
	sec.WriteString(beginMarker + "\n\n")
	fmt.Fprintf(&sec, "Measured %s by `make bench-overhead` (`-procs %s -scrape %s`) on this %d-core machine, **shared with other\n",
		runs[0].Started[:10], strings.Join(ns, ","), *flagScrape, runs[0].HostCPUs)
	sec.WriteString("people's builds and tests while it ran**, so CPU figures carry their noise; the floors ran at the same time on the\n")
	sec.WriteString("same processes, so the ratios are the figures to read. Load average (1, 5, 15 min) at the start and end of each window:\n")
	sort.SliceStable(runs, func(i, j int) bool { return runs[i].N < runs[j].N })
	for _, r := range runs {
		fmt.Fprintf(&sec, "N=%d (%s window): %s (%d loadgen children, %d idle sleepers).\n", r.N, r.Window, strings.Join(r.LoadAvg, " → "), r.Live, r.Sleepers)
	}
	sec.WriteString("\n" + table(runs) + "\n" + endMarker)
	path := filepath.Join(root, "benchmarks", "README.md")
	cur, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(cur)
	i, j := strings.Index(s, beginMarker), strings.Index(s, endMarker)
	if i < 0 || j < i {
		t.Fatalf("%s has no %s ... %s section", path, beginMarker, endMarker)
	}
	s = s[:i] + sec.String() + s[j+len(endMarker):]
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s and results.json", path)
	writeCatalog(t, root, runs)
}

// writeCatalog turns the templates' figures into the catalog's table on real
// processes and regenerates pipelines/README.md.
func writeCatalog(t *testing.T, root string, runs []Run) {
	dir := filepath.Join(root, "pipelines")
	real := pipelines.RealMeasurements{Method: fmt.Sprintf("Measured by `make bench-overhead` (benchmarks/overhead, %s): each template in the built "+
		"`phoenix-otelcol` on the real process scraper (%s scrape) of this host, with N real processes besides the host's own: "+
		"up to 500 from the spawner (loadgen's realistic profile scaled, churn included), the rest idle sleepers; all collectors at the same time, "+
		"each exporting by remote write into one real Prometheus, where its series were counted: series per scrape is "+
		"samples in the %s window ÷ scrapes, reduction is against `process-baseline-v1` in the same run, distinct series "+
		"are all the series the backend holds for the window.", runs[0].Started[:10], *flagScrape, runs[0].Window)}
	for _, run := range runs {
		var base *Result
		for i := range run.Results {
			if run.Results[i].Template == pipelines.TemplateBaseline {
				base = &run.Results[i]
			}
		}
		if base == nil || base.SeriesPerScrape == 0 {
			continue
		}
		// A run whose exports failed counted less than left the pipeline:
		// its reductions would be wrong.
		failed := 0
		for _, r := range run.Results {
			if r.Template != "" {
				failed += r.ExportFailures
			}
		}
		if failed > 0 {
			t.Logf("N=%d left out of the catalog's table: %d exports failed", run.N, failed)
			real.Method += fmt.Sprintf(" N=%d is left out: %d of its templates' exports timed out in the loaded backend, so it counted less than left the pipelines (benchmarks/README.md has its CPU and RSS).", run.N, failed)
			continue
		}
		for _, r := range run.Results {
			if r.Template == "" {
				continue
			}
			real.Results = append(real.Results, pipelines.RealMeasurement{Template: r.Template, Processes: run.N,
				HostProcesses: base.ProcessesPerScrape, InputSeries: base.SeriesPerScrape, OutputSeries: r.SeriesPerScrape,
				ReductionPct: 100 * (1 - r.SeriesPerScrape/base.SeriesPerScrape), DistinctSeries: r.DistinctSeries, Window: run.Window})
		}
	}
	js, _ := json.MarshalIndent(real, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, pipelines.RealMeasurementsFile), append(js, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	ms, err := pipelines.LoadMeasurements(filepath.Join(dir, pipelines.MeasurementsFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "README.md"), pipelines.GenerateREADME(ms, real), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s and pipelines/README.md", pipelines.RealMeasurementsFile)
}
