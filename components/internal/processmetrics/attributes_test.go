package processmetrics

import (
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

func TestIsProcessResource(t *testing.T) {
	cases := []struct {
		name  string
		attrs map[string]any
		want  bool
	}{
		{"pid only", map[string]any{AttrPID: 1}, true},
		{"executable only", map[string]any{AttrExecutableName: "nginx"}, true},
		{"host resource", map[string]any{AttrHostName: "h1", "os.type": "linux"}, false},
		{"empty", map[string]any{}, false},
		{"command line only is not enough", map[string]any{AttrCommandLine: "nginx -g"}, false},
	}
	for _, c := range cases {
		m := pcommon.NewMap()
		if err := m.FromRaw(c.attrs); err != nil {
			t.Fatal(err)
		}
		if got := IsProcessResource(m); got != c.want {
			t.Errorf("%s: IsProcessResource = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestPIDForms(t *testing.T) {
	for _, c := range []struct {
		v    any
		want int64
		ok   bool
	}{{int64(42), 42, true}, {"42", 42, true}, {"4x2", 0, false}, {"", 0, false}, {float64(7), 7, true}, {true, 0, false}} {
		m := pcommon.NewMap()
		_ = m.FromRaw(map[string]any{AttrPID: c.v})
		got, ok := PID(m)
		if got != c.want || ok != c.ok {
			t.Errorf("PID(%#v) = %d,%v want %d,%v", c.v, got, ok, c.want, c.ok)
		}
	}
}

func TestCommandLineFallsBackToCommand(t *testing.T) {
	m := pcommon.NewMap()
	m.PutStr(AttrCommand, "postgres")
	if got := CommandLine(m); got != "postgres" {
		t.Fatalf("CommandLine = %q", got)
	}
	m.PutStr(AttrCommandLine, "postgres -D /data")
	if got := CommandLine(m); got != "postgres -D /data" {
		t.Fatalf("CommandLine = %q", got)
	}
}

func identity(p proc) Identity {
	md := pmetric.NewMetrics()
	rm := appendProc(md, p, at(10))
	var r Resource
	if !Read(rm, &r) {
		panic("not a process")
	}
	return r.ID
}

func TestIdentity(t *testing.T) {
	base := proc{host: "h1", pid: 100, name: "java", cmdline: "java -jar a.jar", start: at(1)}
	id := identity(base)

	same := base
	same.cpu = [3]float64{5, 1, 0} // values do not matter
	if identity(same) != id {
		t.Error("same process in a later scrape must keep its identity")
	}

	reused := base
	reused.start = at(500) // the PID was reused by a new process
	if identity(reused) == id {
		t.Error("PID reuse (new start time) must give a new identity")
	}

	otherHost := base
	otherHost.host = "h2"
	if identity(otherHost) == id {
		t.Error("the same pid on another host must be another process")
	}

	// No start time: the command line stands in for it.
	noStart := base
	noStart.start = 0
	a := identity(noStart)
	noStart.cmdline = "java -jar b.jar"
	if identity(noStart) == a {
		t.Error("without a start time, a different command line on the same pid must be another process")
	}
	noStart.cmdline = "java -jar a.jar"
	if identity(noStart) != a {
		t.Error("without a start time, identity must be stable")
	}
}

func TestReadRejectsNonProcess(t *testing.T) {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr(AttrHostName, "h")
	var r Resource
	if Read(rm, &r) {
		t.Fatal("a host resource is not a process")
	}
}

func TestReadSample(t *testing.T) {
	s := sampleOf(proc{pid: 1, name: "x", start: at(1), cpu: [3]float64{1.5, 0.5, 0.25}, mem: 4096}, at(10))
	if !s.HasCPUTime || s.CPUTime != 2.25 || s.CPUTemporal != TemporalityCumulative {
		t.Errorf("cpu: %+v", s)
	}
	if !s.HasMemory || s.Memory != 4096 {
		t.Errorf("memory: %+v", s)
	}
	if s.StartTime != at(1) || s.Timestamp != at(10) || s.CPUStart != at(1) {
		t.Errorf("timestamps: start %v ts %v cpustart %v", s.StartTime, s.Timestamp, s.CPUStart)
	}

	d := sampleOf(proc{pid: 1, name: "x", start: at(9), cpu: [3]float64{1, 0, 0}, delta: true}, at(10))
	if d.CPUTemporal != TemporalityDelta || d.CPUStart != at(9) {
		t.Errorf("delta: %+v", d)
	}
	// A delta's StartTimestamp is an interval start, not the process start;
	// the memory sum (cumulative) still tells the process start.
	if d.StartTime != at(9) {
		t.Errorf("delta sample StartTime = %v", d.StartTime)
	}

	u := sampleOf(proc{pid: 1, name: "x", noCPUTime: true, hasUtil: true, util: 0.3}, at(10))
	if u.HasCPUTime || !u.HasCPUUtilization || u.CPUUtilization != 0.3 {
		t.Errorf("utilization: %+v", u)
	}
}

func TestCriticalMatcher(t *testing.T) {
	m, err := NewCriticalMatcher([]string{"^nginx$", "kafka\\.Kafka"})
	if err != nil {
		t.Fatal(err)
	}
	attrs := pcommon.NewMap()
	attrs.PutStr(AttrExecutableName, "nginx")
	if m.MatchIndex(attrs) != 0 {
		t.Error("nginx by executable name")
	}
	attrs.PutStr(AttrExecutableName, "java")
	attrs.PutStr(AttrCommandLine, "java -cp /opt/kafka kafka.Kafka server.properties")
	if m.MatchIndex(attrs) != 1 {
		t.Error("kafka by command line")
	}
	attrs.PutStr(AttrCommandLine, "java -jar app.jar")
	if m.Match(attrs) {
		t.Error("plain java is not critical")
	}
	// exec -a nginx /bin/sleep: comm is sleep, only argv[0] says nginx.
	renamed := pcommon.NewMap()
	renamed.PutStr(AttrExecutableName, "sleep")
	renamed.PutStr(AttrCommand, "nginx")
	renamed.PutStr(AttrCommandLine, "nginx -c /etc/nginx/nginx.conf")
	if m.MatchIndex(renamed) != 0 {
		t.Error("nginx by command (argv[0])")
	}
	var r Resource
	rm := pmetric.NewResourceMetrics()
	renamed.CopyTo(rm.Resource().Attributes())
	rm.Resource().Attributes().PutInt(AttrPID, 7)
	if !Read(rm, &r) || r.Command != "nginx" || m.MatchResource(&r) != 0 {
		t.Errorf("MatchResource on what Read extracted: %+v", r)
	}
	if m.MatchStrings("sleep", "", "sleep 100") >= 0 || m.MatchStrings("", "", "") >= 0 {
		t.Error("empty or unrelated strings match nothing")
	}
	var none *CriticalMatcher
	if none.Match(attrs) || none.Len() != 0 {
		t.Error("nil matcher matches nothing")
	}

	_, err = NewCriticalMatcher([]string{"ok", "also", "(unclosed"})
	if err == nil || !strings.Contains(err.Error(), "critical_processes[2]") || !strings.Contains(err.Error(), `"(unclosed"`) {
		t.Errorf("error must name the pattern and its index, got %v", err)
	}
	if err := ValidatePatterns([]string{""}); err == nil || !strings.Contains(err.Error(), "critical_processes[0]: empty") {
		t.Errorf("empty pattern: %v", err)
	}
	if m, err := NewCriticalMatcher(nil); m != nil || err != nil {
		t.Error("no patterns: nil, nil")
	}
}

func TestHashAttributesOrderIndependent(t *testing.T) {
	a, b := pcommon.NewMap(), pcommon.NewMap()
	a.PutStr("state", "user")
	a.PutInt("cpu", 1)
	b.PutInt("cpu", 1)
	b.PutStr("state", "user")
	if HashAttributes(a) != HashAttributes(b) {
		t.Fatal("order must not matter")
	}
	b.PutStr("state", "system")
	if HashAttributes(a) == HashAttributes(b) {
		t.Fatal("different values must differ")
	}
	c := pcommon.NewMap()
	c.PutStr("cpu", "1")
	c.PutStr("state", "user")
	if HashAttributes(a) == HashAttributes(c) {
		t.Fatal("Int 1 and Str \"1\" must differ")
	}
	if Combine(1, 2) == Combine(2, 1) {
		t.Fatal("Combine is ordered")
	}
}

// Read (one pass over the attributes) must agree with the one-key helpers.
func TestReadAgreesWithHelpers(t *testing.T) {
	for _, p := range []proc{
		{host: "h", pid: 7, name: "nginx", cmdline: "nginx -g daemon off;", start: at(3)},
		{pid: 7, name: "nginx", cmdline: "nginx"},
		{name: "only-name"},
		{host: "h", pid: 9, start: at(1)},
	} {
		md := pmetric.NewMetrics()
		rm := appendProc(md, p, at(10))
		var r Resource
		if !Read(rm, &r) {
			t.Fatalf("%+v: not read as a process", p)
		}
		attrs := rm.Resource().Attributes()
		host, hasHost := HostName(attrs)
		pid, hasPID := PID(attrs)
		if r.ID != Identify(attrs, r.Sample.StartTime) || r.Host != host || r.HasHost != hasHost ||
			r.PID != pid || r.HasPID != hasPID || r.Name != ExecutableName(attrs) || r.CommandLine != CommandLine(attrs) {
			t.Errorf("%+v: Read %+v disagrees with the helpers", p, r)
		}
	}
}
