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
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/internal/testutil/debroot"
)

// repoRoot is the repository root (deploy/ is one level down).
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}

func deployDir() string { return filepath.Join(repoRoot(), "deploy") }

func need(t *testing.T, what, how string, ok bool) { t.Helper(); debroot.Need(t, what, how, ok) }

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

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// execStart is the unit's ExecStart in root, as argv.
func execStart(t *testing.T, root *debroot.Root, unit string) []string {
	t.Helper()
	argv, err := root.ExecStart(unit)
	if err != nil {
		t.Fatal(err)
	}
	return argv
}

// TestInstallUpgradeRemoveOnCleanRoot installs the .debs into an empty root
// with dpkg --root, checks files, user, units and default configs, verifies
// the units with systemd-analyze, runs the server and the agent as their
// units would until the agent enrols and applies a deployment, upgrades the
// agent (data dir, identity and last working config kept), then removes and
// purges it.
func TestInstallUpgradeRemoveOnCleanRoot(t *testing.T) {
	if why := debroot.Missing(); why != "" {
		need(t, "dpkg --root", why, false)
	}
	bin := releaseBinaries(t)
	pkgs := t.TempDir()
	agentV1 := buildDeb(t, Agent, "0.1.0", bin, filepath.Join(pkgs, "v1"))
	agentV2 := buildDeb(t, Agent, "0.1.1", bin, filepath.Join(pkgs, "v2"))
	server := buildDeb(t, Server, "0.1.0", bin, pkgs)
	root := debroot.New(t)

	// Install.
	out := root.Dpkg(t, "-i", server, agentV1)
	if !strings.Contains(out, "waits for two settings") || !strings.Contains(out, "/etc/phoenix/enrollment-token") {
		t.Errorf("the agent's postinst does not say how to configure it:\n%s", out)
	}
	if err := root.CheckUser(); err != nil {
		t.Error(err)
	}
	_, gid := phoenixIDs(t, root)
	for _, files := range []map[string]os.FileMode{debroot.AgentFiles, debroot.ServerFiles} {
		for _, err := range root.CheckFiles(files) {
			t.Error(err)
		}
	}
	if err := root.CheckConffile("phoenix-agent", "/etc/phoenix/agent.yaml", "0.1.0"); err != nil {
		t.Error(err)
	}

	// The units pass systemd-analyze verify (in the root: the binaries it
	// checks are there).
	_, err := exec.LookPath("systemd-analyze")
	need(t, "systemd-analyze", "apt-get install systemd (.ci/run)", err == nil)
	root.InstallTargets()
	for _, u := range []string{"phoenix-agent.service", "phoenix-server.service"} {
		if err := root.VerifyUnit(u); err != nil {
			t.Error(err)
		}
	}

	// The server, as its unit runs it (its own paths rebased into the root).
	opampPort, httpPort := freePort(t), freePort(t)
	serverArgs := execStart(t, root, "phoenix-server.service")
	serverArgs = append(serverArgs, "--data-dir", root.Path("/var/lib/phoenix/server"),
		"--opamp-addr", fmt.Sprintf("127.0.0.1:%d", opampPort), "--http-addr", fmt.Sprintf("127.0.0.1:%d", httpPort))
	srv := root.Start(t, nil, serverArgs...)
	base := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	eventually(t, "phoenix-server ready", func() (bool, string) {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false, err.Error() + "\n" + srv.Log()
		}
		resp.Body.Close()
		return resp.StatusCode == 200, resp.Status
	})
	apiToken, _ := os.ReadFile(root.Path("/var/lib/phoenix/server/api-token"))
	enrollToken, err := os.ReadFile(root.Path("/var/lib/phoenix/server/enrollment-token"))
	if err != nil {
		t.Fatal(err)
	}
	if st := mode(t, root.Path("/var/lib/phoenix/server/enrollment-token")); st.Mode().Perm() != 0o600 {
		t.Errorf("the server's enrollment token is mode %v, want 0600", st.Mode().Perm())
	}
	a := api{base: base, token: strings.TrimSpace(string(apiToken))}

	// The agent does not start unconfigured: the unit's condition fails on
	// the default config and passes once the operator sets the server.
	if root.ExecCondition("phoenix-agent.service") == nil {
		t.Errorf("ExecCondition passes on the default agent.yaml: the agent would start without a server")
	}
	cfgPath := root.Path("/etc/phoenix/agent.yaml")
	cfg, _ := os.ReadFile(cfgPath)
	cfg = append(cfg, []byte(fmt.Sprintf("server: ws://127.0.0.1:%d/v1/opamp\nhost-name: pkg-test-host\n", opampPort))...)
	if err := os.WriteFile(cfgPath, cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := root.ExecCondition("phoenix-agent.service"); err != nil {
		t.Errorf("ExecCondition fails once the server is set: %v", err)
	}
	tokenPath := root.Path("/etc/phoenix/enrollment-token")
	if err := os.WriteFile(tokenPath, enrollToken, 0o640); err != nil {
		t.Fatal(err)
	}
	_ = os.Chown(tokenPath, 0, int(gid))

	agentArgs := func() []string {
		args := execStart(t, root, "phoenix-agent.service")
		// The config's absolute paths, rebased into the root (flags win).
		return append(args, "--data-dir", root.Path("/var/lib/phoenix/agent"), "--collector", root.Path("/usr/bin/phoenix-otelcol"),
			"--token-file", tokenPath)
	}
	agent := root.Start(t, debroot.AgentCaps, agentArgs()...)

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
			return false, fmt.Sprint(code, out, "\nagent log:\n", agent.Log())
		})
	}
	waitApplied("the packaged agent enrols and applies the deployment")
	// (A second one may be the agent validating a config with the binary.)
	if n := len(debroot.Running(root.Path("/usr/bin/phoenix-otelcol"))); n == 0 {
		t.Errorf("no collector of the root runs under the applied agent: the process checks below would see nothing")
	}
	// The figures behind the chart's requests: resident memory of the agent
	// and of its collector running process-topk-v1 on this host.
	for _, p := range debroot.Running(root.Path("/usr/bin/")) {
		f := strings.Fields(p)
		pid, _ := strconv.Atoi(f[0])
		if rss, err := debroot.RSSMiB(pid); err == nil {
			t.Logf("RSS %s: %.1f MiB", filepath.Base(f[1]), rss)
		}
	}
	dataDir := root.Path("/var/lib/phoenix/agent")
	if open, err := debroot.OpenToOthers(dataDir); err != nil || len(open) > 0 {
		t.Errorf("files of the agent's data directory other users can read: %v %v", open, err)
	}
	uidBefore, _ := os.ReadFile(filepath.Join(dataDir, "instance_uid"))
	lastWorking, err := os.ReadFile(filepath.Join(dataDir, "config/last_working.json"))
	if err != nil {
		t.Fatalf("no last working config after apply: %v", err)
	}
	if strings.TrimSpace(string(uidBefore)) != agentUID {
		t.Errorf("instance_uid %q, the server knows the host as agent %q", uidBefore, agentUID)
	}

	// Upgrade: stop as systemd would, install the new version.
	if err := agent.Stop(45 * time.Second); err != nil {
		t.Error(err)
	}
	if left := debroot.Running(root.Path("/usr/bin/phoenix-otelcol")); len(left) > 0 {
		t.Errorf("the collector outlived its agent: %v", left)
	}
	out = root.Dpkg(t, "-i", agentV2)
	if strings.Contains(out, "waits for two settings") {
		t.Errorf("the upgrade printed the first-install instructions again:\n%s", out)
	}
	if err := root.CheckConffile("phoenix-agent", "/etc/phoenix/agent.yaml", "0.1.1"); err != nil {
		t.Errorf("after upgrade: %v", err)
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
	agent = root.Start(t, debroot.AgentCaps, agentArgs()...)
	waitApplied("the upgraded agent comes back applied")
	if agentUID != strings.TrimSpace(string(uidBefore)) {
		t.Errorf("after upgrade the host is agent %q, was %q", agentUID, uidBefore)
	}

	// Remove: stop, remove (data and conffile kept), purge (both gone).
	if err := agent.Stop(45 * time.Second); err != nil {
		t.Error(err)
	}
	root.Dpkg(t, "--remove", "phoenix-agent")
	for _, gone := range []string{"/usr/bin/phoenix-agent", "/usr/bin/phoenix-otelcol", "/usr/lib/systemd/system/phoenix-agent.service"} {
		if _, err := os.Stat(root.Path(gone)); err == nil {
			t.Errorf("%s is still there after remove", gone)
		}
	}
	if _, err := os.Stat(filepath.Join(dataDir, "instance_uid")); err != nil {
		t.Errorf("remove deleted the data directory: %v", err)
	}
	if _, err := os.Stat(cfgPath); err != nil {
		t.Errorf("remove deleted the conffile: %v", err)
	}
	root.Dpkg(t, "--purge", "phoenix-agent")
	for _, gone := range []string{"/var/lib/phoenix/agent", "/etc/phoenix/agent.yaml"} {
		if _, err := os.Stat(root.Path(gone)); err == nil {
			t.Errorf("%s is still there after purge", gone)
		}
	}
	if err := srv.Stop(45 * time.Second); err != nil {
		t.Error(err)
	}
	root.Dpkg(t, "--purge", "phoenix-server")
	if left := debroot.Running(root.Dir + "/"); len(left) > 0 {
		t.Errorf("processes left after removal: %v", left)
	}
}

// phoenixIDs is the phoenix user's uid and gid in root.
func phoenixIDs(t *testing.T, root *debroot.Root) (uint32, uint32) {
	t.Helper()
	uid, gid, _, err := root.User()
	if err != nil {
		t.Fatal(err)
	}
	return uid, gid
}
