package report

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// childEnv makes TestChildRun act: it is the suite of the report tests, run
// by TestStatusesOfRealTests in a child `go test` process, because its
// subtests must really pass, fail and skip (a failing subtest would fail
// this test binary).
const childEnv = "PHOENIX_REPORT_CHILD_DIR"

func TestChildRun(t *testing.T) {
	dir := os.Getenv(childEnv)
	if dir == "" {
		t.Skip("run by TestStatusesOfRealTests")
	}
	r := New(t.TempDir()) // not a git tree: no commit
	r.Fault = "AT-P05"
	t.Run("pass", func(t *testing.T) {
		rt := r.Begin(t, "AT-P02", "keeps | every critical process", "100%")
		rt.Figure("critical_kept", 33)
		rt.Measured("33/33 kept\nin 6 scrapes")
	})
	t.Run("fail", func(t *testing.T) {
		rt := r.Begin(t, "AT-P01", "arrives", "< 10 min")
		rt.Failf("arrived after %d s", 700)
		t.Error("not reached: Failf stops the test")
	})
	t.Run("skip", func(t *testing.T) {
		r.Begin(t, "AT-P13", "installs", "files").Skipf("no %s", "dpkg")
	})
	t.Run("known-unmet", func(t *testing.T) {
		rt := r.Begin(t, "AT-P10", "overhead", "< 2%")
		rt.Figure("cpu_pct", 2.3456789)
		rt.Failf("2.35%% of a core")
	})
	t.Run("known-unmet-with-fault", func(t *testing.T) {
		rt := r.Begin(t, "AT-P05", "critical", "100%")
		rt.Fault("nginx dropped")
		rt.Failf("32/33 kept")
	})
	t.Run("setup-fatal", func(t *testing.T) {
		r.Begin(t, "AT-P03", "cuts", ">= 90%")
		t.Fatal("could not start an agent")
	})
	t.Run("nan-figure", func(t *testing.T) {
		rt := r.Begin(t, "AT-P12", "rollback", "hash")
		rt.Figure("ratio", math.NaN())
		rt.Figure("inf", math.Inf(1))
		rt.Figure("hosts", 2)
	})
	if err := r.Write(dir); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

// TestStatusesOfRealTests runs TestChildRun in a child process and reads the
// report it wrote: each status comes from the test's real outcome, a
// known-unmet failure is FAILED in the report but skips in go test, one with
// a fault injected still fails, and both files say the same.
func TestStatusesOfRealTests(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildRun$", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"="+dir, KnownUnmetEnv+"=AT-P10, AT-P05", "CI=")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the child run passed, but three of its tests fail:\n%s", out)
	}
	for _, want := range []string{"--- FAIL: TestChildRun/fail", "--- SKIP: TestChildRun/known-unmet ", "--- FAIL: TestChildRun/known-unmet-with-fault", "--- FAIL: TestChildRun/setup-fatal", "--- PASS: TestChildRun/pass", "--- SKIP: TestChildRun/skip"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("go test output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "not reached") {
		t.Errorf("Failf did not stop the test:\n%s", out)
	}
	var rep Report
	js, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(js, &rep); err != nil {
		t.Fatalf("report.json: %v\n%s", err, js)
	}
	type want struct{ status, reason string }
	wants := map[string]want{
		"AT-P01": {Failed, "arrived after 700 s"},
		"AT-P02": {Passed, ""},
		"AT-P03": {Failed, "failed in a set-up step; see the test log"},
		"AT-P05": {Failed, "32/33 kept"},
		"AT-P10": {Failed, "2.35% of a core (known unmet, listed in " + KnownUnmetEnv + ": reported, not gating)"},
		"AT-P12": {Passed, ""},
		"AT-P13": {Skipped, "no dpkg"},
	}
	var ids []string
	for _, res := range rep.Results {
		ids = append(ids, res.ID)
		w, ok := wants[res.ID]
		if !ok {
			t.Errorf("unexpected result %+v", res)
			continue
		}
		if res.Status != w.status || res.Reason != w.reason {
			t.Errorf("%s: status %q reason %q, want %q %q", res.ID, res.Status, res.Reason, w.status, w.reason)
		}
	}
	if strings.Join(ids, " ") != "AT-P01 AT-P02 AT-P03 AT-P05 AT-P10 AT-P12 AT-P13" {
		t.Errorf("results not sorted by id or some missing: %v", ids)
	}
	byID := map[string]*Result{}
	for _, res := range rep.Results {
		byID[res.ID] = res
	}
	if f := byID["AT-P10"].Figures; f["cpu_pct"] != 2.34568 {
		t.Errorf("AT-P10 figures %v, want cpu_pct rounded to 6 significant digits (2.34568)", f)
	}
	if f := byID["AT-P12"].Figures; len(f) != 1 || f["hosts"] != 2 {
		t.Errorf("AT-P12 figures %v: NaN and Inf must be left out, the rest kept", f)
	}
	if byID["AT-P05"].Fault != "nginx dropped" || rep.Fault != "AT-P05" {
		t.Errorf("fault not recorded: test %q, run %q", byID["AT-P05"].Fault, rep.Fault)
	}
	if byID["AT-P02"].Measured != "33/33 kept\nin 6 scrapes" || byID["AT-P02"].Seconds < 0 {
		t.Errorf("AT-P02: %+v", byID["AT-P02"])
	}
	if rep.Machine.Cores < 1 || rep.Machine.MemoryMiB < 1 || rep.Machine.LoadAvgStart == "" || rep.Machine.LoadAvgEnd == "" || rep.Machine.GoVersion == "" {
		t.Errorf("machine not described: %+v", rep.Machine)
	}

	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"- result: 2 passed, 4 failed, 1 skipped",
		"- **fault injected** (PHOENIX_ACCEPTANCE_FAULT=AT-P05)",
		// A | in a cell is escaped and a newline becomes <br>: the row stays one row.
		"| AT-P02 | keeps \\| every critical process | 100% | 33/33 kept<br>in 6 scrapes | PASSED |",
		"| AT-P05 | critical | 100% |  | FAILED: 32/33 kept (fault injected: nginx dropped) |",
		"| AT-P13 | installs | files |  | SKIPPED: no dpkg |",
		"- AT-P02: critical_kept 33",
		"- AT-P10: cpu_pct 2.346",
		"- AT-P12: hosts 2",
	} {
		if !strings.Contains(string(md), line) {
			t.Errorf("report.md lacks %q:\n%s", line, md)
		}
	}
	if rows := strings.Count(string(md), "\n| AT-P"); rows != 7 {
		t.Errorf("report.md has %d result rows, want 7:\n%s", rows, md)
	}
}

func TestFormatFigure(t *testing.T) {
	for v, want := range map[float64]string{
		0: "0", 33: "33", 11552: "11,552", -1234567: "-1,234,567", 3781.5: "3,781.5",
		0.00316: "0.00316", 92.2456: "92.25", 2.35: "2.35", 0.9: "0.9",
	} {
		if got := FormatFigure(v); got != want {
			t.Errorf("FormatFigure(%v) = %q, want %q", v, got, want)
		}
	}
}

// The peak of the 1-minute load average is kept while the run lasts, and the
// load at start and end are read when the report begins and is written.
func TestLoadAverageSampled(t *testing.T) {
	file := filepath.Join(t.TempDir(), "loadavg")
	write := func(s string) {
		if err := os.WriteFile(file, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("1.50 1.00 0.50 1/100 42\n")
	oldFile, oldEvery := loadAvgFile, loadSampleEvery
	loadAvgFile, loadSampleEvery = file, 5*time.Millisecond
	t.Cleanup(func() { loadAvgFile, loadSampleEvery = oldFile, oldEvery })

	r := New(t.TempDir())
	if r.Machine.LoadAvgStart != "1.50 1.00 0.50" {
		t.Errorf("load at start %q", r.Machine.LoadAvgStart)
	}
	peak := func() float64 { r.mu.Lock(); defer r.mu.Unlock(); return r.Machine.Load1Max }
	waitFor := func(want float64) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if peak() == want {
				return
			}
		}
		t.Fatalf("1-min peak %v, want %v", peak(), want)
	}
	waitFor(1.5)
	write("7.25 2.00 1.00 1/100 42\n")
	waitFor(7.25)
	write("0.10 2.00 1.00 1/100 42\n") // a lower load does not lower the peak
	time.Sleep(50 * time.Millisecond)
	out := t.TempDir()
	if err := r.Write(out); err != nil {
		t.Fatal(err)
	}
	if peak() != 7.25 || r.Machine.LoadAvgEnd != "0.10 2.00 1.00" {
		t.Errorf("peak %v end %q, want 7.25 and the last reading", peak(), r.Machine.LoadAvgEnd)
	}
	// Sampling stopped with Write: a new high is not taken any more, and a
	// second Write does not panic.
	write("99.00 2.00 1.00 1/100 42\n")
	time.Sleep(50 * time.Millisecond)
	if peak() != 7.25 {
		t.Errorf("the load was still sampled after Write: peak %v", peak())
	}
	if err := r.Write(out); err != nil {
		t.Fatal(err)
	}
	md, _ := os.ReadFile(filepath.Join(out, "report.md"))
	if !strings.Contains(string(md), "1.50 1.00 0.50 at start, 99.00 2.00 1.00 at end, 1-min peak 7.25") {
		t.Errorf("report.md load line:\n%s", md)
	}
}
