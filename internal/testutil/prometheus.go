package testutil

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Prometheus is a real Prometheus server started by a test: its own process
// on a loopback port, with the remote-write receiver on, no scrape targets
// and a temporary storage directory. It is stopped when the test ends.
// The packaged system service is never used.
type Prometheus struct {
	URL string // http://127.0.0.1:port

	cmd  *exec.Cmd
	mu   sync.Mutex
	log  bytes.Buffer
	done chan struct{}
}

// PrometheusBinary returns the Prometheus server binary: $PHOENIX_PROMETHEUS,
// else /usr/bin/prometheus (Debian's `prometheus` package, which .ci/run
// installs). Outside CI a missing binary skips the test, in CI it fails it.
func PrometheusBinary(t testing.TB) string {
	t.Helper()
	path := os.Getenv("PHOENIX_PROMETHEUS")
	if path == "" {
		path = "/usr/bin/prometheus"
	}
	if st, err := os.Stat(path); err != nil || st.IsDir() {
		msg := fmt.Sprintf("no Prometheus server at %s: install Debian's package (`apt-get install -y prometheus`; do not start its service) or set PHOENIX_PROMETHEUS", path)
		if InCI() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return path
}

// StartPrometheus starts Prometheus and waits until it is ready.
func StartPrometheus(t testing.TB) *Prometheus {
	t.Helper()
	bin := PrometheusBinary(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	// No scrape targets: everything in it arrived by remote write.
	if err := os.WriteFile(cfg, []byte("global:\n  scrape_interval: 1h\nscrape_configs: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	port := FreePort(t)
	p := &Prometheus{URL: "http://127.0.0.1:" + strconv.Itoa(port), done: make(chan struct{})}
	p.cmd = exec.Command(bin,
		"--config.file="+cfg,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address=127.0.0.1:"+strconv.Itoa(port),
		"--web.enable-remote-write-receiver",
		"--storage.tsdb.retention.time=1d",
		"--log.level=warn",
	)
	p.cmd.Stdout, p.cmd.Stderr = lockedBuf{p}, lockedBuf{p}
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("prometheus log:\n%s", p.Log())
		}
	})
	// Readiness; the deadline bounds a broken install, it is not a
	// performance assertion.
	deadline := time.Now().Add(time.Minute)
	for {
		select {
		case <-p.done:
			t.Fatalf("prometheus exited at start:\n%s", p.Log())
		default:
		}
		resp, err := http.Get(p.URL + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus not ready after a minute:\n%s", p.Log())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type lockedBuf struct{ p *Prometheus }

func (w lockedBuf) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.log.Write(b)
}

// Log is what Prometheus logged so far.
func (p *Prometheus) Log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

func (p *Prometheus) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	select {
	case <-p.done:
	case <-ctx.Done():
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// RemoteWriteURL is the endpoint for a prometheus_remote_write exporter.
func (p *Prometheus) RemoteWriteURL() string { return p.URL + "/api/v1/write" }

// Series returns the label sets of every series matching the selector
// (for example `{process_pid!=""}`) with samples between start and end.
func (p *Prometheus) Series(t testing.TB, selector string, start, end time.Time) []map[string]string {
	t.Helper()
	q := url.Values{"match[]": {selector}, "start": {unix(start)}, "end": {unix(end)}}
	var out struct {
		Status string              `json:"status"`
		Data   []map[string]string `json:"data"`
		Error  string              `json:"error"`
	}
	p.get(t, "/api/v1/series?"+q.Encode(), &out)
	if out.Status != "success" {
		t.Fatalf("prometheus series %s: %s", selector, out.Error)
	}
	return out.Data
}

// Sample is one element of an instant vector.
type Sample struct {
	Metric map[string]string
	Value  float64
}

// Query evaluates an instant PromQL query at ts.
func (p *Prometheus) Query(t testing.TB, expr string, ts time.Time) []Sample {
	t.Helper()
	q := url.Values{"query": {expr}, "time": {unix(ts)}}
	var out struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	p.get(t, "/api/v1/query?"+q.Encode(), &out)
	if out.Status != "success" {
		t.Fatalf("prometheus query %s: %s", expr, out.Error)
	}
	var res []Sample
	for _, r := range out.Data.Result {
		s, _ := r.Value[1].(string)
		v, _ := strconv.ParseFloat(s, 64)
		res = append(res, Sample{Metric: r.Metric, Value: v})
	}
	return res
}

func (p *Prometheus) get(t testing.TB, path string, v any) {
	t.Helper()
	resp, err := http.Get(p.URL + path)
	if err != nil {
		t.Fatalf("prometheus %s: %v", path, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("prometheus %s: %d: %v", path, resp.StatusCode, err)
	}
}

func unix(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)
}

// LabelValues returns every value of a label (for example __name__).
func (p *Prometheus) LabelValues(t testing.TB, label string) []string {
	t.Helper()
	var out struct {
		Status string   `json:"status"`
		Data   []string `json:"data"`
		Error  string   `json:"error"`
	}
	p.get(t, "/api/v1/label/"+url.PathEscape(label)+"/values", &out)
	if out.Status != "success" {
		t.Fatalf("prometheus label values %s: %s", label, out.Error)
	}
	return out.Data
}
