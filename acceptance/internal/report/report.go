// Package report collects the acceptance suite's results and writes them as
// Markdown and JSON: for each test the criterion, the bound, the figure
// measured and passed, failed or skipped (with the reason), and for the run
// the commit, the machine and its load.
package report

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Status of one test.
const (
	Passed  = "passed"
	Failed  = "failed"
	Skipped = "skipped"
)

// Result is one acceptance test in the report.
type Result struct {
	ID        string             `json:"id"`
	Criterion string             `json:"criterion"`
	Bound     string             `json:"bound"`
	Status    string             `json:"status"`
	Measured  string             `json:"measured"`
	Figures   map[string]float64 `json:"figures,omitempty"`
	Reason    string             `json:"reason,omitempty"`
	Fault     string             `json:"fault_injected,omitempty"`
	Seconds   float64            `json:"seconds"`
}

// Machine is where the run happened.
type Machine struct {
	Cores          int     `json:"cores"`
	MemoryMiB      int     `json:"memory_mib"`
	LoadAvgStart   string  `json:"load_average_start"`
	LoadAvgEnd     string  `json:"load_average_end"`
	Kernel         string  `json:"kernel"`
	GoVersion      string  `json:"go_version"`
	PrometheusInfo string  `json:"prometheus,omitempty"`
	Load1Max       float64 `json:"load1_max"`
}

// Report is the whole run.
type Report struct {
	Commit    string    `json:"commit"`
	Dirty     bool      `json:"dirty"`
	Started   time.Time `json:"started"`
	Seconds   float64   `json:"seconds"`
	Machine   Machine   `json:"machine"`
	Backend   string    `json:"backend"`
	Fault     string    `json:"fault_injected,omitempty"`
	Results   []*Result `json:"results"`
	mu        sync.Mutex
	repoRoot  string
	sampleEnd chan struct{}
	// sampleDone closes when the sampler has returned, so that Write
	// happens after its last read (of the report and of loadAvgFile).
	sampleDone chan struct{}
	endOnce    sync.Once
}

// New starts a report for the repository at root.
func New(root string) *Report {
	r := &Report{Started: time.Now().UTC(), repoRoot: root, sampleEnd: make(chan struct{}), sampleDone: make(chan struct{})}
	r.Commit = strings.TrimSpace(run(root, "git", "rev-parse", "HEAD"))
	r.Dirty = strings.TrimSpace(run(root, "git", "status", "--porcelain", "--untracked-files=no")) != ""
	r.Machine = Machine{Cores: runtime.NumCPU(), MemoryMiB: memTotalMiB(), LoadAvgStart: loadAvg(), Kernel: strings.TrimSpace(run(root, "uname", "-sr")), GoVersion: runtime.Version()}
	go r.sampleLoad()
	return r
}

// loadAvgFile and loadSampleEvery are where and how often the load average
// is read (variables so that the tests can feed it).
var (
	loadAvgFile     = "/proc/loadavg"
	loadSampleEvery = 5 * time.Second
)

// sampleLoad keeps the highest 1-minute load average seen during the run:
// the machine is shared, and a figure taken under load says so.
func (r *Report) sampleLoad() {
	defer close(r.sampleDone)
	t := time.NewTicker(loadSampleEvery)
	defer t.Stop()
	for {
		if f := strings.Fields(loadAvg()); len(f) > 0 {
			if v, err := strconv.ParseFloat(f[0], 64); err == nil {
				r.mu.Lock()
				r.Machine.Load1Max = max(r.Machine.Load1Max, v)
				r.mu.Unlock()
			}
		}
		select {
		case <-t.C:
		case <-r.sampleEnd:
			return
		}
	}
}

// Test is the handle a test fills in.
type Test struct {
	t          *testing.T
	r          *Result
	start      time.Time
	rep        *Report
	knownUnmet bool // failed, but listed in KnownUnmetEnv: reported, not gating
}

// KnownUnmetEnv lists the tests (AT-P10,AT-P13) whose criterion is known not
// to be met yet, each tracked by an open issue. Such a test still runs and
// is reported FAILED with its figures; it skips instead of failing the go
// test run, so that CI gates on every other criterion (a pytest xfail).
const KnownUnmetEnv = "PHOENIX_ACCEPTANCE_KNOWN_UNMET"

func knownUnmet(id string) bool {
	for _, k := range strings.Split(os.Getenv(KnownUnmetEnv), ",") {
		if strings.TrimSpace(k) == id {
			return true
		}
	}
	return false
}

// Begin registers test id with its criterion and bound. The status is set
// when the test ends, from the test's own outcome: a test that calls
// t.Fatal fails, one that calls t.Skip is skipped.
func (r *Report) Begin(t *testing.T, id, criterion, bound string) *Test {
	res := &Result{ID: id, Criterion: criterion, Bound: bound}
	r.mu.Lock()
	r.Results = append(r.Results, res)
	r.mu.Unlock()
	tt := &Test{t: t, r: res, start: time.Now(), rep: r}
	t.Cleanup(func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		res.Seconds = time.Since(tt.start).Round(100 * time.Millisecond).Seconds()
		switch {
		case tt.knownUnmet:
			res.Status = Failed
			res.Reason += " (known unmet, listed in " + KnownUnmetEnv + ": reported, not gating)"
		case t.Failed():
			res.Status = Failed
			if res.Reason == "" {
				res.Reason = "failed in a set-up step; see the test log"
			}
		case t.Skipped():
			res.Status = Skipped
		default:
			res.Status = Passed
			res.Reason = ""
		}
	})
	return tt
}

// Measured sets the figure measured, in words.
func (tt *Test) Measured(format string, args ...any) {
	tt.rep.mu.Lock()
	defer tt.rep.mu.Unlock()
	tt.r.Measured = fmt.Sprintf(format, args...)
	tt.t.Logf("%s measured: %s", tt.r.ID, tt.r.Measured)
}

// Figure records one number of the measurement, rounded to 6 significant
// digits (a figure's noise is far above that). A NaN or infinity (a ratio
// of nothing) is not recorded but said in the log: JSON cannot carry it,
// and one such value must not cost the whole report.
func (tt *Test) Figure(name string, v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		tt.t.Logf("%s figure %s = %v: not a number, left out of the report", tt.r.ID, name, v)
		return
	}
	v, _ = strconv.ParseFloat(strconv.FormatFloat(v, 'g', 6, 64), 64)
	tt.rep.mu.Lock()
	defer tt.rep.mu.Unlock()
	if tt.r.Figures == nil {
		tt.r.Figures = map[string]float64{}
	}
	tt.r.Figures[name] = v
}

// Fault records the deliberate fault injected into this test.
func (tt *Test) Fault(what string) {
	tt.rep.mu.Lock()
	defer tt.rep.mu.Unlock()
	tt.r.Fault = what
	tt.t.Logf("%s: FAULT INJECTED: %s", tt.r.ID, what)
}

// Failf records why the test fails and fails it.
func (tt *Test) Failf(format string, args ...any) {
	tt.t.Helper()
	msg := fmt.Sprintf(format, args...)
	tt.rep.mu.Lock()
	tt.r.Reason = msg
	tt.rep.mu.Unlock()
	if knownUnmet(tt.r.ID) && tt.r.Fault == "" {
		tt.knownUnmet = true
		tt.t.Skip("KNOWN UNMET (" + KnownUnmetEnv + "): " + msg)
	}
	tt.t.Fatal(msg)
}

// Require fails the test with err, if any, naming the step.
func (tt *Test) Require(step string, err error) {
	tt.t.Helper()
	if err != nil {
		tt.Failf("%s: %v", step, err)
	}
}

// Skipf records why the test cannot run and skips it. Under CI=true a test
// whose prerequisite is installed by CI fails instead (see SkipOrFail).
func (tt *Test) Skipf(format string, args ...any) {
	tt.t.Helper()
	msg := fmt.Sprintf(format, args...)
	tt.rep.mu.Lock()
	tt.r.Reason = msg
	tt.rep.mu.Unlock()
	tt.t.Skip(msg)
}

// SkipOrFail skips for a missing tool outside CI and fails under CI=true,
// where .ci/run installs it.
func (tt *Test) SkipOrFail(format string, args ...any) {
	tt.t.Helper()
	if os.Getenv("CI") == "true" {
		tt.Failf(format, args...)
	}
	tt.Skipf(format, args...)
}

// Write finishes the report and writes report.md and report.json into dir.
func (r *Report) Write(dir string) error {
	r.endOnce.Do(func() { close(r.sampleEnd) })
	<-r.sampleDone
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Seconds = time.Since(r.Started).Round(time.Second).Seconds()
	r.Machine.LoadAvgEnd = loadAvg()
	sort.SliceStable(r.Results, func(i, j int) bool { return r.Results[i].ID < r.Results[j].ID })
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "report.json"), append(js, '\n'), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "report.md"), []byte(r.markdown()), 0o644)
}

// Markdown renders report.md from a report (one read back from report.json,
// for example: acceptance/report's test checks the committed pair agree).
func (r *Report) Markdown() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.markdown()
}

// Summary counts the results by status.
func (r *Report) Summary() map[string]int {
	out := map[string]int{}
	for _, res := range r.Results {
		out[res.Status]++
	}
	return out
}

func (r *Report) markdown() string {
	var b strings.Builder
	dirty := ""
	if r.Dirty {
		dirty = " (with uncommitted changes)"
	}
	s := r.Summary()
	fmt.Fprintf(&b, "# Phoenix acceptance report\n\n")
	fmt.Fprintf(&b, "Generated by `make acceptance` (acceptance/README.md). Do not edit.\n\n")
	fmt.Fprintf(&b, "- commit: `%s`%s\n", r.Commit, dirty)
	fmt.Fprintf(&b, "- started: %s, took %s\n", r.Started.Format(time.RFC3339), time.Duration(r.Seconds*float64(time.Second)))
	fmt.Fprintf(&b, "- machine: %d cores, %d MiB memory, %s, %s\n", r.Machine.Cores, r.Machine.MemoryMiB, r.Machine.Kernel, r.Machine.GoVersion)
	fmt.Fprintf(&b, "- load average (1, 5, 15 min): %s at start, %s at end, 1-min peak %.2f during the run\n", r.Machine.LoadAvgStart, r.Machine.LoadAvgEnd, r.Machine.Load1Max)
	fmt.Fprintf(&b, "- backend: %s\n", r.Backend)
	if r.Fault != "" {
		fmt.Fprintf(&b, "- **fault injected** (PHOENIX_ACCEPTANCE_FAULT=%s): this run is expected to fail that test\n", r.Fault)
	}
	fmt.Fprintf(&b, "- result: %d passed, %d failed, %d skipped\n\n", s[Passed], s[Failed], s[Skipped])
	b.WriteString("| id | criterion | bound | measured | result |\n|---|---|---|---|---|\n")
	for _, res := range r.Results {
		verdict := strings.ToUpper(res.Status)
		if res.Reason != "" {
			verdict += ": " + res.Reason
		}
		if res.Fault != "" {
			verdict += " (fault injected: " + res.Fault + ")"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", res.ID, cell(res.Criterion), cell(res.Bound), cell(res.Measured), cell(verdict))
	}
	b.WriteString("\n## Figures\n\nThe numbers of report.json, by test.\n\n")
	for _, res := range r.Results {
		if len(res.Figures) == 0 {
			continue
		}
		names := make([]string, 0, len(res.Figures))
		for n := range res.Figures {
			names = append(names, n)
		}
		sort.Strings(names)
		parts := make([]string, len(names))
		for i, n := range names {
			parts[i] = n + " " + FormatFigure(res.Figures[n])
		}
		fmt.Fprintf(&b, "- %s: %s\n", res.ID, strings.Join(parts, ", "))
	}
	return b.String()
}

// FormatFigure writes a figure as it reads best: integers without a
// fraction, thousands grouped (12,345), others with at most 4 significant
// digits after the point's first non-zero digit (0.00316, 92.24).
func FormatFigure(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return groupThousands(strconv.FormatInt(int64(v), 10))
	}
	if math.Abs(v) >= 1000 {
		return groupThousands(strconv.FormatFloat(v, 'f', 1, 64))
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

func groupThousands(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	intPart, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if hasFrac {
		return sign + b.String() + "." + frac
	}
	return sign + b.String()
}

func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", "<br>")
}

func run(dir string, name string, args ...string) string {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, _ := cmd.Output()
	return string(out)
}

func memTotalMiB() int {
	b, _ := os.ReadFile("/proc/meminfo")
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "MemTotal:" {
			kb, _ := strconv.Atoi(f[1])
			return kb / 1024
		}
	}
	return 0
}

func loadAvg() string {
	b, _ := os.ReadFile(loadAvgFile)
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
