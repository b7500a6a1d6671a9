package processmetrics

import (
	"math"

	"github.com/cespare/xxhash/v2"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// Resource attribute and metric names of the hostmetrics process scraper
// (semantic conventions as of collector-contrib v0.160.0).
const (
	AttrPID            = "process.pid"
	AttrParentPID      = "process.parent_pid"
	AttrExecutableName = "process.executable.name"
	AttrExecutablePath = "process.executable.path"
	AttrCommand        = "process.command"
	AttrCommandLine    = "process.command_line"
	AttrOwner          = "process.owner"
	AttrHostName       = "host.name"

	MetricCPUTime        = "process.cpu.time"
	MetricCPUUtilization = "process.cpu.utilization"
	MetricMemoryUsage    = "process.memory.usage"
)

// IsProcessResource reports whether a resource describes one process: it
// carries process.pid or process.executable.name.
func IsProcessResource(attrs pcommon.Map) bool {
	if _, ok := attrs.Get(AttrPID); ok {
		return true
	}
	_, ok := attrs.Get(AttrExecutableName)
	return ok
}

// HostName returns the resource's host.name, the key processes are grouped by
// (so that a gateway handling several hosts ranks each host on its own). ok is
// false when the attribute is absent; the empty string is then the group.
// The returned string aliases pdata memory: clone it before keeping it.
func HostName(attrs pcommon.Map) (name string, ok bool) {
	v, ok := attrs.Get(AttrHostName)
	if !ok {
		return "", false
	}
	if v.Type() == pcommon.ValueTypeStr {
		return v.Str(), true
	}
	return v.AsString(), true
}

// ExecutableName returns process.executable.name, or "" when absent. It
// aliases pdata memory.
func ExecutableName(attrs pcommon.Map) string { return strAttr(attrs, AttrExecutableName) }

// CommandLine returns process.command_line, falling back to process.command
// (the scraper emits one or the other depending on the platform), or "".
func CommandLine(attrs pcommon.Map) string {
	if s := strAttr(attrs, AttrCommandLine); s != "" {
		return s
	}
	return strAttr(attrs, AttrCommand)
}

// PID returns process.pid and whether it is present (as an int, or a string
// holding an int, as some pipelines rewrite it).
func PID(attrs pcommon.Map) (int64, bool) {
	v, ok := attrs.Get(AttrPID)
	if !ok {
		return 0, false
	}
	return pidValue(v)
}

func pidValue(v pcommon.Value) (int64, bool) {
	switch v.Type() {
	case pcommon.ValueTypeInt:
		return v.Int(), true
	case pcommon.ValueTypeDouble:
		return int64(v.Double()), true
	case pcommon.ValueTypeStr:
		var n int64
		s := v.Str()
		if s == "" {
			return 0, false
		}
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int64(c-'0')
		}
		return n, true
	}
	return 0, false
}

func strAttr(attrs pcommon.Map, key string) string {
	v, ok := attrs.Get(key)
	if !ok || v.Type() != pcommon.ValueTypeStr {
		return ""
	}
	return v.Str()
}

// Identity is a 64-bit process identity, stable across scrapes of the same
// process and different for a new process that reuses a PID.
type Identity uint64

// Identify computes the identity of a process resource from host.name,
// process.pid and start (the process start time, normally
// [Sample.StartTime]; 0 when unknown). With no start time the command line
// (or the executable name) stands in for it. Without a pid the executable
// name and command line identify the process (one series per name).
func Identify(attrs pcommon.Map, start pcommon.Timestamp) Identity {
	var a procAttrs
	a.read(attrs)
	return a.identity(start)
}

// procAttrs are the resource attributes this package reads, collected in
// one pass over the map (cheaper than one Get per key).
type procAttrs struct {
	host, name, cmdline, command string
	hasHost, hasPID, hasName     bool
	pidKey                       bool // process.pid present, even if not an integer
	pid                          int64
}

func (a *procAttrs) read(attrs pcommon.Map) {
	for k, v := range attrs.All() {
		switch k {
		case AttrPID:
			a.pidKey = true
			a.pid, a.hasPID = pidValue(v)
		case AttrExecutableName:
			a.hasName = true
			if v.Type() == pcommon.ValueTypeStr {
				a.name = v.Str()
			}
		case AttrHostName:
			a.hasHost = true
			if v.Type() == pcommon.ValueTypeStr {
				a.host = v.Str()
			} else {
				a.host = v.AsString()
			}
		case AttrCommandLine:
			if v.Type() == pcommon.ValueTypeStr {
				a.cmdline = v.Str()
			}
		case AttrCommand:
			if v.Type() == pcommon.ValueTypeStr {
				a.command = v.Str()
			}
		}
	}
	if a.cmdline == "" {
		a.cmdline = a.command
	}
}

func (a *procAttrs) identity(start pcommon.Timestamp) Identity {
	h := uint64(0x9E3779B97F4A7C15)
	if a.hasHost {
		h = mix(h ^ xxhash.Sum64String(a.host))
	}
	if a.hasPID {
		h = mix(h ^ (uint64(a.pid) + 0x632BE59BD9B4E019))
		if start != 0 {
			return Identity(mix(h ^ (uint64(start) * 0xD6E8FEB86659FD93)))
		}
	}
	h = mix(h ^ xxhash.Sum64String(a.name))
	h = mix(h ^ xxhash.Sum64String(a.cmdline) ^ 0x94D049BB133111EB)
	return Identity(h)
}

// mix is the MurmurHash3 64-bit finaliser.
func mix(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// Resource is what [Read] extracts from one process resource. Strings alias
// pdata memory and are valid only while the batch is.
type Resource struct {
	Host    string // host.name, "" when absent
	HasHost bool
	PID     int64
	HasPID  bool
	Name    string // process.executable.name
	// Command is process.command (argv[0]), "" when absent.
	Command string
	// CommandLine is process.command_line, else process.command.
	CommandLine string
	ID          Identity
	Sample      Sample
	Resource    pmetric.ResourceMetrics

	attrs procAttrs
}

// Read fills r from rm and reports whether rm is a process resource. It
// reads the attributes in one pass and the sample in another, and does not
// allocate. r.ID equals Identify(attributes, r.Sample.StartTime).
func Read(rm pmetric.ResourceMetrics, r *Resource) bool {
	if !ReadAttributes(rm, r) {
		return false
	}
	ReadSample(rm, &r.Sample)
	r.Identify()
	return true
}

// ReadAttributes is the first step of [Read]: it fills r's attributes and
// reports whether rm is a process resource, leaving r.Sample and r.ID to
// the caller (a processor that walks the metrics itself calls
// Sample.AddMetric on each, then r.Identify).
func ReadAttributes(rm pmetric.ResourceMetrics, r *Resource) bool {
	r.attrs = procAttrs{}
	r.attrs.read(rm.Resource().Attributes())
	a := &r.attrs
	if !a.pidKey && !a.hasName {
		return false // same rule as IsProcessResource
	}
	r.Resource = rm
	r.Host, r.HasHost = a.host, a.hasHost
	r.PID, r.HasPID = a.pid, a.hasPID
	r.Name = a.name
	r.Command = a.command
	r.CommandLine = a.cmdline
	return true
}

// Identify sets r.ID from the attributes ReadAttributes read and
// r.Sample.StartTime.
func (r *Resource) Identify() { r.ID = r.attrs.identity(r.Sample.StartTime) }

// numberValue returns a data point's value as a float64.
func numberValue(dp pmetric.NumberDataPoint) float64 {
	switch dp.ValueType() {
	case pmetric.NumberDataPointValueTypeInt:
		return float64(dp.IntValue())
	case pmetric.NumberDataPointValueTypeDouble:
		v := dp.DoubleValue()
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0
		}
		return v
	}
	return 0
}
