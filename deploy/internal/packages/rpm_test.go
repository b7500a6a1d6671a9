package packages

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/phoenix-otel/phoenix/internal/testutil/debroot"
)

// scriptletTools are what the maintainer scripts run (deploy/scripts): rpm
// runs them chrooted into --root, so the temporary root needs them, with
// their shared libraries, as a minimal RPM system has them.
var scriptletTools = []string{"/bin/sh", "/usr/bin/grep", "/usr/bin/awk", "/usr/sbin/useradd", "/usr/bin/mkdir",
	"/usr/bin/chown", "/usr/bin/chmod", "/usr/bin/rm", "/usr/bin/cat"}

// rpmRoot is an empty root for `rpm --root`: the user database of
// debroot.Make, /dev/null, temp dirs, an initialised rpm database, and the
// scriptlets' tools copied in with the libraries ldd names.
func rpmRoot(t *testing.T) *debroot.Root {
	t.Helper()
	root := debroot.New(t)
	for _, d := range []string{"dev", "tmp", "var/tmp", "bin", "usr/sbin", "run"} {
		if err := os.MkdirAll(root.Path(d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	_ = os.Chmod(root.Path("tmp"), 0o1777)
	if out, err := exec.Command("mknod", "-m", "0666", root.Path("/dev/null"), "c", "1", "3").CombinedOutput(); err != nil {
		t.Fatalf("mknod /dev/null: %v %s", err, out)
	}
	libs := map[string]bool{}
	for _, tool := range scriptletTools {
		real, err := filepath.EvalSymlinks(tool)
		if err != nil {
			need(t, tool, "a tool the maintainer scripts use", false)
		}
		copyFile(t, real, root.Path(tool), 0o755)
		out, _ := exec.Command("ldd", real).Output()
		for _, lib := range regexp.MustCompile(`(/[^\s]+\.so[^\s]*)`).FindAllString(string(out), -1) {
			libs[lib] = true
		}
	}
	for lib := range libs {
		copyFile(t, lib, root.Path(lib), 0o755)
	}
	rpm(t, root, "--initdb")
	return root
}

func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, mode); err != nil {
		t.Fatal(err)
	}
}

func rpm(t *testing.T, root *debroot.Root, args ...string) string {
	t.Helper()
	out, err := exec.Command("rpm", append([]string{"--root", root.Dir}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("rpm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestRPMInstallUpgradeEraseOnCleanRoot installs the .rpms with `rpm --root`
// into an empty root (--nodeps: the root has no RPM packages to satisfy
// shadow-utils and the rest), their scriptlets run by rpm itself in the
// root: it checks the files and modes (rpm -V), the config files, what the
// scriptlets did (the phoenix user, the data directories, the configuration
// steps printed on first install only), an upgrade with rpm's arguments
// (the operator's config and the agent's data kept, no first-install text)
// and an erase (files gone, data kept, the edited config saved as .rpmsave).
func TestRPMInstallUpgradeEraseOnCleanRoot(t *testing.T) {
	_, err := exec.LookPath("rpm")
	need(t, "rpm", "apt-get install rpm (.ci/run installs it)", err == nil)
	need(t, "root", "rpm --root chroots to run the scriptlets", os.Geteuid() == 0)
	bin := releaseBinaries(t)
	pkgs := t.TempDir()
	build := func(p Package, version, dir string) string {
		path, err := Build(p, "rpm", runtime.GOARCH, version, bin, deployDir(), filepath.Join(pkgs, dir))
		if err != nil {
			t.Fatal(err)
		}
		return path
	}
	agentV1, agentV2, server := build(Agent, "0.1.0", "v1"), build(Agent, "0.1.1", "v2"), build(Server, "0.1.0", "v1")
	root := rpmRoot(t)

	// Install both.
	out := rpm(t, root, "-i", "--nodeps", server, agentV1)
	if !strings.Contains(out, "waits for two settings") || !strings.Contains(out, "phoenix-server is installed") {
		t.Errorf("the postinstall scriptlets did not print the configuration steps:\n%s", out)
	}
	if err := root.CheckUser(); err != nil {
		t.Errorf("after the scriptlets: %v", err)
	}
	for _, files := range []map[string]os.FileMode{debroot.AgentFiles, debroot.ServerFiles} {
		for _, err := range root.CheckFiles(files) {
			t.Error(err)
		}
	}
	for pkg, conf := range map[string]string{"phoenix-agent": "/etc/phoenix/agent.yaml", "phoenix-server": "/etc/phoenix/server.yaml"} {
		if got := strings.TrimSpace(rpm(t, root, "-qc", pkg)); got != conf {
			t.Errorf("rpm -qc %s = %q, want %s", pkg, got, conf)
		}
		// Every file as packaged: digest, mode, owner.
		if out, err := exec.Command("rpm", "--root", root.Dir, "-V", "--nodeps", pkg).CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("rpm -V %s: %v\n%s", pkg, err, out)
		}
	}
	if got := rpm(t, root, "-q", "--queryformat", "%{VERSION}", "phoenix-agent"); got != "0.1.0" {
		t.Errorf("installed version %q", got)
	}

	// The operator configures it; the agent leaves an identity behind.
	cfgPath := root.Path("/etc/phoenix/agent.yaml")
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg = append(cfg, "server: wss://phoenix.example:4320/v1/opamp\n"...)
	if err := os.WriteFile(cfgPath, cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	uidFile := root.Path("/var/lib/phoenix/agent/instance_uid")
	if err := os.WriteFile(uidFile, []byte("0193e0a1-agent\n"), 0o640); err != nil {
		t.Fatal(err)
	}

	// Upgrade: rpm runs the new %pre/%post with 2 and the old %preun/%postun with 1.
	out = rpm(t, root, "-U", "--nodeps", agentV2)
	if strings.Contains(out, "waits for two settings") {
		t.Errorf("the upgrade printed the first-install text again (rpm's $1 = 2 not seen as an upgrade):\n%s", out)
	}
	if got := rpm(t, root, "-q", "--queryformat", "%{VERSION}", "phoenix-agent"); got != "0.1.1" {
		t.Errorf("after upgrade: version %q", got)
	}
	if got, _ := os.ReadFile(cfgPath); !bytes.Equal(got, cfg) {
		t.Errorf("the upgrade changed the operator's agent.yaml:\n%s", got)
	}
	if got, err := os.ReadFile(uidFile); err != nil || string(got) != "0193e0a1-agent\n" {
		t.Errorf("the upgrade lost the agent's identity: %q %v", got, err)
	}
	if _, err := os.Stat(root.Path("/usr/bin/phoenix-otelcol")); err != nil {
		t.Errorf("after upgrade: %v", err)
	}

	// Erase: the package's files go, the data directory stays (rpm has no
	// purge), the edited config is saved as .rpmsave.
	rpm(t, root, "-e", "--nodeps", "phoenix-agent")
	for _, gone := range []string{"/usr/bin/phoenix-agent", "/usr/bin/phoenix-otelcol", "/usr/lib/systemd/system/phoenix-agent.service", "/etc/phoenix/agent.yaml"} {
		if _, err := os.Stat(root.Path(gone)); err == nil {
			t.Errorf("%s is still there after rpm -e", gone)
		}
	}
	if got, err := os.ReadFile(cfgPath + ".rpmsave"); err != nil || !bytes.Equal(got, cfg) {
		t.Errorf("the operator's edited agent.yaml is not kept as agent.yaml.rpmsave: %v", err)
	}
	if _, err := os.Stat(uidFile); err != nil {
		t.Errorf("rpm -e deleted the agent's data: %v", err)
	}
	if _, err := exec.Command("rpm", "--root", root.Dir, "-q", "phoenix-agent").CombinedOutput(); err == nil {
		t.Errorf("rpm -q phoenix-agent still succeeds after erase")
	}
	rpm(t, root, "-e", "--nodeps", "phoenix-server")
	if _, err := os.Stat(root.Path("/usr/bin/phoenix-server")); err == nil {
		t.Errorf("/usr/bin/phoenix-server is still there after rpm -e")
	}
	if left := debroot.Running(root.Dir + "/"); len(left) > 0 {
		t.Errorf("processes of the root left: %v", left)
	}
}
