package acceptance

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/acceptance/internal/harness"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

// AT-P11: a host whose collector cannot run the new version (it is an older
// phoenix-otelcol, built here without the topk processor) reports the
// deployment failed with the collector's own error, and keeps running the
// previous version: same collector process, same config, data still
// arriving in the backend.
func atP11FailedDeploymentKeepsPreviousConfig(t *testing.T) {
	a := begin(t, "AT-P11",
		"A deployment that fails on a host is reported with the collector's own error. The host keeps running its previous config",
		"status failed with the text the collector's own `validate` prints; same collector pid, same running config and reported effective hash as the previous version, samples still arriving", true)
	ocb, err := filepath.Glob(filepath.Join(s.root, "bin", "ocb-*"))
	if err != nil || len(ocb) == 0 {
		a.SkipOrFail("no Collector Builder in bin/ (make otelcol installs it)")
	}
	t0 := time.Now()
	old, err := harness.BuildCollectorWithout(a.ctx, s.root, s.dir, ocb[0], "phoenix-otelcol-without-topk", []string{"topkprocessor"})
	a.Require("build a collector without the topk processor", err)
	t.Logf("collector without topk: %s (%s)", old, time.Since(t0).Round(time.Second))
	collector := old
	if a.fault("the host runs the full phoenix-otelcol, which can run version 2") {
		collector = s.bins.Otelcol
	}
	host := a.host("h")
	ag := a.agent(host, harness.AgentOptions{Collector: collector})
	a.deleteAtEnd("at-p11")
	params := []string{"--param", "collection_interval=2s", "--param", "batch_timeout=500ms"}
	a.must(append([]string{"pipeline", "deploy", "process-baseline-v1", "--name", "at-p11", "--host", host,
		"--destination", s.backend.Destination, "--watch", "--timeout", "3m"}, params...)...)
	pid1, cfg1, err := ag.Collector()
	a.Require("collector of version 1", err)
	var ag1 api.Agent
	a.Require("agent show", a.cli.JSON(a.ctx, &ag1, "agent", "show", host))

	// Version 2 needs the topk processor.
	t1 := time.Now()
	r := a.cli.Run(a.ctx, append([]string{"pipeline", "deploy", "process-topk-v1", "--name", "at-p11", "--watch", "--timeout", "3m"}, params...)...)
	took := time.Since(t1)
	if r.Code == 0 {
		a.Failf("version 2 was applied on a host whose collector has no topk processor:\n%s", r.Stdout)
	}
	var st api.DeploymentStatus
	a.Require("pipeline status", a.cli.JSON(a.ctx, &st, "pipeline", "status", "at-p11"))
	if len(st.Hosts) != 1 || st.Hosts[0].Status != api.StatusFailed {
		a.Failf("after the failed deploy (exit %d): %+v", r.Code, st)
	}
	reported := st.Hosts[0].Error

	// The collector's own words: run its validate on version 2's config.
	var dc api.HostConfig
	a.Require("get-active-config --desired", a.cli.JSON(a.ctx, &dc, "pipeline", "get-active-config", "at-p11", "--target-host", host, "--desired"))
	v2 := filepath.Join(s.dir, "at-p11-v2.yaml")
	a.Require("write v2", os.WriteFile(v2, []byte(dc.Desired.YAML), 0o600))
	own, _ := exec.Command(old, "validate", "--config="+v2).CombinedOutput()
	key := collectorError(string(own))
	if key == "" {
		a.Failf("the collector's validate printed no error for version 2:\n%s", own)
	}
	if !strings.Contains(reported, key) {
		a.Failf("the reported error %q does not carry the collector's own error %q", reported, key)
	}
	if !strings.Contains(r.Stdout+r.Stderr, key) {
		a.Failf("`deploy --watch` did not show the collector's error %q:\n%s%s", key, r.Stdout, r.Stderr)
	}

	// The host still runs version 1.
	pid2, cfg2, err := ag.Collector()
	a.Require("collector after the failure", err)
	h1, _ := harness.ContentHash(cfg1)
	h2, _ := harness.ContentHash(cfg2)
	var ag2 api.Agent
	a.Require("agent show", a.cli.JSON(a.ctx, &ag2, "agent", "show", host))
	if pid2 != pid1 || h2 != h1 || ag2.EffectiveConfigHash != ag1.EffectiveConfigHash || !strings.Contains(cfg2, "process-baseline-v1") && strings.Contains(cfg2, "topk") {
		a.Failf("the host does not run its previous config: collector pid %d -> %d, running config %s -> %s, effective hash %s -> %s",
			pid1, pid2, short(h1), short(h2), short(ag1.EffectiveConfigHash), short(ag2.EffectiveConfigHash))
	}
	after := time.Now()
	sc := a.scrapes(host, after, 2, time.Minute, 3*time.Second)
	a.Figure("seconds_to_failed", took.Seconds())
	a.Figure("scrapes_after_failure", float64(len(sc)))
	a.Measured("version 2 (topk) on a host whose collector lacks topk: failed after %.1f s with «%s» (the collector's own `validate` says: %s); collector pid %d unchanged, running config and effective hash those of version 1 (%s), %d new scrapes with %d series in Prometheus after the failure",
		took.Seconds(), trim(strings.Join(strings.Fields(reported), " "), 220), key, pid1, short(ag2.EffectiveConfigHash), len(sc), len(sc[len(sc)-1].Series))
}

// collectorError picks the collector's error line out of its output.
func collectorError(out string) string {
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if i := strings.Index(l, "unknown type"); i >= 0 {
			// The list of valid values that follows is in map order.
			l, _, _ = strings.Cut(l[i:], " (valid values")
			return strings.TrimSpace(l)
		}
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "Error:") {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "Error:"))
		}
	}
	return ""
}

func trim(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
