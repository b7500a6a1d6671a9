// Package report holds the acceptance suite's last committed report
// (report.md, report.json, written by `make acceptance`). Its test checks
// that the two files agree and that the report is whole.
package report

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/phoenix-otel/phoenix/acceptance/internal/report"
)

var update = flag.Bool("update", false, "rewrite report.md from report.json (after a change of the Markdown layout)")

func TestCommittedReportIsWholeAndConsistent(t *testing.T) {
	js, err := os.ReadFile("report.json")
	if err != nil {
		t.Fatal(err)
	}
	var rep report.Report
	if err := json.Unmarshal(js, &rep); err != nil {
		t.Fatalf("report.json: %v", err)
	}
	md := rep.Markdown()
	if *update {
		if err := os.WriteFile("report.md", []byte(md), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("report.md")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != md {
		t.Errorf("report.md is not what report.json renders to (edited by hand, or from another run; `go test ./acceptance/report -update` re-renders it)")
	}
	// A local run (`make acceptance FAULT=...`, or one test with -run)
	// rewrites both files: they must still agree, but only the committed
	// report must be whole and clean.
	errorf := t.Errorf
	if err := exec.Command("git", "diff", "--quiet", "HEAD", "--", "report.json").Run(); err != nil {
		errorf = func(format string, args ...any) { t.Logf("local run, not the committed report: "+format, args...) }
	}
	if rep.Fault != "" {
		errorf("the report is of a run with a fault injected (%s): commit a clean run's", rep.Fault)
	}
	seen := map[string]int{}
	for _, r := range rep.Results {
		seen[r.ID]++
		switch r.Status {
		case report.Passed:
		case report.Failed, report.Skipped:
			if r.Reason == "" {
				errorf("%s is %s without a reason", r.ID, r.Status)
			}
		default:
			errorf("%s has status %q", r.ID, r.Status)
		}
		if r.Status != report.Skipped && r.Measured == "" && r.Reason == "" {
			errorf("%s ran but reports no figure and no reason", r.ID)
		}
	}
	for i := 1; i <= 13; i++ {
		if id := fmt.Sprintf("AT-P%02d", i); seen[id] != 1 {
			errorf("%s appears %d times in report.json, want once", id, seen[id])
		}
	}
	if rep.Machine.Cores == 0 || rep.Machine.MemoryMiB == 0 || rep.Machine.LoadAvgStart == "" || rep.Commit == "" {
		errorf("the run's machine or commit is not recorded: %+v, commit %q", rep.Machine, rep.Commit)
	}
	// The commit is one of this repository's (when git and the history are here).
	if _, err := exec.LookPath("git"); err == nil {
		if out, err := exec.Command("git", "rev-parse", "--is-shallow-repository").Output(); err == nil && string(out) == "false\n" {
			if err := exec.Command("git", "cat-file", "-e", rep.Commit+"^{commit}").Run(); err != nil {
				errorf("the report's commit %s is not in this repository", rep.Commit)
			}
		}
	}
}
