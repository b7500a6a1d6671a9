package acceptance

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/acceptance/internal/harness"
	"github.com/phoenix-otel/phoenix/internal/testutil/debroot"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

// AT-P13: the agent's .deb installed into a fresh root with dpkg --root (the
// packaging test's helpers, internal/testutil/debroot), configured as the
// postinst says, run as its systemd unit would run it against the suite's
// server until it enrols and a deployment's metrics reach Prometheus, then
// stopped and removed.
func atP13Packages(t *testing.T) {
	a := begin(t, "AT-P13", "Deployment to a plain VM with the packages and systemd units of the packaging issue: install, enrol, deploy, uninstall",
		"the agent's .deb installs into a fresh root (files, modes, user, unit, conffile; the unit waits for its settings); run as its unit, it enrols and applies process-baseline-v1, whose samples reach Prometheus; stop and dpkg --remove/--purge leave no process and no file of the package", true)
	if why := debroot.Missing(); why != "" {
		a.SkipOrFail("%s", why)
	}
	deb, from, buildSeconds := a.agentDeb()
	ver, err := exec.Command("dpkg-deb", "--field", deb, "Version").Output()
	a.Require("dpkg-deb --field Version", err)
	version := strings.TrimSpace(string(ver))
	st, err := os.Stat(deb)
	a.Require("the .deb", err)

	// Install into an empty root.
	root := debroot.New(t)
	t0 := time.Now()
	out, err := root.DpkgErr("-i", deb)
	a.Require("dpkg -i "+filepath.Base(deb)+": "+out, err)
	installSeconds := time.Since(t0).Seconds()
	if a.fault("the installed root loses /usr/bin/phoenix-otelcol (a package without its collector)") {
		_ = os.Remove(root.Path("/usr/bin/phoenix-otelcol"))
	}
	var problems []string
	if !strings.Contains(out, "waits for two settings") || !strings.Contains(out, "/etc/phoenix/enrollment-token") {
		problems = append(problems, "the postinst does not say how to configure the agent:\n"+out)
	}
	if err := root.CheckUser(); err != nil {
		problems = append(problems, err.Error())
	}
	for _, err := range root.CheckFiles(debroot.AgentFiles) {
		problems = append(problems, err.Error())
	}
	if err := root.CheckConffile("phoenix-agent", "/etc/phoenix/agent.yaml", version); err != nil {
		problems = append(problems, err.Error())
	}
	verified := "systemd-analyze not installed"
	if _, err := exec.LookPath("systemd-analyze"); err == nil {
		root.InstallTargets()
		if err := root.VerifyUnit("phoenix-agent.service"); err != nil {
			problems = append(problems, err.Error())
		}
		verified = "systemd-analyze verify passed"
	} else if os.Getenv("CI") == "true" {
		problems = append(problems, "systemd-analyze is missing (.ci/run installs systemd)")
	}
	if root.ExecCondition("phoenix-agent.service") == nil {
		problems = append(problems, "the unit's ExecCondition passes on the default agent.yaml: the agent would start without a server")
	}
	if len(problems) > 0 {
		a.Failf("after dpkg -i %s:\n%s", filepath.Base(deb), strings.Join(problems, "\n"))
	}

	// Configure as the postinst says: the server in agent.yaml, the
	// enrollment token in /etc/phoenix/enrollment-token (0640, group phoenix).
	host := a.host("vm")
	_, gid, _, err := root.User()
	a.Require("phoenix user", err)
	cfgPath := root.Path("/etc/phoenix/agent.yaml")
	cfg, err := os.ReadFile(cfgPath)
	a.Require("read agent.yaml", err)
	cfg = append(cfg, fmt.Sprintf("server: %s\nhost-name: %s\n", s.server.OpAMPURL, host)...)
	a.Require("write agent.yaml", os.WriteFile(cfgPath, cfg, 0o644))
	a.Require("the unit's ExecCondition once the server is set", root.ExecCondition("phoenix-agent.service"))
	token, err := os.ReadFile(s.server.EnrollmentTokenFile())
	a.Require("the server's enrollment token", err)
	tokenPath := root.Path("/etc/phoenix/enrollment-token")
	a.Require("write the enrollment token", os.WriteFile(tokenPath, token, 0o640))
	a.Require("chgrp phoenix the enrollment token", os.Chown(tokenPath, 0, int(gid)))

	// Run it as the unit does: its ExecStart (paths rebased into the root),
	// user phoenix, the two ambient capabilities.
	argv, err := root.ExecStart("phoenix-agent.service")
	a.Require("the unit's ExecStart", err)
	argv = append(argv, "--data-dir", root.Path("/var/lib/phoenix/agent"), "--collector", root.Path("/usr/bin/phoenix-otelcol"), "--token-file", tokenPath)
	t1 := time.Now()
	agent := root.Start(t, debroot.AgentCaps, argv...)
	t.Cleanup(func() {
		_ = os.WriteFile(filepath.Join(s.dir, "phoenix-agent-"+host+".log"), []byte(agent.Log()), 0o644)
	})
	wctx, cancel := context.WithTimeout(a.ctx, 2*time.Minute)
	defer cancel()
	err = harness.WaitUntil(wctx, 250*time.Millisecond, func() (bool, string) {
		if agent.Exited() {
			return false, "the packaged agent exited: " + agent.Log()
		}
		var ag api.Agent
		if err := a.cli.JSON(wctx, &ag, "agent", "show", host); err != nil {
			return false, err.Error()
		}
		return ag.Online, fmt.Sprintf("online=%v", ag.Online)
	})
	a.Require("the packaged agent enrols", err)
	enrolSeconds := time.Since(t1).Seconds()

	// Deploy, as in AT-P01, and wait for this host's samples in Prometheus.
	a.deleteAtEnd("at-p13")
	sel := harness.HostSelector(host)
	t2 := time.Now()
	a.must("pipeline", "deploy", "process-baseline-v1", "--name", "at-p13", "--host", host,
		"--param", "collection_interval=5s", "--destination", s.backend.Destination, "--watch", "--timeout", "5m")
	appliedSeconds := time.Since(t2).Seconds()
	var series []harness.Series
	err = harness.WaitUntil(wctx, 500*time.Millisecond, func() (bool, string) {
		var err error
		series, err = s.prom.Raw(wctx, sel, 5*time.Minute, time.Now())
		if err != nil {
			return false, err.Error()
		}
		return len(series) > 0, fmt.Sprintf("%d series of %s", len(series), host)
	})
	a.Require("samples of the packaged collector in Prometheus", err)
	backendSeconds := time.Since(t2).Seconds()

	// The collector that wrote them is the package's, run as phoenix, and it
	// sees itself among this host's real processes.
	uid, _, _, _ := root.User()
	colPID, agentRSS, colRSS := 0, 0.0, 0.0
	for _, p := range debroot.Running(root.Path("/usr/bin/")) {
		f := strings.Fields(p)
		pid, _ := strconv.Atoi(f[0])
		rss, _ := debroot.RSSMiB(pid)
		switch {
		case f[1] == root.Path("/usr/bin/phoenix-agent"):
			agentRSS = rss
		case f[1] == root.Path("/usr/bin/phoenix-otelcol") && isChildOf(pid, agent.PID()):
			colPID, colRSS = pid, rss
		}
	}
	if colPID == 0 {
		a.Failf("no %s runs under the packaged agent (pid %d)", root.Path("/usr/bin/phoenix-otelcol"), agent.PID())
	}
	if owner, err := debroot.Owner(colPID); err != nil || owner != uid {
		a.Failf("the collector (pid %d) runs as uid %d (%v), want the phoenix user %d", colPID, owner, err, uid)
	}
	pids := map[string]bool{}
	for _, se := range series {
		pids[se.Labels["process_pid"]] = true
	}
	if !pids[strconv.Itoa(colPID)] {
		a.Failf("Prometheus has %d series of %d processes of %s, but not the packaged collector itself (pid %d)", len(series), len(pids), host, colPID)
	}

	// What the agent keeps (its own credential among it) is for it alone.
	open, err := debroot.OpenToOthers(root.Path("/var/lib/phoenix/agent"))
	a.Require("walk the agent's data directory", err)
	if len(open) > 0 {
		a.Failf("files of the agent's data directory that other users can read: %v", open)
	}

	// Uninstall: stop as systemctl stop does, remove, purge.
	t3 := time.Now()
	a.Require("stop the agent (SIGTERM, TimeoutStopSec 45 s)", agent.Stop(45*time.Second))
	if left := debroot.Running(root.Dir + "/"); len(left) > 0 {
		a.Failf("processes of the package outlived the agent's stop: %v", left)
	}
	out, err = root.DpkgErr("--remove", "phoenix-agent")
	a.Require("dpkg --remove phoenix-agent: "+out, err)
	for _, gone := range []string{"/usr/bin/phoenix-agent", "/usr/bin/phoenix-otelcol", "/usr/lib/systemd/system/phoenix-agent.service"} {
		if _, err := os.Stat(root.Path(gone)); err == nil {
			a.Failf("%s is still there after dpkg --remove", gone)
		}
	}
	out, err = root.DpkgErr("--purge", "phoenix-agent")
	a.Require("dpkg --purge phoenix-agent: "+out, err)
	for _, gone := range []string{"/var/lib/phoenix/agent", "/etc/phoenix/agent.yaml"} {
		if _, err := os.Stat(root.Path(gone)); err == nil {
			a.Failf("%s is still there after dpkg --purge", gone)
		}
	}
	removeSeconds := time.Since(t3).Seconds()

	a.Figure("deb_mib", float64(st.Size())/(1<<20))
	a.Figure("seconds_package_build", buildSeconds)
	a.Figure("seconds_install", installSeconds)
	a.Figure("seconds_to_enrolled", enrolSeconds)
	a.Figure("seconds_to_applied", appliedSeconds)
	a.Figure("seconds_to_backend", backendSeconds)
	a.Figure("rss_agent_mib", agentRSS)
	a.Figure("rss_collector_mib", colRSS)
	a.Figure("series_in_backend", float64(len(series)))
	a.Figure("seconds_stop_and_remove", removeSeconds)
	a.Measured("%s (%.1f MiB, %s, %.0f s to package) installed in %.1f s: files, modes, user, conffile checked, %s, the unit waits for its settings; run as its unit: enrolled %.1f s after start, process-baseline-v1 applied %.1f s and first sample in Prometheus %.1f s after `pipeline deploy`, %d series of %d processes (the package's collector, uid %d, among them); RSS agent %.1f MiB, collector %.1f MiB; no file of its data directory readable by other users; stop, remove and purge %.1f s, no process or file of the package left",
		filepath.Base(deb), float64(st.Size())/(1<<20), from, buildSeconds, installSeconds, verified, enrolSeconds, appliedSeconds, backendSeconds,
		len(series), len(pids), uid, agentRSS, colRSS, removeSeconds)
}

// agentDeb is the phoenix-agent .deb of this machine's architecture: the
// release's (`make dist`) when its binaries are this commit's, else one
// packaged here from the binaries of `make build` by deploy/cmd/phoenix-package
// (the same nfpm package definition, no cross-build). It says which, and
// how long building took.
func (a *at) agentDeb() (path, from string, seconds float64) {
	a.t.Helper()
	if p := os.Getenv("PHOENIX_ACCEPTANCE_DEB"); p != "" {
		return p, "PHOENIX_ACCEPTANCE_DEB", 0
	}
	dist := filepath.Join(s.root, "dist")
	debs, _ := filepath.Glob(filepath.Join(dist, "phoenix-agent_*_"+runtime.GOARCH+".deb"))
	short := s.rep.Commit
	if len(short) > 12 {
		short = short[:12]
	}
	if len(debs) == 1 && short != "" {
		v, _ := exec.Command(filepath.Join(dist, "linux_"+runtime.GOARCH, "phoenix-agent"), "--version").Output()
		if strings.Contains(string(v), "commit "+short) {
			return debs[0], "the release of `make dist` at " + short, 0
		}
	}
	t0 := time.Now()
	out := filepath.Join(s.dir, "packages")
	cmd := exec.CommandContext(a.ctx, "go", "run", "./cmd/phoenix-package", "-package", "phoenix-agent", "-format", "deb",
		"-arch", runtime.GOARCH, "-bin", filepath.Join(s.root, "bin"), "-out", out)
	cmd.Dir = filepath.Join(s.root, "deploy")
	b, err := cmd.Output()
	if err != nil {
		msg := err.Error()
		if ee, ok := err.(*exec.ExitError); ok {
			msg += ": " + string(ee.Stderr)
		}
		a.Failf("package the agent (deploy/cmd/phoenix-package): %s", msg)
	}
	return strings.TrimSpace(string(b)), "packaged from bin/ by deploy/cmd/phoenix-package", time.Since(t0).Seconds()
}

func isChildOf(pid, parent int) bool {
	p, ok := harness.ReadProc(pid)
	return ok && p.PPID == parent
}
