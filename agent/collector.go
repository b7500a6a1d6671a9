package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// featureGates are passed to every validate and run of the collector.
// service.AllowNoPipelines lets the minimal safe config (and a deployment
// deleted down to nothing) run with only telemetry and the health check.
const featureGates = "service.AllowNoPipelines"

func collectorArgs(configPath string) []string {
	return []string{"--config=" + configPath, "--feature-gates=" + featureGates}
}

// validateConfig runs `phoenix-otelcol validate` on a config file and returns
// the validator's own message when it rejects it.
// env is added to the agent's environment (secrets the config refers to).
func validateConfig(ctx context.Context, bin, configPath string, env []string) error {
	cmd := exec.CommandContext(ctx, bin, append([]string{"validate"}, collectorArgs(configPath)...)...)
	cmd.SysProcAttr = childSysProcAttr()
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("validate did not finish: %w", ctx.Err())
	}
	msg := strings.TrimSpace(out.String())
	if msg == "" {
		msg = err.Error()
	}
	return errors.New(msg)
}

// childSysProcAttr puts a child in its own process group (so the whole group
// can be signalled) and has the kernel kill it when the agent dies.
func childSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// collectorProc is one run of phoenix-otelcol.
type collectorProc struct {
	cmd        *exec.Cmd
	pid        int
	started    time.Time
	healthURL  string
	configPath string
	log        *logTail

	done    chan struct{}
	exitErr error

	mu       sync.Mutex
	stopping bool
}

// startCollector starts the collector on configPath, in directory dir. Its output goes to the
// log tail and to logPath (the previous run's log is kept as logPath.1).
// env is added to the agent's environment: the secrets and the credential
// the config refers to as ${env:...}, which never go into the config file.
func startCollector(bin, dir, configPath, healthEndpoint, logPath string, env []string) (*collectorProc, error) {
	_ = os.Rename(logPath, logPath+".1")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	tail := newLogTail(200)
	w := io.MultiWriter(f, tail)
	cmd := exec.Command(bin, collectorArgs(configPath)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout = w
	cmd.Stderr = w
	cmd.SysProcAttr = childSysProcAttr()
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	p := &collectorProc{
		cmd:        cmd,
		pid:        cmd.Process.Pid,
		started:    time.Now(),
		healthURL:  "http://" + healthEndpoint + "/",
		configPath: configPath,
		log:        tail,
		done:       make(chan struct{}),
	}
	go func() {
		p.exitErr = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *collectorProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// exitDescription says how the process ended, e.g. "exit status 1".
func (p *collectorProc) exitDescription() string {
	if p.exitErr == nil {
		return "exited with status 0"
	}
	return p.exitErr.Error()
}

func (p *collectorProc) markStopping() {
	p.mu.Lock()
	p.stopping = true
	p.mu.Unlock()
}

func (p *collectorProc) isStopping() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stopping
}

// stop sends SIGTERM to the collector's process group and SIGKILL after
// timeout; it returns once the process has been reaped.
func (p *collectorProc) stop(timeout time.Duration) {
	p.markStopping()
	if p.exited() {
		return
	}
	_ = syscall.Kill(-p.pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(timeout):
		_ = syscall.Kill(-p.pid, syscall.SIGKILL)
		<-p.done
	}
}

var healthClient = &http.Client{Timeout: 2 * time.Second}

// checkHealth asks the injected health_check extension; 200 means every
// pipeline started and the collector is ready.
func (p *collectorProc) checkHealth(ctx context.Context) error {
	if p.exited() {
		return fmt.Errorf("collector (pid %d) %s", p.pid, p.exitDescription())
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.healthURL, nil)
	if err != nil {
		return err
	}
	resp, err := healthClient.Do(req)
	if err != nil {
		return fmt.Errorf("health check %s: %w", p.healthURL, err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health check %s: %d %s", p.healthURL, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	if line := p.log.lastMatching(isFatalLine); line != "" {
		return fmt.Errorf("collector reported a fatal error: %s", line)
	}
	return nil
}

// isFatalLine matches the lines the collector writes when a component
// reports a fatal error (the process then shuts down).
func isFatalLine(l string) bool {
	return strings.Contains(l, "Asynchronous error received") ||
		strings.Contains(l, "\tfatal\t") || strings.Contains(l, "\tpanic\t")
}

// freeLoopbackEndpoint asks the OS for a free 127.0.0.1 port. The port is
// released before the collector binds it; a rare collision shows up as a
// failed start, which the caller treats like any other.
func freeLoopbackEndpoint() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	l.Close()
	return addr, nil
}

// logTail keeps the last n lines written to it.
type logTail struct {
	mu      sync.Mutex
	lines   []string
	next    int
	full    bool
	partial []byte
}

func newLogTail(n int) *logTail { return &logTail{lines: make([]string, n)} }

func (t *logTail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.partial = append(t.partial, b...)
	for {
		i := bytes.IndexByte(t.partial, '\n')
		if i < 0 {
			break
		}
		t.add(string(t.partial[:i]))
		t.partial = t.partial[i+1:]
	}
	if len(t.partial) > 64<<10 { // an endless line: keep it bounded
		t.add(string(t.partial))
		t.partial = t.partial[:0]
	}
	return len(b), nil
}

func (t *logTail) add(l string) {
	t.lines[t.next] = l
	t.next = (t.next + 1) % len(t.lines)
	if t.next == 0 {
		t.full = true
	}
}

// last returns up to n last lines, oldest first.
func (t *logTail) last(n int) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var all []string
	if t.full {
		all = append(all, t.lines[t.next:]...)
	}
	all = append(all, t.lines[:t.next]...)
	if len(t.partial) > 0 {
		all = append(all, string(t.partial))
	}
	if len(all) > n {
		all = all[len(all)-n:]
	}
	return all
}

func (t *logTail) lastMatching(match func(string) bool) string {
	lines := t.last(len(t.lines))
	for i := len(lines) - 1; i >= 0; i-- {
		if match(lines[i]) {
			return lines[i]
		}
	}
	return ""
}

// errorSummary picks the collector's own error from its log: the last
// "Error:" line cobra prints when the collector fails to start, else the last
// line logged at error level.
func errorSummary(t *logTail) string {
	if l := t.lastMatching(func(l string) bool { return strings.HasPrefix(l, "Error:") }); l != "" {
		return l
	}
	return t.lastMatching(func(l string) bool {
		return strings.Contains(l, "\terror\t") || strings.Contains(l, "\tfatal\t")
	})
}

// failureReport is the message reported with FAILED: the reason, the
// collector's own error, and the tail of its log, bounded in size.
func failureReport(reason string, t *logTail) string {
	var b strings.Builder
	b.WriteString(reason)
	if s := errorSummary(t); s != "" {
		b.WriteString("\ncollector error: ")
		b.WriteString(s)
	}
	lines := t.last(20)
	if len(lines) > 0 {
		b.WriteString("\n--- collector log tail ---\n")
		tail := strings.Join(lines, "\n")
		const max = 8 << 10
		if len(tail) > max {
			tail = "…" + tail[len(tail)-max:]
		}
		b.WriteString(tail)
	}
	return b.String()
}
