// Package report writes an experiment's comparison as ONE self-contained
// HTML file: a chart of each KPI over time for every variant (uPlot, from
// the npm registry, embedded here with go:embed and inlined) and the
// verdict table with the measured values. Every value from the server is
// escaped by html/template; the data reach the charts as JSON in a
// <script type="application/json"> element, never as code. The page carries
// a Content-Security-Policy that allows nothing but its own inline scripts
// and styles (by their SHA-256): opened from a file, it loads nothing from
// anywhere and runs nothing else.
package report

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

//go:embed uplot/uPlot.iife.min.js
var uplotJS string

//go:embed uplot/uPlot.min.css
var uplotCSS string

type chart struct {
	KPI     string      `json:"kpi"`
	Names   []string    `json:"names"`
	Data    [][]float64 `json:"data"` // x (unix seconds), then one row per variant (NaN -> null)
	Missing [][]bool    `json:"-"`
}

// charts aligns every variant's points of a KPI on the union of times.
func charts(c api.Comparison) []chart {
	byKPI := map[string][]api.Series{}
	var order []string
	for _, s := range c.Series {
		if _, ok := byKPI[s.KPI]; !ok {
			order = append(order, s.KPI)
		}
		byKPI[s.KPI] = append(byKPI[s.KPI], s)
	}
	var out []chart
	for _, kpi := range order {
		ss := byKPI[kpi]
		times := map[int64]bool{}
		for _, s := range ss {
			for _, p := range s.Points {
				times[p.Time.Unix()] = true
			}
		}
		if len(times) == 0 {
			continue
		}
		xs := make([]int64, 0, len(times))
		for t := range times {
			xs = append(xs, t)
		}
		sort.Slice(xs, func(i, j int) bool { return xs[i] < xs[j] })
		ch := chart{KPI: kpi}
		row := make([]float64, len(xs))
		for i, x := range xs {
			row[i] = float64(x)
		}
		ch.Data = append(ch.Data, row)
		for _, s := range ss {
			ch.Names = append(ch.Names, s.Variant)
			vals := make([]float64, len(xs))
			at := map[int64]float64{}
			for _, p := range s.Points {
				at[p.Time.Unix()] = p.Value
			}
			for i, x := range xs {
				vals[i] = at[x]
			}
			ch.Data = append(ch.Data, vals)
		}
		out = append(out, ch)
	}
	return out
}

var page = template.Must(template.New("report").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="PHOENIX_CSP">
<title>Phoenix experiment {{.E.Name}}</title>
<style>{{.CSS}}</style>
<style>
body{font:14px system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
.promote{color:#0a6b0a;font-weight:bold}.reject{color:#a40000;font-weight:bold}.inconclusive{color:#8a6d00;font-weight:bold}
.chart{display:inline-block;margin:0 1em 1em 0}
</style></head><body>
<h1>Experiment {{.E.Name}}</h1>
<p>Status <b>{{.E.Status}}</b>{{if .E.Reason}} ({{.E.Reason}}){{end}}; {{len .E.Hosts}} host(s); {{.E.Samples}} sample interval(s) of {{.E.Interval}}; alpha {{.E.Criteria.Alpha}}, minimum reduction {{.E.Criteria.MinReductionPct}}%.</p>
<h2>Verdicts</h2>
<table id="verdicts"><tr><th>variant</th><th>verdict</th><th>deciding criterion</th><th>output series (baseline &rarr; variant)</th><th>reduction</th><th>95% CI of the difference</th><th>p (Welch / paired / rank / used, Holm)</th><th>critical retained</th><th>identical input</th><th>cost per month</th><th>collector CPU, variant alone (max increase {{.E.Criteria.MaxCPUIncreasePct}}%)</th></tr>
{{range .Results}}{{$k := index .KPIs 0}}<tr><td>{{.Variant}}</td><td class="{{.Verdict}}">{{.Verdict}}</td><td>{{.Criterion}}</td>
<td>{{printf "%.1f" $k.BaselineMean}} &rarr; {{printf "%.1f" $k.CandidateMean}}</td><td>{{printf "%.1f" .ReductionPct}}%</td>
<td>{{printf "%.1f" $k.CILow}} .. {{printf "%.1f" $k.CIHigh}}</td>
<td>{{printf "%.3g" $k.PWelch}} / {{printf "%.3g" $k.PPaired}} / {{printf "%.3g" $k.PRank}} / {{printf "%.3g" $k.PAdjusted}} ({{$k.Method}})</td>
<td>{{printf "%.1f" .CriticalRetentionPct}}%</td><td>{{.InputIdentical}} of {{.Intervals}} intervals</td>
<td>{{printf "%.2f" .BaselineCostMonth}} &rarr; {{printf "%.2f" .CandidateCostMonth}}</td>
<td>{{if .CPUMeasured}}{{printf "%+.1f" .CPUIncreasePct}}% (p above the bound {{printf "%.3g" .PCPUAboveBound}}){{else}}not measured{{end}}</td></tr>
{{end}}</table>
<p>{{range .Results}}{{.Variant}}: {{.Detail}}<br>{{end}}</p>
{{if .Collector}}<h2>Collectors before and during</h2>
<table id="collector"><tr><th>figure</th><th>before (mean per host)</th><th>during</th><th>difference, 95% CI (Welch)</th><th>p</th><th>intervals</th></tr>
{{range .Collector}}<tr><td>{{.KPI}} ({{.Unit}})</td><td>{{printf "%.4g" .BeforeMean}}</td><td>{{printf "%.4g" .DuringMean}}</td><td>{{printf "%.4g" .Diff}} [{{printf "%.4g" .CILow}}, {{printf "%.4g" .CIHigh}}]</td><td>{{printf "%.3g" .PWelch}}</td><td>{{.BeforeN}} before, {{.DuringN}} during</td></tr>
{{end}}</table>{{end}}
<h2>KPIs over time</h2>
<div id="charts"></div>
<h2>Transitions</h2>
<table><tr><th>time</th><th>status</th><th>detail</th></tr>{{range .E.Transitions}}<tr><td>{{.At.Format "2006-01-02 15:04:05 MST"}}</td><td>{{.Status}}</td><td>{{.Reason}}</td></tr>{{end}}</table>
<script id="data" type="application/json">{{.JSON}}</script>
<script>{{.JS}}</script>
<script>
(function(){
  var charts = JSON.parse(document.getElementById("data").textContent);
  var colors = ["#1f77b4","#d62728","#2ca02c","#9467bd","#ff7f0e","#8c564b"];
  charts.forEach(function(c){
    var div = document.createElement("div"); div.className = "chart";
    var h = document.createElement("h3"); h.textContent = c.kpi; div.appendChild(h);
    document.getElementById("charts").appendChild(div);
    var series = [{}];
    c.names.forEach(function(n, i){ series.push({label: n, stroke: colors[i % colors.length], width: 2}); });
    new uPlot({width: 560, height: 260, series: series, scales: {x: {time: true}}}, c.data, div);
  });
})();
</script>
</body></html>
`))

// Write writes the report.
func Write(w io.Writer, c api.Comparison) error {
	data, err := json.Marshal(charts(c))
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := page.Execute(&buf, map[string]any{
		"E": c.Experiment, "Results": c.Results, "Collector": c.Collector,
		"CSS": template.CSS(uplotCSS), "JS": template.JS(uplotJS), "JSON": template.JS(data),
	}); err != nil {
		return err
	}
	_, err = w.Write(bytes.Replace(buf.Bytes(), []byte("PHOENIX_CSP"), []byte(csp(buf.Bytes())), 1))
	return err
}

var (
	inlineScript = regexp.MustCompile(`(?s)<script>(.*?)</script>`)
	inlineStyle  = regexp.MustCompile(`(?s)<style>(.*?)</style>`)
)

// csp allows exactly the page's inline scripts and styles, as rendered,
// by hash (the JSON data block is not a script: it never runs).
func csp(page []byte) string {
	hashes := func(re *regexp.Regexp) string {
		var out []string
		for _, m := range re.FindAllSubmatch(page, -1) {
			sum := sha256.Sum256(m[1])
			out = append(out, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
		}
		return strings.Join(out, " ")
	}
	return "default-src 'none'; script-src " + hashes(inlineScript) + "; style-src " + hashes(inlineStyle) + "; img-src data:; base-uri 'none'; form-action 'none'"
}
