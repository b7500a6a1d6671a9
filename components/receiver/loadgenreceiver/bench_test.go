package loadgenreceiver

import (
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/phoenix-otel/phoenix/loadgen"
)

// mustProfile returns a simulation of n processes, one step in.
func mustProfile(tb testing.TB, profile string, n int) *loadgen.Simulation {
	tb.Helper()
	spec := loadgen.Spec{Profile: profile, Overrides: loadgen.Overrides{ProcessCount: n}, Seed: 1}
	if profile == "" {
		// Sizes beyond the built-in ranges: a custom mix shaped like realistic.
		p, err := loadgen.ParseCustomProfile([]byte(`processes:
  - {name_template: "java -jar /opt/app-{i}.jar", count: 10, cpu: {pattern: spiky, base: 0.05, amplitude: 0.5}, memory: {pattern: growing, base: 200MiB, amplitude: 100MiB, period: 10m}}
  - {name_template: "/usr/bin/python3 worker.py --id={hex}", count: 10, cpu: {pattern: random, amplitude: 0.01}, memory: {base: 30MiB}, lifetime: 1m}
`))
		if err != nil {
			tb.Fatal(err)
		}
		spec = loadgen.Spec{Profile: "custom", Overrides: loadgen.Overrides{ProcessCount: n}}
		for i := range p.Groups {
			p.Groups[i].Count = n / len(p.Groups)
		}
		s := loadgen.NewSimulation(p, time.Now())
		s.Step(10 * time.Second)
		return s
	}
	p, err := loadgen.Resolve(spec)
	if err != nil {
		tb.Fatal(err)
	}
	s := loadgen.NewSimulation(p, time.Now())
	s.Step(10 * time.Second)
	return s
}

// BenchmarkGenerate measures one scrape: a simulation step plus rendering
// every process as pdata. It reports data points generated per second and
// allocations per data point.
func BenchmarkGenerate(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("processes=%d", n), func(b *testing.B) {
			s := mustProfile(b, "", n)
			now := pcommon.NewTimestampFromTime(time.Now())
			b.ReportAllocs()
			b.ResetTimer()
			dps := 0
			for b.Loop() {
				s.Step(10 * time.Second)
				md := pmetric.NewMetrics()
				appendProcesses(md, s.Processes(), "host-1", now)
				dps += md.DataPointCount()
			}
			b.StopTimer()
			el := b.Elapsed().Seconds()
			b.ReportMetric(float64(dps)/el, "datapoints/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(dps), "ns/datapoint")
		})
	}
}
