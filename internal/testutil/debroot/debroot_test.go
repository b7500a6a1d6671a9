package debroot

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const unit = `[Service]
User=phoenix
ExecCondition=/bin/sh -c 'grep -Eq "^server:[[:space:]]*wss?://" /etc/phoenix/agent.yaml'
ExecStart=/usr/bin/phoenix-agent --config /etc/phoenix/agent.yaml
ExecStartPre=/usr/bin/true
`

// fakeRoot is a root laid out by Make with the agent's unit and config
// written by hand (no dpkg): what the helpers read.
func fakeRoot(t *testing.T, config string) *Root {
	t.Helper()
	r, err := Make(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for p, body := range map[string]string{
		"/usr/lib/systemd/system/phoenix-agent.service": unit,
		"/etc/phoenix/agent.yaml":                       config,
	} {
		if err := os.MkdirAll(filepath.Dir(r.Path(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(r.Path(p), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func TestUnitValuesRebasedIntoTheRoot(t *testing.T) {
	r := fakeRoot(t, "")
	argv, err := r.ExecStart("phoenix-agent.service")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{r.Dir + "/usr/bin/phoenix-agent", "--config", r.Dir + "/etc/phoenix/agent.yaml"}
	if strings.Join(argv, " ") != strings.Join(want, " ") {
		t.Errorf("ExecStart = %q, want %q", argv, want)
	}
	// ExecStart= must not match ExecStartPre=, nor a key that is absent.
	if v, _ := r.UnitValue("phoenix-agent.service", "ExecStartPre"); v != "/usr/bin/true" {
		t.Errorf("ExecStartPre = %q", v)
	}
	if _, err := r.UnitValue("phoenix-agent.service", "Restart"); err == nil {
		t.Error("a key the unit lacks has a value")
	}
	if _, err := shellCommand("/usr/bin/test -f /x"); err == nil {
		t.Error("a condition without `sh -c '...'` was accepted")
	}
}

// The condition runs on the root's config, not the host's: it fails on a
// config without a server and passes once one is set.
func TestExecConditionReadsTheRootsConfig(t *testing.T) {
	if err := fakeRoot(t, "# server: wss://x:4320/v1/opamp\ntoken-file: /etc/phoenix/enrollment-token\n").ExecCondition("phoenix-agent.service"); err == nil {
		t.Error("ExecCondition passes on a config whose server is commented out")
	}
	if err := fakeRoot(t, "server: ws://127.0.0.1:4320/v1/opamp\n").ExecCondition("phoenix-agent.service"); err != nil {
		t.Errorf("ExecCondition fails with a server set: %v", err)
	}
}

func TestCheckFilesNamesEveryDeviation(t *testing.T) {
	r := fakeRoot(t, "")
	passwd, _ := os.ReadFile(r.Path("/etc/passwd"))
	uid, gid := os.Getuid(), os.Getgid()
	line := "phoenix:x:" + itoa(uid) + ":" + itoa(gid) + "::/var/lib/phoenix:/usr/sbin/nologin\n"
	if err := os.WriteFile(r.Path("/etc/passwd"), append(passwd, line...), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = os.MkdirAll(r.Path("/var/lib/phoenix/agent"), 0o750)
	_ = os.Chmod(r.Path("/var/lib/phoenix/agent"), 0o750)
	if errs := r.CheckFiles(map[string]os.FileMode{"/etc/phoenix/agent.yaml": 0o644, "/var/lib/phoenix/agent": 0o750 | os.ModeDir}); len(errs) != 0 {
		t.Errorf("a root with the right files: %v", errs)
	}
	errs := r.CheckFiles(map[string]os.FileMode{"/etc/phoenix/agent.yaml": 0o600, "/usr/bin/phoenix-otelcol": 0o755})
	if len(errs) != 2 || !strings.Contains(errs[0].Error(), "/etc/phoenix/agent.yaml: mode -rw-r--r--, want -rw-------") ||
		!strings.Contains(errs[1].Error(), "/usr/bin/phoenix-otelcol") {
		t.Errorf("want a wrong mode and a missing file named, got %v", errs)
	}
	// uid 0 is not a system user for the packages.
	if uid == 0 {
		if err := r.CheckUser(); err == nil || !strings.Contains(err.Error(), "want a system user") {
			t.Errorf("CheckUser accepts uid 0: %v", err)
		}
	}
}

// Stop ends a process that ignores SIGTERM by killing its process group
// after the timeout, and says so; Running sees the process by its path
// until then.
func TestStopKillsWhatOutlivesSIGTERM(t *testing.T) {
	// /proc/<pid>/exe is the resolved path (/bin/sh is a link to dash).
	sh, err := filepath.EvalSymlinks("/bin/sh")
	if err != nil {
		t.Fatal(err)
	}
	p, err := StartAs(uint32(os.Getuid()), uint32(os.Getgid()), nil, sh, "-c", "trap '' TERM; sleep 30 & wait; sleep 30")
	if err != nil {
		t.Fatal(err)
	}
	// Wait until the shell has run its trap: a SIGTERM before that ends it
	// (CI caught Stop returning nil that way).
	deadline := time.Now().Add(5 * time.Second)
	for !ignoresSIGTERM(p.PID()) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !ignoresSIGTERM(p.PID()) {
		t.Fatalf("pid %d never ignored SIGTERM", p.PID())
	}
	if !containsPID(Running(sh), p.PID()) {
		t.Fatalf("Running(%s) does not list pid %d: %v", sh, p.PID(), Running(sh))
	}
	if rss, err := RSSMiB(p.PID()); err != nil || rss <= 0 {
		t.Errorf("RSSMiB = %v, %v", rss, err)
	}
	err = p.Stop(300 * time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "did not stop") {
		t.Errorf("Stop of a process ignoring SIGTERM = %v, want an error", err)
	}
	if !p.Exited() || containsPID(Running(sh), p.PID()) {
		t.Errorf("the process is still there after Stop")
	}
	// A process that ends on SIGTERM stops without an error.
	q, err := StartAs(uint32(os.Getuid()), uint32(os.Getgid()), nil, "sleep", "30")
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Stop(10 * time.Second); err != nil {
		t.Errorf("Stop of sleep: %v", err)
	}
}

// ignoresSIGTERM reads the process's ignored-signal mask (SigIgn, hex, bit
// signal-1) from /proc.
func ignoresSIGTERM(pid int) bool {
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(status), "\n") {
		if hex, ok := strings.CutPrefix(line, "SigIgn:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
			return err == nil && mask&(1<<(uint(syscall.SIGTERM)-1)) != 0
		}
	}
	return false
}

func containsPID(list []string, pid int) bool {
	for _, l := range list {
		if strings.HasPrefix(l, itoa(pid)+" ") {
			return true
		}
	}
	return false
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestOpenToOthers(t *testing.T) {
	dir := t.TempDir()
	for name, mode := range map[string]os.FileMode{"token": 0o600, "config/last.json": 0o640, "leak": 0o644} {
		_ = os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o750)
		if err := os.WriteFile(filepath.Join(dir, name), nil, mode); err != nil {
			t.Fatal(err)
		}
		_ = os.Chmod(filepath.Join(dir, name), mode)
	}
	got, err := OpenToOthers(dir)
	if err != nil || len(got) != 1 || got[0] != filepath.Join(dir, "leak")+" -rw-r--r--" {
		t.Errorf("OpenToOthers = %v, %v; want only the 0644 file", got, err)
	}
}

func TestConffileListed(t *testing.T) {
	status := "Package: phoenix-agent\nStatus: install ok installed\nConffiles:\n /etc/phoenix/other.yaml 0123\n /etc/phoenix/agent.yaml 4567\nDescription: x\n /etc/phoenix/server.yaml in the description\n"
	if !conffileListed(status, "/etc/phoenix/agent.yaml") {
		t.Error("the second conffile is not found")
	}
	if conffileListed(status, "/etc/phoenix/server.yaml") {
		t.Error("a path in the description counts as a conffile")
	}
	if conffileListed(status, "/etc/phoenix/agent") {
		t.Error("a prefix of a conffile counts as one")
	}
}
