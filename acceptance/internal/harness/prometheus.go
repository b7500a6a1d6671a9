package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Prometheus is a real Prometheus server (Debian's `prometheus` package) on a
// loopback port with its remote-write receiver on and its TSDB in a temp dir:
// the metrics backend the acceptance tests count in.
type Prometheus struct {
	*Proc
	URL     string
	Version string
}

// PrometheusBinary finds the prometheus binary ($PHOENIX_PROMETHEUS, else PATH).
func PrometheusBinary() (string, error) {
	if p := os.Getenv("PHOENIX_PROMETHEUS"); p != "" {
		return p, nil
	}
	p, err := exec.LookPath("prometheus")
	if err != nil {
		return "", fmt.Errorf("prometheus is not installed (Debian: apt-get install prometheus; .ci/run installs it)")
	}
	return p, nil
}

// promConfig scrapes nothing: everything arrives by remote write. The
// out-of-order window lets a sample that a retrying exporter sends late still
// be counted.
const promConfig = `global:
  scrape_interval: 1m
storage:
  tsdb:
    out_of_order_time_window: 10m
`

// StartPrometheus starts bin and waits until it is ready.
func StartPrometheus(ctx context.Context, dir, bin string) (*Prometheus, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(promConfig), 0o600); err != nil {
		return nil, err
	}
	ver, _ := exec.Command(bin, "--version").CombinedOutput()
	p, err := Start(dir, "prometheus", bin, nil,
		"--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "prometheus-data"),
		"--web.listen-address=127.0.0.1:"+strconv.Itoa(port), "--web.enable-remote-write-receiver",
		"--storage.tsdb.retention.time=6h", "--log.level=warn")
	if err != nil {
		return nil, err
	}
	pr := &Prometheus{Proc: p, URL: fmt.Sprintf("http://127.0.0.1:%d", port), Version: promVersion(string(ver))}
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	err = WaitUntil(wctx, 100*time.Millisecond, func() (bool, string) {
		if p.Exited() {
			return false, "exited: " + p.Log(2000)
		}
		resp, err := http.Get(pr.URL + "/-/ready")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
	if err != nil {
		p.Stop(10 * time.Second)
		return nil, fmt.Errorf("prometheus not ready: %w", err)
	}
	return pr, nil
}

// WriteURL is the remote-write endpoint.
func (p *Prometheus) WriteURL() string { return p.URL + "/api/v1/write" }

// Series is one series stored in the backend with its raw samples.
type Series struct {
	Labels  map[string]string
	Samples []Sample
}

// Sample is one stored sample (T in Unix milliseconds).
type Sample struct {
	T int64
	V float64
}

// Key is the series' identity: its sorted label set.
func (s Series) Key() string {
	keys := make([]string, 0, len(s.Labels))
	for k := range s.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(strconv.Quote(s.Labels[k]))
		b.WriteByte(',')
	}
	return b.String()
}

// Raw returns every series matching selector with its raw samples in
// (at-window, at]: an instant query of a range selector, which Prometheus
// answers with the stored samples themselves.
func (p *Prometheus) Raw(ctx context.Context, selector string, window time.Duration, at time.Time) ([]Series, error) {
	q := fmt.Sprintf("%s[%dms]", selector, window.Milliseconds())
	var res struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Values [][2]any          `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := p.get(ctx, "/api/v1/query", url.Values{"query": {q}, "time": {strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64)}}, &res); err != nil {
		return nil, err
	}
	if res.Status != "success" {
		return nil, fmt.Errorf("prometheus query %s: %s", q, res.Error)
	}
	out := make([]Series, 0, len(res.Data.Result))
	for _, r := range res.Data.Result {
		s := Series{Labels: r.Metric}
		for _, v := range r.Values {
			ts, _ := v[0].(float64)
			str, _ := v[1].(string)
			f, _ := strconv.ParseFloat(str, 64)
			s.Samples = append(s.Samples, Sample{T: int64(ts*1000 + 0.5), V: f})
		}
		out = append(out, s)
	}
	return out, nil
}

// Count returns the value of count(expr) now (0 when nothing matches).
func (p *Prometheus) Count(ctx context.Context, expr string) (int, error) {
	var res struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := p.get(ctx, "/api/v1/query", url.Values{"query": {"count(" + expr + ")"}}, &res); err != nil {
		return 0, err
	}
	if res.Status != "success" {
		return 0, fmt.Errorf("prometheus query count(%s): %s", expr, res.Error)
	}
	if len(res.Data.Result) == 0 {
		return 0, nil
	}
	s, _ := res.Data.Result[0].Value[1].(string)
	n, err := strconv.Atoi(s)
	return n, err
}

func (p *Prometheus) get(ctx context.Context, path string, q url.Values, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL+path, strings.NewReader(q.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("prometheus %s: %s: %v", path, resp.Status, err)
	}
	return nil
}

// Scrape is the set of series that carry a sample of one collection: the
// samples within a short gap of one another.
type Scrape struct {
	T      time.Time
	Series []*Series
}

// Scrapes groups the samples of series into collections: samples whose
// timestamps lie within gap of the previous one belong to the same
// collection (a scraper stamps every point of a scrape with one time).
func Scrapes(series []Series, gap time.Duration) []Scrape {
	type ref struct {
		t int64
		s *Series
	}
	var all []ref
	for i := range series {
		for _, smp := range series[i].Samples {
			all = append(all, ref{smp.T, &series[i]})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].t < all[j].t })
	var out []Scrape
	var last int64
	for _, r := range all {
		if len(out) == 0 || r.t-last > gap.Milliseconds() {
			out = append(out, Scrape{T: time.UnixMilli(r.t)})
		}
		cur := &out[len(out)-1]
		if n := len(cur.Series); n == 0 || cur.Series[n-1] != r.s {
			cur.Series = append(cur.Series, r.s)
		}
		last = r.t
	}
	// A series with two samples in one collection is listed once.
	for i := range out {
		seen := map[*Series]bool{}
		uniq := out[i].Series[:0]
		for _, s := range out[i].Series {
			if !seen[s] {
				seen[s] = true
				uniq = append(uniq, s)
			}
		}
		out[i].Series = uniq
	}
	return out
}

// Interval is the collections of one collection interval: a host whose
// pipeline has two receivers (the process scraper and a load simulation's
// loadgen) stamps two collections per interval.
type Interval struct {
	T      time.Time
	Series int
	// Collections is how many collections it holds.
	Collections int
}

// Intervals groups consecutive collections that lie within 0.9 of interval
// of the first one of their group, and counts their series.
func Intervals(scrapes []Scrape, interval time.Duration) []Interval {
	var out []Interval
	var start time.Time
	for _, sc := range scrapes {
		if len(out) == 0 || sc.T.Sub(start) >= interval*9/10 {
			out = append(out, Interval{T: sc.T})
			start = sc.T
		}
		out[len(out)-1].Series += len(sc.Series)
		out[len(out)-1].Collections++
	}
	return out
}

// promVersion turns "prometheus, version 2.42.0+ds (branch: ...)" into
// "Prometheus 2.42.0+ds".
func promVersion(out string) string {
	f := strings.Fields(out)
	for i, w := range f {
		if w == "version" && i+1 < len(f) {
			return "Prometheus " + f[i+1]
		}
	}
	return "Prometheus"
}
