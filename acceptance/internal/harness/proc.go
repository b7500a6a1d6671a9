package harness

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Proc is a real child process of the suite (phoenix-server, phoenix-agent,
// Prometheus, a relay collector). Its output goes to a log file in the run's
// directory, kept for the report.
type Proc struct {
	Name    string
	Cmd     *exec.Cmd
	LogPath string

	done chan struct{}
	err  error
	once sync.Once
}

// Start runs bin with args, logging to dir/<name>.log. The child dies with
// the suite (parent-death signal) even if the suite is killed.
func Start(dir, name, bin string, env []string, args ...string) (*Proc, error) {
	logPath := filepath.Join(dir, name+".log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Proc{Name: name, Cmd: cmd, LogPath: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

// PID is the child's process id.
func (p *Proc) PID() int { return p.Cmd.Process.Pid }

// Exited reports whether the child has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop sends SIGTERM and waits up to timeout, then SIGKILLs. Only this
// child's pid is signalled.
func (p *Proc) Stop(timeout time.Duration) {
	p.once.Do(func() {
		if p.Exited() {
			return
		}
		_ = p.Cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(timeout):
			_ = p.Cmd.Process.Kill()
			<-p.done
		}
	})
}

// Log returns the last max bytes of the child's log.
func (p *Proc) Log(max int) string {
	b, _ := os.ReadFile(p.LogPath)
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return string(b)
}

// ProcInfo is one process of this machine, read from /proc.
type ProcInfo struct {
	PID     int
	PPID    int
	Comm    string
	Cmdline []string
}

// Processes lists this machine's processes from /proc.
func Processes() []ProcInfo {
	entries, _ := os.ReadDir("/proc")
	var out []ProcInfo
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if pi, ok := ReadProc(pid); ok {
			out = append(out, pi)
		}
	}
	return out
}

// ReadProc reads one process; false when it is gone.
func ReadProc(pid int) (ProcInfo, bool) {
	dir := filepath.Join("/proc", strconv.Itoa(pid))
	stat, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return ProcInfo{}, false
	}
	// comm is in parentheses and may hold spaces: fields follow the last ')'.
	i := bytes.LastIndexByte(stat, ')')
	j := bytes.IndexByte(stat, '(')
	if i < 0 || j < 0 {
		return ProcInfo{}, false
	}
	fields := strings.Fields(string(stat[i+1:]))
	if len(fields) < 2 {
		return ProcInfo{}, false
	}
	ppid, _ := strconv.Atoi(fields[1])
	raw, _ := os.ReadFile(filepath.Join(dir, "cmdline"))
	var args []string
	for _, a := range strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00") {
		if a != "" {
			args = append(args, a)
		}
	}
	return ProcInfo{PID: pid, PPID: ppid, Comm: string(stat[j+1 : i]), Cmdline: args}, true
}

// Children lists the live children of pid.
func Children(pid int) []ProcInfo {
	var out []ProcInfo
	for _, p := range Processes() {
		if p.PPID == pid {
			out = append(out, p)
		}
	}
	return out
}

// WaitUntil polls cond every interval until it holds or ctx ends; the last
// message of cond explains a timeout.
func WaitUntil(ctx context.Context, interval time.Duration, cond func() (bool, string)) error {
	last := ""
	for {
		ok, msg := cond()
		if ok {
			return nil
		}
		last = msg
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w; last: %s", ctx.Err(), last)
		case <-time.After(interval):
		}
	}
}

func dial(addr string) (net.Conn, error) { return net.DialTimeout("tcp", addr, time.Second) }
