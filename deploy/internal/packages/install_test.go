package packages

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// repoRoot is the repository root (deploy/ is one level down).
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}

func deployDir() string { return filepath.Join(repoRoot(), "deploy") }

func need(t *testing.T, what, how string, ok bool) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is missing (%s)", what, how)
	}
	t.Skipf("%s is missing: %s", what, how)
}

// releaseBinaries is dist/linux_<arch> of `make dist`, for this machine's
// architecture (the packages under test are the release's own).
func releaseBinaries(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("PHOENIX_DIST_BIN")
	if dir == "" {
		dir = filepath.Join(repoRoot(), "dist", "linux_"+runtime.GOARCH)
	}
	for _, b := range []string{"phoenix-agent", "phoenix-otelcol", "phoenix-server"} {
		_, err := os.Stat(filepath.Join(dir, b))
		need(t, filepath.Join(dir, b), "run `make dist` (or set PHOENIX_DIST_BIN)", err == nil)
	}
	return dir
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// newRoot is an empty Debian root for dpkg --root: the dpkg database and the
// user database base-passwd would give, nothing else. The maintainer scripts
// run outside it (--force-script-chrootless) with DPKG_ROOT set.
func newRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	// The phoenix user must reach its files: the temp dirs are 0700.
	for d := root; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		_ = os.Chmod(d, 0o755)
	}
	for _, d := range []string{"etc", "var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers", "usr/bin"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		"var/lib/dpkg/status": "",
		"etc/passwd":          "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
		"etc/group":           "root:x:0:\nnogroup:x:65534:\n",
		"etc/shadow":          "root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n",
		"etc/gshadow":         "root:*::\nnogroup:*::\n",
	}
	for p, body := range files {
		if err := os.WriteFile(filepath.Join(root, p), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func dpkg(t *testing.T, root string, args ...string) string {
	t.Helper()
	return run(t, "dpkg", append([]string{"--root=" + root, "--force-script-chrootless", "--force-not-root", "--force-bad-path"}, args...)...)
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// unitLine returns the value of key= in a unit file.
func unitLine(t *testing.T, unit, key string) string {
	t.Helper()
	data, err := os.ReadFile(unit)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^` + key + `=(.*)$`).FindStringSubmatch(string(data))
	if m == nil {
		t.Fatalf("%s has no %s=", unit, key)
	}
	return m[1]
}

// rebase points the unit's absolute paths into root.
func rebase(root, s string) string {
	return strings.NewReplacer("/usr/bin/", root+"/usr/bin/", "/etc/phoenix/", root+"/etc/phoenix/").Replace(s)
}

func userIDs(t *testing.T, root string) (uid, gid uint32, line string) {
	t.Helper()
	data, _ := os.ReadFile(filepath.Join(root, "etc/passwd"))
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Split(l, ":")
		if len(f) == 7 && f[0] == "phoenix" {
			u, _ := strconv.Atoi(f[2])
			g, _ := strconv.Atoi(f[3])
			return uint32(u), uint32(g), l
		}
	}
	t.Fatalf("no phoenix user in %s/etc/passwd:\n%s", root, data)
	return 0, 0, ""
}

type proc struct {
	cmd  *exec.Cmd
	done chan error
	log  *bytes.Buffer
}

// start runs argv as the phoenix user with the unit's ambient capabilities.
func start(t *testing.T, root string, caps bool, argv ...string) *proc {
	t.Helper()
	uid, gid, _ := userIDs(t, root)
	cmd := exec.Command(argv[0], argv[1:]...)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid}, Setpgid: true}
	if caps {
		// AmbientCapabilities=CAP_SYS_PTRACE CAP_DAC_READ_SEARCH, as in the unit.
		cmd.SysProcAttr.AmbientCaps = []uintptr{19 /* CAP_SYS_PTRACE */, 2 /* CAP_DAC_READ_SEARCH */}
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %v: %v", argv, err)
	}
	p := &proc{cmd: cmd, done: make(chan error, 1), log: &log}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() { p.stop(t) })
	return p
}

// stop sends SIGTERM, as systemctl stop does, and waits; a process group
// that outlives it is killed so the test leaves nothing behind.
func (p *proc) stop(t *testing.T) {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(45 * time.Second): // TimeoutStopSec of the unit
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
		t.Errorf("%s did not stop within the unit's TimeoutStopSec", p.cmd.Path)
	}
}

// running lists the processes whose executable path starts with prefix.
func running(prefix string) []string {
	var out []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		exe, err := os.Readlink("/proc/" + e.Name() + "/exe")
		if err == nil && strings.HasPrefix(exe, prefix) {
			out = append(out, e.Name()+" "+exe)
		}
	}
	return out
}

type api struct {
	base, token string
}

func (a api) do(t *testing.T, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, a.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, map[string]any{"error": err.Error()}
	}
	defer resp.Body.Close()
	out := map[string]any{}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second) // bounds a wait for a real collector; asserts no speed
	last := ""
	for time.Now().Before(deadline) {
		ok, msg := cond()
		if ok {
			return
		}
		last = msg
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s; last: %s", what, last)
}

func buildDeb(t *testing.T, p Package, version, bin, out string) string {
	t.Helper()
	path, err := Build(p, "deb", runtime.GOARCH, version, bin, deployDir(), out)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func mode(t *testing.T, path string) os.FileInfo {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return st
}

// TestInstallUpgradeRemoveOnCleanRoot installs the .debs into an empty root
// with dpkg --root, checks files, user, units and default configs, verifies
// the units with systemd-analyze, runs the server and the agent as their
// units would until the agent enrols and applies a deployment, upgrades the
// agent (data dir, identity and last working config kept), then removes and
// purges it.
func TestInstallUpgradeRemoveOnCleanRoot(t *testing.T) {
	_, err := exec.LookPath("dpkg")
	need(t, "dpkg", "apt-get install dpkg (.ci/run)", err == nil)
	_, err = exec.LookPath("useradd")
	need(t, "useradd", "apt-get install passwd", err == nil)
	need(t, "root", "dpkg --root and the phoenix user need root", os.Geteuid() == 0)
	bin := releaseBinaries(t)
	pkgs := t.TempDir()
	agentV1 := buildDeb(t, Agent, "0.1.0", bin, filepath.Join(pkgs, "v1"))
	agentV2 := buildDeb(t, Agent, "0.1.1", bin, filepath.Join(pkgs, "v2"))
	server := buildDeb(t, Server, "0.1.0", bin, pkgs)
	root := newRoot(t)

	// Install.
	out := dpkg(t, root, "-i", server, agentV1)
	if !strings.Contains(out, "waits for two settings") || !strings.Contains(out, "/etc/phoenix/enrollment-token") {
		t.Errorf("the agent's postinst does not say how to configure it:\n%s", out)
	}
	uid, gid, pw := userIDs(t, root)
	if uid == 0 || uid >= 1000 || !strings.HasSuffix(pw, ":/var/lib/phoenix:/usr/sbin/nologin") {
		t.Errorf("phoenix user: %q, want a system user (uid < 1000) with home /var/lib/phoenix and no login shell", pw)
	}
	for path, want := range map[string]os.FileMode{
		"usr/bin/phoenix-agent": 0o755, "usr/bin/phoenix-otelcol": 0o755, "usr/bin/phoenix-server": 0o755,
		"usr/lib/systemd/system/phoenix-agent.service": 0o644, "usr/lib/systemd/system/phoenix-server.service": 0o644,
		"etc/phoenix/agent.yaml": 0o644, "etc/phoenix/server.yaml": 0o644,
		"var/lib/phoenix/agent": 0o750 | os.ModeDir, "var/lib/phoenix/server": 0o750 | os.ModeDir,
	} {
		st := mode(t, filepath.Join(root, path))
		if st.Mode() != want {
			t.Errorf("/%s: mode %v, want %v", path, st.Mode(), want)
		}
		if st.IsDir() {
			if s := st.Sys().(*syscall.Stat_t); s.Uid != uid || s.Gid != gid {
				t.Errorf("/%s: owner %d:%d, want phoenix %d:%d", path, s.Uid, s.Gid, uid, gid)
			}
		}
	}
	conffiles := dpkg(t, root, "--status", "phoenix-agent")
	if !strings.Contains(conffiles, "/etc/phoenix/agent.yaml") || !strings.Contains(conffiles, "Version: 0.1.0") {
		t.Errorf("phoenix-agent status does not list agent.yaml as a conffile:\n%s", conffiles)
	}

	// The units pass systemd-analyze verify (in the root: the binaries it
	// checks are there).
	if _, err := exec.LookPath("systemd-analyze"); err == nil {
		// A Debian root has systemd's targets and /bin/sh; this empty one
		// borrows the host's (unowned by the packages, so dpkg leaves them).
		units, _ := filepath.Glob("/usr/lib/systemd/system/*.target")
		slices, _ := filepath.Glob("/usr/lib/systemd/system/*.slice")
		_ = os.MkdirAll(filepath.Join(root, "bin"), 0o755)
		for _, u := range append(append(units, slices...), "/bin/sh") {
			if data, err := os.ReadFile(u); err == nil {
				m := os.FileMode(0o644)
				if u == "/bin/sh" {
					m = 0o755
				}
				_ = os.WriteFile(filepath.Join(root, u), data, m)
			}
		}
		for _, u := range []string{"phoenix-agent.service", "phoenix-server.service"} {
			cmd := exec.Command("systemd-analyze", "verify", "--root="+root, "/usr/lib/systemd/system/"+u)
			if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
				t.Errorf("systemd-analyze verify %s: %v\n%s", u, err, out)
			}
		}
	} else {
		need(t, "systemd-analyze", "apt-get install systemd (.ci/run)", false)
	}

	// The server, as its unit runs it (its own paths rebased into the root).
	opampPort, httpPort := freePort(t), freePort(t)
	serverArgs := strings.Fields(rebase(root, unitLine(t, filepath.Join(root, "usr/lib/systemd/system/phoenix-server.service"), "ExecStart")))
	serverArgs = append(serverArgs, "--data-dir", root+"/var/lib/phoenix/server",
		"--opamp-addr", fmt.Sprintf("127.0.0.1:%d", opampPort), "--http-addr", fmt.Sprintf("127.0.0.1:%d", httpPort))
	srv := start(t, root, false, serverArgs...)
	base := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	eventually(t, "phoenix-server ready", func() (bool, string) {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false, err.Error() + "\n" + srv.log.String()
		}
		resp.Body.Close()
		return resp.StatusCode == 200, resp.Status
	})
	apiToken, _ := os.ReadFile(filepath.Join(root, "var/lib/phoenix/server/api-token"))
	enrollToken, err := os.ReadFile(filepath.Join(root, "var/lib/phoenix/server/enrollment-token"))
	if err != nil {
		t.Fatal(err)
	}
	if st := mode(t, filepath.Join(root, "var/lib/phoenix/server/enrollment-token")); st.Mode().Perm() != 0o600 {
		t.Errorf("the server's enrollment token is mode %v, want 0600", st.Mode().Perm())
	}
	a := api{base: base, token: strings.TrimSpace(string(apiToken))}

	// The agent does not start unconfigured: the unit's condition fails on
	// the default config and passes once the operator sets the server.
	agentUnit := filepath.Join(root, "usr/lib/systemd/system/phoenix-agent.service")
	condition := rebase(root, unitLine(t, agentUnit, "ExecCondition"))
	checkCondition := func() error {
		f := strings.Fields(condition)
		script := strings.TrimSuffix(strings.TrimPrefix(strings.Join(f[2:], " "), "'"), "'")
		return exec.Command(f[0], f[1], script).Run()
	}
	if checkCondition() == nil {
		t.Errorf("ExecCondition passes on the default agent.yaml: the agent would start without a server")
	}
	cfgPath := filepath.Join(root, "etc/phoenix/agent.yaml")
	cfg, _ := os.ReadFile(cfgPath)
	cfg = append(cfg, []byte(fmt.Sprintf("server: ws://127.0.0.1:%d/v1/opamp\nhost-name: pkg-test-host\n", opampPort))...)
	if err := os.WriteFile(cfgPath, cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := checkCondition(); err != nil {
		t.Errorf("ExecCondition fails once the server is set: %v", err)
	}
	tokenPath := filepath.Join(root, "etc/phoenix/enrollment-token")
	if err := os.WriteFile(tokenPath, enrollToken, 0o640); err != nil {
		t.Fatal(err)
	}
	_ = os.Chown(tokenPath, 0, int(gid))

	agentArgs := func() []string {
		args := strings.Fields(rebase(root, unitLine(t, agentUnit, "ExecStart")))
		// The config's absolute paths, rebased into the root (flags win).
		return append(args, "--data-dir", root+"/var/lib/phoenix/agent", "--collector", root+"/usr/bin/phoenix-otelcol",
			"--token-file", tokenPath)
	}
	agent := start(t, root, true, agentArgs()...)

	code, body := a.do(t, "POST", "/api/v1/deployments", map[string]any{
		"name": "pkg-test", "template": "process-topk-v1", "params": map[string]any{"k": 10},
		"destination": map[string]any{"type": "debug"}, "target": map[string]any{"hosts": []string{"pkg-test-host"}},
	})
	if code != 201 && code != 200 {
		t.Fatalf("create deployment: %d %v", code, body)
	}
	var agentUID string
	waitApplied := func(what string) {
		eventually(t, what, func() (bool, string) {
			code, out := a.do(t, "GET", "/api/v1/hosts/pkg-test-host/config", nil)
			if s, _ := out["status"].(string); code == 200 && s == "applied" {
				agentUID, _ = out["agent_uid"].(string)
				return true, ""
			}
			return false, fmt.Sprint(code, out, "\nagent log:\n", agent.log.String())
		})
	}
	waitApplied("the packaged agent enrols and applies the deployment")
	// (A second one may be the agent validating a config with the binary.)
	if n := len(running(root + "/usr/bin/phoenix-otelcol")); n == 0 {
		t.Errorf("no collector of the root runs under the applied agent: the process checks below would see nothing")
	}
	// The figures behind the chart's requests: resident memory of the agent
	// and of its collector running process-topk-v1 on this host.
	for _, p := range running(root + "/usr/bin/") {
		pid := strings.Fields(p)[0]
		status, _ := os.ReadFile("/proc/" + pid + "/status")
		if m := regexp.MustCompile(`VmRSS:\s+(\d+) kB`).FindSubmatch(status); m != nil {
			kb, _ := strconv.Atoi(string(m[1]))
			t.Logf("RSS %s: %.1f MiB", filepath.Base(strings.Fields(p)[1]), float64(kb)/1024)
		}
	}
	dataDir := filepath.Join(root, "var/lib/phoenix/agent")
	uidBefore, _ := os.ReadFile(filepath.Join(dataDir, "instance_uid"))
	lastWorking, err := os.ReadFile(filepath.Join(dataDir, "config/last_working.json"))
	if err != nil {
		t.Fatalf("no last working config after apply: %v", err)
	}
	if strings.TrimSpace(string(uidBefore)) != agentUID {
		t.Errorf("instance_uid %q, the server knows the host as agent %q", uidBefore, agentUID)
	}

	// Upgrade: stop as systemd would, install the new version.
	agent.stop(t)
	if left := running(root + "/usr/bin/phoenix-otelcol"); len(left) > 0 {
		t.Errorf("the collector outlived its agent: %v", left)
	}
	out = dpkg(t, root, "-i", agentV2)
	if strings.Contains(out, "waits for two settings") {
		t.Errorf("the upgrade printed the first-install instructions again:\n%s", out)
	}
	if st := dpkg(t, root, "--status", "phoenix-agent"); !strings.Contains(st, "Version: 0.1.1") {
		t.Errorf("after upgrade:\n%s", st)
	}
	if got, _ := os.ReadFile(cfgPath); !bytes.Equal(got, cfg) {
		t.Errorf("the upgrade changed the operator's agent.yaml:\n%s", got)
	}
	if got, _ := os.ReadFile(filepath.Join(dataDir, "instance_uid")); !bytes.Equal(got, uidBefore) {
		t.Errorf("the upgrade changed the agent's identity: %q -> %q", uidBefore, got)
	}
	if got, _ := os.ReadFile(filepath.Join(dataDir, "config/last_working.json")); !bytes.Equal(got, lastWorking) {
		t.Errorf("the upgrade changed the last working config")
	}
	agent = start(t, root, true, agentArgs()...)
	waitApplied("the upgraded agent comes back applied")
	if agentUID != strings.TrimSpace(string(uidBefore)) {
		t.Errorf("after upgrade the host is agent %q, was %q", agentUID, uidBefore)
	}

	// Remove: stop, remove (data and conffile kept), purge (both gone).
	agent.stop(t)
	dpkg(t, root, "--remove", "phoenix-agent")
	for _, gone := range []string{"usr/bin/phoenix-agent", "usr/bin/phoenix-otelcol", "usr/lib/systemd/system/phoenix-agent.service"} {
		if _, err := os.Stat(filepath.Join(root, gone)); err == nil {
			t.Errorf("/%s is still there after remove", gone)
		}
	}
	if _, err := os.Stat(filepath.Join(dataDir, "instance_uid")); err != nil {
		t.Errorf("remove deleted the data directory: %v", err)
	}
	if _, err := os.Stat(cfgPath); err != nil {
		t.Errorf("remove deleted the conffile: %v", err)
	}
	dpkg(t, root, "--purge", "phoenix-agent")
	for _, gone := range []string{"var/lib/phoenix/agent", "etc/phoenix/agent.yaml"} {
		if _, err := os.Stat(filepath.Join(root, gone)); err == nil {
			t.Errorf("/%s is still there after purge", gone)
		}
	}
	srv.stop(t)
	dpkg(t, root, "--purge", "phoenix-server")
	if left := running(root + "/"); len(left) > 0 {
		t.Errorf("processes left after removal: %v", left)
	}
}
