package acceptance

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"testing"

	"github.com/phoenix-otel/phoenix/acceptance/internal/harness"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

// AT-P01: the baseline pipeline deployed with `phoenix pipeline deploy`,
// applied by the host's agent, and its metrics stored in Prometheus, timed
// from the moment the command starts.
func atP01BaselineDeployedAndArriving(t *testing.T) {
	a := begin(t, "AT-P01",
		"`process-baseline-v1` deployed to a host, applied, and its metrics arriving in the backend within 10 minutes of `phoenix pipeline deploy`",
		"first sample in Prometheus < 10 min after the deploy command starts", true)
	bound := 10 * time.Minute
	if a.fault("bound set to 1 ms instead of 10 min") {
		bound = time.Millisecond
	}
	host := a.host("h")
	ag := a.agent(host, harness.AgentOptions{})
	a.deleteAtEnd("at-p01")
	sel := harness.HostSelector(host)

	// Poll the backend while the command runs: the first stored sample of
	// this host ends the clock.
	t0 := time.Now()
	arrived := make(chan time.Duration, 1)
	pctx, stopPoll := context.WithCancel(a.ctx)
	defer stopPoll()
	go func() {
		for pctx.Err() == nil {
			if n, err := s.prom.Count(pctx, sel); err == nil && n > 0 {
				arrived <- time.Since(t0)
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
	}()
	// Default parameters, as a user would deploy; only the destination is ours.
	r := a.must("pipeline", "deploy", "process-baseline-v1", "--name", "at-p01", "--host", host,
		"--destination", s.backend.Destination, "--watch", "--timeout", "10m")
	applied := time.Since(t0)
	var toBackend time.Duration
	select {
	case toBackend = <-arrived:
	case <-time.After(bound + time.Minute):
		a.Failf("no sample of host %s in Prometheus %s after deploy (applied after %s)", host, time.Since(t0).Round(time.Second), applied.Round(time.Millisecond))
	}
	if !strings.Contains(r.Stdout, "applied") {
		a.Failf("deploy --watch did not report applied:\n%s", r.Stdout)
	}
	var st api.DeploymentStatus
	a.Require("pipeline status", a.cli.JSON(a.ctx, &st, "pipeline", "status", "at-p01"))
	if st.Status != api.StatusApplied || len(st.Hosts) != 1 || st.Hosts[0].ReportedHash == "" || st.Hosts[0].ReportedHash != st.Hosts[0].DesiredHash {
		a.Failf("status after deploy: %+v", st)
	}

	// The samples are this machine's real processes, seen by the real
	// scraper: their pids exist here, and the collector sees itself.
	series, err := s.prom.Raw(a.ctx, sel, 5*time.Minute, time.Now())
	a.Require("query Prometheus", err)
	pids := map[int]bool{}
	for _, se := range series {
		if p, err := strconv.Atoi(se.Labels["process_pid"]); err == nil {
			pids[p] = true
		}
	}
	colPID, _, err := ag.Collector()
	a.Require("collector of the agent", err)
	if !pids[colPID] {
		a.Failf("Prometheus has %d series of %d processes of %s, but not the collector itself (pid %d): not this host's real processes", len(series), len(pids), host, colPID)
	}
	a.Figure("seconds_to_applied", applied.Seconds())
	a.Figure("seconds_to_backend", toBackend.Seconds())
	a.Figure("series_in_backend", float64(len(series)))
	a.Figure("processes_in_backend", float64(len(pids)))
	a.Measured("applied %.1f s and first sample in Prometheus %.1f s after `phoenix pipeline deploy` started (the template's default parameters); %d series of %d real processes of this host stored, the collector's own pid among them",
		applied.Seconds(), toBackend.Seconds(), len(series), len(pids))
	if toBackend >= bound {
		a.Failf("metrics arrived %s after deploy: not within %s", toBackend.Round(time.Millisecond), bound)
	}
}

// AT-P12: a deployment on two hosts goes through three versions; rollback
// --to-version 1 brings both hosts back to exactly version 1's config: the
// same hash at the server, in the agent's report, and in the file the
// collector runs.
func atP12RollbackToVersion(t *testing.T) {
	a := begin(t, "AT-P12",
		"`pipeline rollback --to-version N` returns every host to exactly version N's config hash",
		"every host's desired, reported and running config hash after the rollback = its hash at version N", false)
	label := "acc-p12=" + strconv.Itoa(time.Now().Nanosecond())
	k, v, _ := strings.Cut(label, "=")
	hosts := []string{a.host("a"), a.host("b")}
	agents := map[string]*harness.Agent{}
	for _, h := range hosts {
		agents[h] = a.agent(h, harness.AgentOptions{Labels: map[string]string{k: v}})
	}
	a.deleteAtEnd("at-p12")
	base := []string{"--param", "collection_interval=5s", "--watch", "--timeout", "3m"}
	a.must(append([]string{"pipeline", "deploy", "process-baseline-v1", "--name", "at-p12", "--selector", label, "--destination", "none"}, base...)...)
	v1 := a.hostHashes("at-p12", agents)
	a.must(append([]string{"pipeline", "deploy", "process-topk-v1", "--name", "at-p12", "--param", "k=3"}, base...)...)
	v2 := a.hostHashes("at-p12", agents)
	a.must(append([]string{"pipeline", "deploy", "process-priority-based-v1", "--name", "at-p12"}, base...)...)
	v3 := a.hostHashes("at-p12", agents)
	for _, h := range hosts {
		if v1[h].desired == v2[h].desired || v2[h].desired == v3[h].desired || v1[h].desired == v3[h].desired {
			a.Failf("versions 1..3 of host %s do not differ: %v %v %v", h, v1[h], v2[h], v3[h])
		}
	}
	to := "1"
	if a.fault("rollback to version 2 while checking against version 1") {
		to = "2"
	}
	t0 := time.Now()
	a.must("pipeline", "rollback", "at-p12", "--to-version", to, "--watch", "--timeout", "3m")
	took := time.Since(t0)
	v4 := a.hostHashes("at-p12", agents)
	var vl api.VersionList
	a.Require("pipeline versions", a.cli.JSON(a.ctx, &vl, "pipeline", "versions", "at-p12"))
	if vl.Current != 4 || len(vl.Versions) != 4 {
		a.Failf("after the rollback: current version %d of %d, want 4 of 4", vl.Current, len(vl.Versions))
	}
	var lines, problems []string
	sameContent := 0
	for _, h := range hosts {
		got, want := v4[h], v1[h]
		lines = append(lines, fmt.Sprintf("%s: v1 %s, v4 %s", h, short(want.desired), short(got.desired)))
		if got.reported != got.desired {
			problems = append(problems, fmt.Sprintf("host %s reports %s, desired %s", h, short(got.reported), short(got.desired)))
		}
		if got.running == want.running && got.desiredContent == want.desiredContent && got.reported == got.desired {
			sameContent++
		} else {
			problems = append(problems, fmt.Sprintf("host %s runs other content than version 1: %v; version 1: %v", h, got, want))
		}
		if got.desired != want.desired {
			problems = append(problems, fmt.Sprintf("host %s config hash %s after the rollback, version 1's was %s (lines that differ: %s)",
				h, short(got.desired), short(want.desired), lineDiff(want.desiredYAML, got.desiredYAML)))
		}
	}
	a.Figure("seconds_to_rollback", took.Seconds())
	a.Figure("hosts", float64(len(hosts)))
	a.Figure("hosts_same_content", float64(sameContent))
	a.Measured("2 hosts, versions 1 (baseline), 2 (topk k=3), 3 (priority-based); `rollback --to-version %s` made version %d (rollback_of %d), applied on both in %.1f s; config sha256 per host: %s; same pipelines as version 1 (content of desired config and of the collector's running file) on %d/%d hosts",
		to, vl.Current, vl.Versions[len(vl.Versions)-1].RollbackOf, took.Seconds(), strings.Join(lines, "; "), sameContent, len(hosts))
	if len(problems) > 0 {
		a.Failf("%s", strings.Join(problems, "; "))
	}
}

// hashes are one host's config hashes: the server's desired hash, what the
// agent reported, and the sha256 of the file the collector runs.
type hashes struct{ desired, reported, running, desiredContent, desiredYAML string }

func (h hashes) String() string {
	return fmt.Sprintf("desired %s reported %s; content of the desired config %s, of the collector's running file %s",
		short(h.desired), short(h.reported), short(h.desiredContent), short(h.running))
}

func short(s string) string { return s[:min(12, len(s))] }

func (a *at) hostHashes(dep string, agents map[string]*harness.Agent) map[string]hashes {
	a.t.Helper()
	var st api.DeploymentStatus
	a.Require("pipeline status", a.cli.JSON(a.ctx, &st, "pipeline", "status", dep))
	out := map[string]hashes{}
	for _, hs := range st.Hosts {
		ag, ok := agents[hs.Host]
		if !ok {
			continue
		}
		if hs.Status != api.StatusApplied {
			a.Failf("host %s: %s %s", hs.Host, hs.Status, hs.Error)
		}
		_, cfg, err := ag.Collector()
		a.Require("running collector config", err)
		running, err := harness.ContentHash(cfg)
		a.Require("running collector config", err)
		var dc api.HostConfig
		a.Require("get-active-config --desired", a.cli.JSON(a.ctx, &dc, "pipeline", "get-active-config", dep, "--target-host", hs.Host, "--desired"))
		desired, err := harness.ContentHash(dc.Desired.YAML)
		a.Require("desired config", err)
		out[hs.Host] = hashes{desired: hs.DesiredHash, reported: hs.ReportedHash, running: running, desiredContent: desired, desiredYAML: dc.Desired.YAML}
	}
	if len(out) != len(agents) {
		keys := make([]string, 0, len(out))
		for k := range out {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		a.Failf("deployment %s covers %v, want all %d test hosts", dep, keys, len(agents))
	}
	return out
}

// lineDiff names the lines of b that a lacks, quoted.
func lineDiff(a, b string) string {
	have := map[string]bool{}
	for _, l := range strings.Split(a, "\n") {
		have[l] = true
	}
	var out []string
	for _, l := range strings.Split(b, "\n") {
		if !have[l] {
			out = append(out, strconv.Quote(l))
		}
	}
	if len(out) > 5 {
		out = append(out[:5], fmt.Sprintf("and %d more", len(out)-5))
	}
	return strings.Join(out, ", ")
}
