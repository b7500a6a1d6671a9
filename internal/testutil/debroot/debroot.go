// Package debroot installs Phoenix's .deb packages into an empty root with
// `dpkg --root` and runs what they installed the way their systemd units
// would (as user phoenix, with the unit's ambient capabilities, the unit's
// ExecStart and ExecCondition with their paths rebased into the root).
//
// Two tests share it: the packaging test of the deploy module
// (deploy/internal/packages, install, upgrade, removal) and the acceptance
// suite's AT-P13 (install, enrol, deploy, uninstall against the suite's
// server). It imports only the standard library, so the deploy module can
// import it without taking the root module's dependencies into its build.
package debroot

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Need skips the test when a prerequisite is missing, and fails it under
// CI=true, where .ci/run installs it.
func Need(t testing.TB, what, how string, ok bool) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is missing (%s)", what, how)
	}
	t.Skipf("%s is missing: %s", what, how)
}

// Missing is the reason dpkg --root cannot install here, or "": dpkg,
// useradd (the maintainer scripts create the user) and root are needed.
func Missing() string {
	if _, err := exec.LookPath("dpkg"); err != nil {
		return "dpkg is not installed (apt-get install dpkg; .ci/run installs it)"
	}
	if _, err := exec.LookPath("useradd"); err != nil {
		return "useradd is not installed (apt-get install passwd; .ci/run installs it)"
	}
	if os.Geteuid() != 0 {
		return "dpkg --root and the phoenix user need root"
	}
	return ""
}

// Root is an empty Debian root for dpkg --root: the dpkg database and the
// user database base-passwd would give, nothing else. The maintainer scripts
// run outside it (--force-script-chrootless) with DPKG_ROOT set.
type Root struct {
	Dir string
}

// New makes a root in a temporary directory of t.
func New(t testing.TB) *Root {
	t.Helper()
	r, err := Make(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Make lays out an empty root in dir (which must exist and be empty). The
// phoenix user must reach its files, so dir and its parents up to the
// system's temporary directory are made 0755.
func Make(dir string) (*Root, error) {
	for d := dir; d != os.TempDir() && d != "/" && d != "."; d = filepath.Dir(d) {
		_ = os.Chmod(d, 0o755)
	}
	for _, d := range []string{"etc", "var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers", "usr/bin"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, err
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
		if err := os.WriteFile(filepath.Join(dir, p), []byte(body), 0o644); err != nil {
			return nil, err
		}
	}
	return &Root{Dir: dir}, nil
}

// Path is rel (an absolute path of the installed system) inside the root.
func (r *Root) Path(rel string) string { return filepath.Join(r.Dir, rel) }

// Dpkg runs dpkg on the root and returns its output; a failure fails t.
func (r *Root) Dpkg(t testing.TB, args ...string) string {
	t.Helper()
	out, err := r.DpkgErr(args...)
	if err != nil {
		t.Fatalf("dpkg %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// DpkgErr is Dpkg that returns the error.
func (r *Root) DpkgErr(args ...string) (string, error) {
	all := append([]string{"--root=" + r.Dir, "--force-script-chrootless", "--force-not-root", "--force-bad-path"}, args...)
	out, err := exec.Command("dpkg", all...).CombinedOutput()
	return string(out), err
}

// Rebase points the absolute paths a unit or config names into the root.
func (r *Root) Rebase(s string) string {
	return strings.NewReplacer("/usr/bin/", r.Dir+"/usr/bin/", "/etc/phoenix/", r.Dir+"/etc/phoenix/").Replace(s)
}

// Unit is the path of an installed systemd unit in the root.
func (r *Root) Unit(name string) string { return r.Path("/usr/lib/systemd/system/" + name) }

// UnitValue returns the value of key= in an installed unit.
func (r *Root) UnitValue(unit, key string) (string, error) {
	data, err := os.ReadFile(r.Unit(unit))
	if err != nil {
		return "", err
	}
	return unitValue(data, key)
}

func unitValue(data []byte, key string) (string, error) {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(key) + `=(.*)$`).FindSubmatch(data)
	if m == nil {
		return "", fmt.Errorf("no %s= in the unit", key)
	}
	return strings.TrimSpace(string(m[1])), nil
}

// ExecStart is the unit's ExecStart, split into argv, rebased into the root.
func (r *Root) ExecStart(unit string) ([]string, error) {
	v, err := r.UnitValue(unit, "ExecStart")
	if err != nil {
		return nil, err
	}
	return strings.Fields(r.Rebase(v)), nil
}

// ExecCondition runs the unit's ExecCondition (a `/bin/sh -c '...'` line),
// rebased into the root: nil when the unit would start.
func (r *Root) ExecCondition(unit string) error {
	v, err := r.UnitValue(unit, "ExecCondition")
	if err != nil {
		return err
	}
	argv, err := shellCommand(r.Rebase(v))
	if err != nil {
		return err
	}
	if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
		return fmt.Errorf("ExecCondition %s: %w %s", v, err, out)
	}
	return nil
}

// shellCommand splits `SHELL -c 'SCRIPT'` (the one form the units use).
func shellCommand(line string) ([]string, error) {
	sh, rest, ok := strings.Cut(line, " -c ")
	rest = strings.TrimSpace(rest)
	if !ok || len(rest) < 2 || rest[0] != '\'' || rest[len(rest)-1] != '\'' {
		return nil, fmt.Errorf("ExecCondition %q is not of the form `/bin/sh -c '...'`", line)
	}
	return []string{strings.TrimSpace(sh), "-c", rest[1 : len(rest)-1]}, nil
}

// User returns the phoenix user's uid, gid and passwd line in the root.
func (r *Root) User() (uid, gid uint32, line string, err error) {
	data, err := os.ReadFile(r.Path("/etc/passwd"))
	if err != nil {
		return 0, 0, "", err
	}
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Split(l, ":")
		if len(f) == 7 && f[0] == "phoenix" {
			u, err1 := strconv.Atoi(f[2])
			g, err2 := strconv.Atoi(f[3])
			if err1 != nil || err2 != nil {
				return 0, 0, l, fmt.Errorf("bad phoenix line in /etc/passwd: %q", l)
			}
			return uint32(u), uint32(g), l, nil
		}
	}
	return 0, 0, "", fmt.Errorf("no phoenix user in %s/etc/passwd:\n%s", r.Dir, data)
}

// CheckUser returns what is wrong with the phoenix user: it must be a system
// user (uid below 1000, not root) with home /var/lib/phoenix and no login shell.
func (r *Root) CheckUser() error {
	uid, _, line, err := r.User()
	if err != nil {
		return err
	}
	if uid == 0 || uid >= 1000 || !strings.HasSuffix(line, ":/var/lib/phoenix:/usr/sbin/nologin") {
		return fmt.Errorf("phoenix user: %q, want a system user (0 < uid < 1000) with home /var/lib/phoenix and no login shell", line)
	}
	return nil
}

// AgentFiles and ServerFiles are what each package installs, with modes.
// Directories must be owned by the phoenix user.
var (
	AgentFiles = map[string]os.FileMode{
		"/usr/bin/phoenix-agent": 0o755, "/usr/bin/phoenix-otelcol": 0o755,
		"/usr/lib/systemd/system/phoenix-agent.service": 0o644,
		"/etc/phoenix/agent.yaml":                       0o644,
		"/var/lib/phoenix/agent":                        0o750 | os.ModeDir,
	}
	ServerFiles = map[string]os.FileMode{
		"/usr/bin/phoenix-server":                        0o755,
		"/usr/lib/systemd/system/phoenix-server.service": 0o644,
		"/etc/phoenix/server.yaml":                       0o644,
		"/var/lib/phoenix/server":                        0o750 | os.ModeDir,
	}
)

// CheckFiles returns one error per file of want that is missing, has another
// mode, or (a directory) is not owned by the phoenix user.
func (r *Root) CheckFiles(want map[string]os.FileMode) []error {
	uid, gid, _, uerr := r.User()
	var errs []error
	for _, path := range sortedKeys(want) {
		st, err := os.Stat(r.Path(path))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", path, err))
			continue
		}
		if st.Mode() != want[path] {
			errs = append(errs, fmt.Errorf("%s: mode %v, want %v", path, st.Mode(), want[path]))
		}
		if st.IsDir() {
			if uerr != nil {
				errs = append(errs, fmt.Errorf("%s: %w", path, uerr))
			} else if s := st.Sys().(*syscall.Stat_t); s.Uid != uid || s.Gid != gid {
				errs = append(errs, fmt.Errorf("%s: owner %d:%d, want phoenix %d:%d", path, s.Uid, s.Gid, uid, gid))
			}
		}
	}
	return errs
}

// CheckConffile returns an error unless dpkg lists conf as a conffile of
// pkg and pkg is installed at version.
func (r *Root) CheckConffile(pkg, conf, version string) error {
	st, err := r.DpkgErr("--status", pkg)
	if err != nil {
		return fmt.Errorf("dpkg --status %s: %v\n%s", pkg, err, st)
	}
	if !strings.Contains(st, "Status: install ok installed") || !strings.Contains(st, "Version: "+version) {
		return fmt.Errorf("%s is not installed at version %s:\n%s", pkg, version, st)
	}
	if !conffileListed(st, conf) {
		return fmt.Errorf("%s does not list %s as a conffile:\n%s", pkg, conf, st)
	}
	return nil
}

// conffileListed reports whether dpkg --status output lists conf under
// Conffiles (each line " <path> <md5>").
func conffileListed(status, conf string) bool {
	return regexp.MustCompile(`(?m)^Conffiles:\n(?: .*\n)*? ` + regexp.QuoteMeta(conf) + ` `).MatchString(status)
}

// InstallTargets makes systemd-analyze verify --root possible in an empty
// root: a Debian root has systemd's targets, slices and /bin/sh; this one
// borrows the host's (unowned by the packages, so dpkg leaves them).
func (r *Root) InstallTargets() {
	units, _ := filepath.Glob("/usr/lib/systemd/system/*.target")
	slices, _ := filepath.Glob("/usr/lib/systemd/system/*.slice")
	_ = os.MkdirAll(r.Path("/bin"), 0o755)
	_ = os.MkdirAll(r.Path("/usr/lib/systemd/system"), 0o755)
	for _, u := range append(append(units, slices...), "/bin/sh") {
		if data, err := os.ReadFile(u); err == nil {
			m := os.FileMode(0o644)
			if u == "/bin/sh" {
				m = 0o755
			}
			_ = os.WriteFile(r.Path(u), data, m)
		}
	}
}

// VerifyUnit runs systemd-analyze verify --root on an installed unit: nil
// when it passes without a word.
func (r *Root) VerifyUnit(unit string) error {
	out, err := exec.Command("systemd-analyze", "verify", "--root="+r.Dir, "/usr/lib/systemd/system/"+unit).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		return fmt.Errorf("systemd-analyze verify %s: %v\n%s", unit, err, out)
	}
	return nil
}

// AgentCaps are the agent unit's AmbientCapabilities: CAP_SYS_PTRACE and
// CAP_DAC_READ_SEARCH (linux/capability.h numbers).
var AgentCaps = []uintptr{19, 2}

// Proc is a process started as a unit would start it.
type Proc struct {
	Cmd  *exec.Cmd
	done chan struct{}
	mu   sync.Mutex
	log  bytes.Buffer
	once sync.Once
}

type lockedWriter struct{ p *Proc }

func (w lockedWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.log.Write(b)
}

// Start runs argv as the root's phoenix user with the ambient capabilities
// caps (nil for none), in its own process group, output kept in memory.
// The process is stopped when t ends.
func (r *Root) Start(t testing.TB, caps []uintptr, argv ...string) *Proc {
	t.Helper()
	uid, gid, _, err := r.User()
	if err != nil {
		t.Fatal(err)
	}
	p, err := StartAs(uid, gid, caps, argv...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Stop(45 * time.Second); err != nil {
			t.Error(err)
		}
	})
	return p
}

// StartAs runs argv as uid:gid with the ambient capabilities caps. The child
// dies with the test process (parent-death signal).
func StartAs(uid, gid uint32, caps []uintptr, argv ...string) (*Proc, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	p := &Proc{Cmd: cmd, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = lockedWriter{p}, lockedWriter{p}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, AmbientCaps: caps, Pdeathsig: syscall.SIGKILL}
	if uid != uint32(os.Geteuid()) || gid != uint32(os.Getegid()) {
		// Changing user needs root (setgroups); running as oneself does not.
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uid, Gid: gid}
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %v: %w", argv, err)
	}
	go func() { _ = cmd.Wait(); close(p.done) }()
	return p, nil
}

// PID is the process id.
func (p *Proc) PID() int { return p.Cmd.Process.Pid }

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Log is what the process wrote so far.
func (p *Proc) Log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// Stop sends SIGTERM, as systemctl stop does, and waits up to timeout (the
// unit's TimeoutStopSec); a process that outlives it is killed with its
// process group, as KillMode=mixed does, and Stop returns an error saying so.
func (p *Proc) Stop(timeout time.Duration) error {
	var err error
	p.once.Do(func() {
		if p.Exited() {
			return
		}
		_ = p.Cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(timeout):
			_ = syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
			err = fmt.Errorf("%s did not stop within %s of SIGTERM", p.Cmd.Path, timeout)
		}
	})
	return err
}

// Running lists the processes ("pid exe") whose executable path starts
// with prefix (for example the root's /usr/bin/).
func Running(prefix string) []string {
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

// RSSMiB is a process's resident set (VmRSS) in MiB.
func RSSMiB(pid int) (float64, error) {
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	m := regexp.MustCompile(`VmRSS:\s+(\d+) kB`).FindSubmatch(status)
	if m == nil {
		return 0, fmt.Errorf("no VmRSS for pid %d", pid)
	}
	kb, _ := strconv.Atoi(string(m[1]))
	return float64(kb) / 1024, nil
}

// OpenToOthers lists the files under dir (as "path mode") that users other
// than the owner and group may read or write: where a credential must not be.
func OpenToOthers(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Mode().IsRegular() && info.Mode().Perm()&0o006 != 0 {
			out = append(out, fmt.Sprintf("%s %v", p, info.Mode().Perm()))
		}
		return nil
	})
	return out, err
}

// Owner is the real uid of a process.
func Owner(pid int) (uint32, error) {
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	m := regexp.MustCompile(`(?m)^Uid:\s+(\d+)`).FindSubmatch(status)
	if m == nil {
		return 0, fmt.Errorf("no Uid for pid %d", pid)
	}
	u, _ := strconv.Atoi(string(m[1]))
	return uint32(u), nil
}

func sortedKeys(m map[string]os.FileMode) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
