package cardinalityprocessor

import (
	"regexp"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// TEMPORARY until components/internal/processmetrics lands.

type processInfo struct {
	id   uint64
	name string
}

func identifyProcess(res pcommon.Map, resHash uint64) (processInfo, bool) {
	pid, ok := res.Get("process.pid")
	if !ok {
		return processInfo{}, false
	}
	name := ""
	if v, ok := res.Get("process.executable.name"); ok {
		name = v.Str()
	}
	return processInfo{id: mix64(hashValue(pid) + hashString(name)), name: name}, true
}

type criticalMatcher struct {
	res []*regexp.Regexp
}

func newCriticalMatcher(exprs []string) (*criticalMatcher, error) {
	if len(exprs) == 0 {
		return nil, nil
	}
	m := &criticalMatcher{}
	for _, e := range exprs {
		re, err := regexp.Compile(e)
		if err != nil {
			return nil, err
		}
		m.res = append(m.res, re)
	}
	return m, nil
}

func (m *criticalMatcher) match(res pcommon.Map) bool {
	v, ok := res.Get("process.executable.name")
	if !ok {
		return false
	}
	for _, re := range m.res {
		if re.MatchString(v.Str()) {
			return true
		}
	}
	return false
}
