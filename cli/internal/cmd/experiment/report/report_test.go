package report

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/phoenix-otel/phoenix/internal/testutil/browser"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

// comparison is a finished two-variant experiment with a KPI a name of
// which tries to break out of the page.
func comparison() api.Comparison {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	var series []api.Series
	for _, kpi := range []string{"output_series", "input_series", "processing_cpu", `</script><script>alert("x")</script>`} {
		for i, v := range []string{"baseline", "candidate"} {
			s := api.Series{KPI: kpi, Variant: v}
			for k := range 12 {
				s.Points = append(s.Points, api.Point{Interval: k, Time: t0.Add(time.Duration(k) * time.Minute), Value: float64(1000/(i*3+1) + k*7%5)})
			}
			series = append(series, s)
		}
	}
	return api.Comparison{
		Experiment: api.Experiment{Name: "agg", Status: api.ExperimentCompleted, Interval: "1m", Samples: 12,
			Variants:    []api.Variant{{Name: "baseline"}, {Name: "candidate", Template: "process-aggregated-v1"}},
			Transitions: []api.Transition{{Status: "pending", At: t0}, {Status: "completed", At: t0.Add(12 * time.Minute), Reason: `<img src=x onerror=alert(1)>`}}},
		Results: []api.Result{{Variant: "candidate", Verdict: api.VerdictPromote, Criterion: "min_reduction: 75.0% >= 20.0%",
			KPIs:         []api.KPITest{{KPI: "output_series", BaselineMean: 1000, CandidateMean: 250, N: 12, Diff: -750, CILow: -760, CIHigh: -740, PPaired: 1e-9, PAdjusted: 1e-9, Method: "paired-t"}},
			ReductionPct: 75, CriticalRetentionPct: 100, InputIdentical: 12, Intervals: 12, CPUMeasured: true, CPUIncreasePct: 4.2, PCPUAboveBound: 1}},
		Series:    series,
		Collector: []api.BeforeDuring{{KPI: "collector_cpu", Unit: "cores", BeforeMean: 0.21, DuringMean: 0.54, BeforeN: 10, DuringN: 12}},
	}
}

func writeReport(t *testing.T, c api.Comparison) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, c); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, buf.Bytes()
}

// The report opened from a file in a real Chromium, under its own CSP: a
// canvas per KPI with something drawn on it, the verdict table, no dialog
// (the hostile KPI name and reason stay text), no exception and no CSP
// violation.
func TestReportInBrowser(t *testing.T) {
	c := comparison()
	path, html := writeReport(t, c)
	if !bytes.Contains(html, []byte(`http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'sha256-`)) {
		t.Fatalf("no CSP in the report head")
	}
	b := browser.New(t, browser.Options{})
	var charts []struct {
		Title  string `json:"title"`
		Canvas int    `json:"canvas"`
		Inked  bool   `json:"inked"`
	}
	var verdict string
	err := b.Run(30*time.Second,
		chromedp.Navigate("file://"+path),
		browser.WaitJS(`document.querySelectorAll('#charts .chart canvas').length >= 4`, 15*time.Second),
		chromedp.Evaluate(`[...document.querySelectorAll('#charts .chart')].map(d => {
			const cv = d.querySelector('canvas');
			let inked = false;
			if (cv) {
				const px = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
				for (let i = 3; i < px.length; i += 4) if (px[i] !== 0) { inked = true; break; }
			}
			return {title: d.querySelector('h3').textContent, canvas: d.querySelectorAll('canvas').length, inked};
		})`, &charts),
		chromedp.Text(`#verdicts`, &verdict, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("report in the browser: %v (problems %v)", err, b.Problems())
	}
	t.Logf("charts %+v", charts)
	if len(charts) != 4 {
		t.Fatalf("%d charts, want one per KPI (4): %+v", len(charts), charts)
	}
	for i, ch := range charts {
		if ch.Canvas < 1 || !ch.Inked {
			t.Errorf("chart %d (%q): %d canvas, drawn %v", i, ch.Title, ch.Canvas, ch.Inked)
		}
	}
	if charts[3].Title != c.Series[6].KPI {
		t.Errorf("the hostile KPI name is not shown as text: %q", charts[3].Title)
	}
	for _, want := range []string{"candidate", "promote", "min_reduction: 75.0% >= 20.0%", "1000.0", "250.0", "75.0%", "12 of 12 intervals", "+4.2% (p above the bound 1)"} {
		if !strings.Contains(verdict, want) {
			t.Errorf("verdict table lacks %q:\n%s", want, verdict)
		}
	}
	if d := b.Dialogs(); len(d) > 0 {
		t.Errorf("the page ran injected script: dialogs %v", d)
	}
	if p := b.Problems(); len(p) > 0 {
		t.Errorf("problems in the page: %v", p)
	}
}

// A script the policy does not list is blocked, and the browser says so:
// the check above would see it.
func TestReportCSPBlocksOtherScripts(t *testing.T) {
	_, html := writeReport(t, comparison())
	tampered := bytes.Replace(html, []byte("</body>"), []byte(`<script>document.title = "ran"</script></body>`), 1)
	path := filepath.Join(t.TempDir(), "tampered.html")
	if err := os.WriteFile(path, tampered, 0o644); err != nil {
		t.Fatal(err)
	}
	b := browser.New(t, browser.Options{})
	var title string
	if err := b.Run(30*time.Second, chromedp.Navigate("file://"+path),
		browser.WaitJS(`document.querySelectorAll('#charts canvas').length >= 4`, 15*time.Second), chromedp.Title(&title)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(b.Problems()) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if title == "ran" || len(b.Problems()) == 0 {
		t.Fatalf("an unlisted script: title %q, problems %v", title, b.Problems())
	}
	t.Logf("blocked: %s", fmt.Sprint(b.Problems()))
}
