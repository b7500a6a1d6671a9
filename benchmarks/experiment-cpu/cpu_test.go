// Package experimentcpu measures what an experiment costs on a host: the
// built collector's CPU with an experiment's two pipelines (baseline and
// process-aggregated-v1 on one receiver) against the baseline pipeline
// alone, and an A/A experiment (the baseline twice: the cost of a second
// pipeline itself), on the same synthetic input (the loadgen receiver, a
// fixed seed), one after the other in one run.
//
//	go test -run '^$' -bench ExperimentCPU -benchtime 1x -timeout 10m ./benchmarks/experiment-cpu/
package experimentcpu

import (
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/internal/testutil"
	"github.com/phoenix-otel/phoenix/pipelines"
)

var window = flag.Duration("window", 30*time.Second, "how long the CPU is measured for each config (after a 10 s warm-up)")

// cpuSeconds reads a process's utime+stime from /proc.
func cpuSeconds(tb testing.TB, pid int) float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		tb.Fatal(err)
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ
}

func measure(b *testing.B, bin string, cfg []byte) float64 {
	path := filepath.Join(b.TempDir(), "config.yaml")
	if err := os.WriteFile(path, cfg, 0o600); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--config", path, "--set=service.telemetry.metrics.level=none")
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	time.Sleep(10 * time.Second)
	if cmd.ProcessState != nil {
		b.Fatalf("the collector exited: %v", cmd.ProcessState)
	}
	c0, t0 := cpuSeconds(b, cmd.Process.Pid), time.Now()
	time.Sleep(*window)
	c1 := cpuSeconds(b, cmd.Process.Pid)
	return (c1 - c0) / time.Since(t0).Seconds()
}

func BenchmarkExperimentCPU(b *testing.B) {
	bin := testutil.OtelcolBinary(b)
	in := pipelines.Input{Mode: "loadgen", LoadGen: &pipelines.LoadSim{Profile: "high-cardinality", Seed: 42}}
	params := map[string]any{"collection_interval": "1s"}
	base := pipelines.Spec{Template: pipelines.TemplateBaseline, Params: params, Input: in}
	cand := pipelines.Spec{Template: pipelines.TemplateAggregated, Params: params}
	ctx := pipelines.Context{HostName: "bench-host"}
	alone, err := pipelines.Render(base, ctx)
	if err != nil {
		b.Fatal(err)
	}
	exp, err := pipelines.RenderExperiment(pipelines.ExperimentSpec{ID: "bench", Baseline: base, Candidate: cand}, ctx)
	if err != nil {
		b.Fatal(err)
	}
	// The same template on both sides: the cost of the second pipeline
	// itself, apart from what the candidate's processors do.
	aa, err := pipelines.RenderExperiment(pipelines.ExperimentSpec{ID: "bench", Baseline: base, Candidate: pipelines.Spec{Template: pipelines.TemplateBaseline, Params: params}}, ctx)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		a := measure(b, bin, alone.YAML)
		x := measure(b, bin, aa.YAML)
		e := measure(b, bin, exp.YAML)
		b.ReportMetric(a, "baseline-cpu-s/s")
		b.ReportMetric(x, "aa-experiment-cpu-s/s")
		b.ReportMetric(e, "experiment-cpu-s/s")
		b.ReportMetric(e/a, "ratio")
	}
}
