// Package scripts_test runs the repository's scripts the way a user does.
package scripts_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/internal/testutil"
)

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// lines collects a process's output and lets a test wait for a line.
type lines struct {
	mu  sync.Mutex
	all []string
}

func (l *lines) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		l.mu.Lock()
		l.all = append(l.all, sc.Text())
		l.mu.Unlock()
	}
}

func (l *lines) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.all, "\n")
}

// waitMatch waits for the n-th line matching re and returns its submatches.
func (l *lines) waitMatch(t *testing.T, re *regexp.Regexp, n int, within time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		l.mu.Lock()
		seen := 0
		for _, s := range l.all {
			if m := re.FindStringSubmatch(s); m != nil {
				seen++
				if seen == n {
					l.mu.Unlock()
					return m
				}
			}
		}
		l.mu.Unlock()
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no line %d matching %s within %s; output:\n%s", n, re, within, l.text())
	return nil
}

func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && len(s) > i+2 && s[i+2] != 'Z'
}

func healthy(url string) bool {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url + "/healthz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == 200
}

// make run behaves like a small fleet: the agent killed with SIGKILL leaves
// the server up and is started again; Ctrl-C (SIGINT to the script's process
// group, as a terminal sends it) stops everything.
func TestRunLocalSurvivesAnAgentKill(t *testing.T) {
	otelcol := testutil.OtelcolBinary(t)
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	for _, c := range []string{"./opamp-server/cmd/phoenix-server", "./agent/cmd/phoenix-agent"} {
		b := exec.Command("go", "build", "-o", bin, c)
		b.Dir = root
		if out, err := b.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", c, err, out)
		}
	}
	httpAddr := freeAddr(t)
	cmd := exec.Command("bash", filepath.Join(root, "scripts", "run-local.sh"))
	cmd.Env = append(os.Environ(), "PHOENIX_DATA="+t.TempDir(), "PHOENIX_BIN="+bin, "PHOENIX_OTELCOL_BIN="+otelcol,
		"PHOENIX_OPAMP_ADDR="+freeAddr(t), "PHOENIX_HTTP_ADDR="+httpAddr, "PHOENIX_AGENT_RESTART_DELAY=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	out := &lines{}
	go out.read(pr)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait(); pw.Close() }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
		}
	})

	started := regexp.MustCompile(`phoenix-agent started \(pid (\d+)\)`)
	first, _ := strconv.Atoi(out.waitMatch(t, started, 1, 60*time.Second)[1])
	api := "http://" + httpAddr
	deadline := time.Now().Add(60 * time.Second)
	for !healthy(api) {
		if time.Now().After(deadline) {
			t.Fatalf("the server never answered; output:\n%s", out.text())
		}
		time.Sleep(100 * time.Millisecond)
	}

	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	out.waitMatch(t, regexp.MustCompile(`phoenix-agent exited .*phoenix-server keeps running`), 1, 30*time.Second)
	if !healthy(api) {
		t.Fatalf("the server stopped answering after the agent was killed; output:\n%s", out.text())
	}
	second, _ := strconv.Atoi(out.waitMatch(t, started, 2, 30*time.Second)[1])
	if second == first || !alive(second) {
		t.Fatalf("agent not restarted: first pid %d, second %d (alive=%v)", first, second, alive(second))
	}
	time.Sleep(time.Second) // the new agent is running, not crash-looping
	if !alive(second) || !healthy(api) {
		t.Fatalf("after the restart: agent alive=%v, server healthy=%v; output:\n%s", alive(second), healthy(api), out.text())
	}

	// Ctrl-C: SIGINT to the foreground process group.
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("the script did not stop within 30s of Ctrl-C; output:\n%s", out.text())
	}
	if alive(second) || healthy(api) {
		t.Fatalf("after Ctrl-C: agent alive=%v, server answering=%v", alive(second), healthy(api))
	}
}
