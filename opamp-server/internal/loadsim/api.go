package loadsim

import (
	"github.com/phoenix-otel/phoenix/loadgen"
)

// ProfileInfo describes a load profile (GET /api/v1/loadsim/profiles).
type ProfileInfo struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// DefaultProcessCount and DefaultChurnRate are the profile's defaults
	// (0 for custom: they come from the file).
	DefaultProcessCount int     `json:"default_process_count"`
	DefaultChurnRate    float64 `json:"default_churn_rate"`
	// CriticalServices are the core services every built-in profile runs.
	CriticalServices []string `json:"critical_services,omitempty"`
}

var profileDescriptions = map[string]string{
	loadgen.ProfileRealistic:       "a typical server: about 70% long-lived services (web servers, databases, runtimes) with steady, spiky and growing CPU and memory, and 30% short-lived jobs replaced as they exit",
	loadgen.ProfileHighCardinality: "many mostly idle processes, each with a unique command line, plus a few busy workers to rank",
	loadgen.ProfileProcessChurn:    "a steady base plus short-lived processes killed and replaced many times a second; PIDs are never reused",
	loadgen.ProfileCustom:          "your own profile: give its YAML file with --profile-file (format in loadgen/README.md)",
}

// Profiles lists the load profiles with their defaults.
func Profiles() []ProfileInfo {
	var core []string
	for _, g := range loadgen.CoreServices() {
		core = append(core, g.Executable)
	}
	var out []ProfileInfo
	for _, name := range loadgen.ProfileNames() {
		info := ProfileInfo{Name: name, Description: profileDescriptions[name]}
		if name != loadgen.ProfileCustom {
			if p, err := loadgen.Resolve(loadgen.Spec{Profile: name}); err == nil {
				info.DefaultProcessCount = p.ProcessCount()
				info.DefaultChurnRate = p.ChurnRate()
				info.CriticalServices = core
			}
		}
		out = append(out, info)
	}
	return out
}
