package harness

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func gone(pid int) bool { _, ok := ReadProc(pid); return !ok }

// Stop ends a child that ignores SIGTERM with SIGKILL after the timeout; the
// log file keeps what it wrote and Log returns its tail.
func TestStartStopKillsAfterTimeout(t *testing.T) {
	dir := t.TempDir()
	p, err := Start(dir, "stubborn", "/bin/sh", []string{"GREETING=hello"}, "-c", `trap "" TERM; echo "$GREETING from $$"; while :; do sleep 0.05; done`)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := WaitUntil(ctx, 10*time.Millisecond, func() (bool, string) {
		return strings.Contains(p.Log(1000), "hello from"), p.Log(1000)
	}); err != nil {
		t.Fatalf("the child's output (with its env) did not reach the log: %v", err)
	}
	if p.LogPath != filepath.Join(dir, "stubborn.log") || p.Exited() {
		t.Fatalf("log %s, exited %v", p.LogPath, p.Exited())
	}
	if tail := p.Log(6); len(tail) != 6 || !strings.HasSuffix(p.Log(1000), tail) {
		t.Errorf("Log(6) = %q, want the last 6 bytes", tail)
	}
	t0 := time.Now()
	p.Stop(200 * time.Millisecond)
	if !p.Exited() || !gone(p.PID()) {
		t.Fatalf("pid %d still there after Stop", p.PID())
	}
	if d := time.Since(t0); d < 200*time.Millisecond {
		t.Errorf("Stop returned after %s: it did not wait for SIGTERM to be ignored", d)
	}
	p.Stop(time.Second) // a second Stop is a no-op
}

// Agent.Stop also ends the children its process leaves behind (a collector
// or load process that outlives its agent), by pid.
func TestAgentStopEndsOrphanedChildren(t *testing.T) {
	p, err := Start(t.TempDir(), "agent", "/bin/sh", nil, "-c", `sleep 60 & sleep 60 & trap "exit 0" TERM; while :; do sleep 0.05; done`)
	if err != nil {
		t.Fatal(err)
	}
	var kids []ProcInfo
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := WaitUntil(ctx, 10*time.Millisecond, func() (bool, string) {
		kids = nil
		for _, k := range Children(p.PID()) {
			if k.Comm == "sleep" && len(k.Cmdline) == 2 && k.Cmdline[1] == "60" {
				kids = append(kids, k)
			}
		}
		return len(kids) == 2, "children: " + strings.Repeat("x", len(kids))
	}); err != nil {
		t.Fatalf("Children of %d: %v", p.PID(), err)
	}
	t.Cleanup(func() { // whatever the outcome, nothing is left
		for _, k := range kids {
			_ = syscall.Kill(k.PID, syscall.SIGKILL)
		}
	})
	(&Agent{Proc: p, Host: "h"}).Stop()
	// SIGKILL is delivered asynchronously: give the kernel a moment, far
	// less than the 60 s the children would otherwise live.
	alive := func(pid int) bool { pi, ok := ReadProc(pid); return ok && len(pi.Cmdline) > 0 } // a zombie has no cmdline
	for _, k := range kids {
		for deadline := time.Now().Add(3 * time.Second); alive(k.PID) && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		if alive(k.PID) {
			t.Errorf("child %d (sleep 60) outlived Agent.Stop", k.PID)
		}
	}
}

// ReadProc takes comm from between the first '(' and the last ')', so a
// program named "a) (b" still yields its parent pid.
func TestReadProcOddComm(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep")
	}
	odd := filepath.Join(t.TempDir(), "a) (b")
	data, err := os.ReadFile(sleep)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(odd, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(odd, "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	pi, ok := ReadProc(cmd.Process.Pid)
	if !ok || pi.Comm != "a) (b" || pi.PPID != os.Getpid() || len(pi.Cmdline) != 2 || pi.Cmdline[1] != "30" {
		t.Errorf("ReadProc = %+v, %v; want comm %q, ppid %d, args [.. 30]", pi, ok, "a) (b", os.Getpid())
	}
	if _, ok := ReadProc(1 << 30); ok {
		t.Error("ReadProc of a pid that cannot exist succeeded")
	}
}

func TestWaitUntilReportsTheLastMessage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	n := 0
	err := WaitUntil(ctx, 5*time.Millisecond, func() (bool, string) { n++; return false, "try " + itoaTest(n) })
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "last: try ") || n < 2 {
		t.Errorf("WaitUntil = %v after %d tries", err, n)
	}
	if err := WaitUntil(context.Background(), time.Hour, func() (bool, string) { return true, "" }); err != nil {
		t.Errorf("a condition that holds: %v", err)
	}
}

func itoaTest(n int) string { return strconv.Itoa(n) }
