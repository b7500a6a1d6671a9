package processmetrics

import (
	"fmt"
	"regexp"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// CriticalMatcher tells whether a process is critical: one of its regexes
// matches the executable name (process.executable.name, the kernel's comm),
// the command (process.command, argv[0]) or the command line
// (process.command_line). All three, because each misses services the
// others catch: `exec -a nginx ...` (how supervisors name a service) changes
// argv[0] but not comm; a JVM, Python or Node service is `java`, `python3`
// or `node` to comm and only its command line says which service it is. The
// templates' OTTL conditions match the same three attributes with the same
// (RE2) regexes, so a process is critical to every part of Phoenix or to
// none. A nil *CriticalMatcher matches nothing.
type CriticalMatcher struct {
	patterns []string
	res      []*regexp.Regexp
}

// NewCriticalMatcher compiles patterns (Go RE2 syntax, unanchored: anchor
// with ^...$ for a whole-name match). The error names the bad pattern and its
// index, e.g. `critical_processes[2] "(nginx": error parsing regexp: ...`.
// It returns nil, nil for no patterns.
func NewCriticalMatcher(patterns []string) (*CriticalMatcher, error) {
	if len(patterns) == 0 {
		return nil, nil
	}
	m := &CriticalMatcher{patterns: append([]string(nil), patterns...), res: make([]*regexp.Regexp, len(patterns))}
	for i, p := range patterns {
		if p == "" {
			return nil, fmt.Errorf("critical_processes[%d]: empty pattern (it would match every process)", i)
		}
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("critical_processes[%d] %q: %w", i, p, err)
		}
		m.res[i] = re
	}
	return m, nil
}

// ValidatePatterns checks patterns without keeping them (for Config.Validate).
func ValidatePatterns(patterns []string) error {
	_, err := NewCriticalMatcher(patterns)
	return err
}

// Len is the number of patterns.
func (m *CriticalMatcher) Len() int {
	if m == nil {
		return 0
	}
	return len(m.res)
}

// Pattern returns the i-th pattern as configured.
func (m *CriticalMatcher) Pattern(i int) string { return m.patterns[i] }

// Match reports whether the resource is a critical process.
func (m *CriticalMatcher) Match(attrs pcommon.Map) bool { return m.MatchIndex(attrs) >= 0 }

// MatchIndex returns the index of the first pattern matching the resource's
// executable name, command or command line, or -1.
func (m *CriticalMatcher) MatchIndex(attrs pcommon.Map) int {
	if m == nil {
		return -1
	}
	return m.MatchStrings(ExecutableName(attrs), strAttr(attrs, AttrCommand), strAttr(attrs, AttrCommandLine))
}

// MatchResource is MatchIndex on a resource [Read] already extracted.
func (m *CriticalMatcher) MatchResource(r *Resource) int {
	return m.MatchStrings(r.Name, r.Command, r.CommandLine)
}

// MatchStrings is MatchIndex on already extracted strings; an empty string
// (an absent attribute) matches nothing, as in OTTL's IsMatch. A command
// equal to the command line (a single-word command line, or the fallback
// of [Read]) is matched once.
func (m *CriticalMatcher) MatchStrings(executableName, command, commandLine string) int {
	if m == nil {
		return -1
	}
	if command == commandLine {
		command = ""
	}
	for i, re := range m.res {
		if (executableName != "" && re.MatchString(executableName)) ||
			(command != "" && re.MatchString(command)) ||
			(commandLine != "" && re.MatchString(commandLine)) {
			return i
		}
	}
	return -1
}
