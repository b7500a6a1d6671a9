package deployment

import (
	"sort"
	"strings"

	"github.com/phoenix-otel/phoenix/opamp-server/api"
	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// qualifyByHealth corrects an "applied" host by what its agent reports:
// APPLIED only says the agent took the config. A collector that is down
// (crash-looping, stopped) is failed with the agent's error; one that is
// starting again is applying; one whose exporters or receivers fail is
// degraded with the last such error. Agents that report no health are left
// as they are.
func qualifyByHealth(hs *api.HostStatus, h *store.Health) {
	if h == nil {
		return
	}
	if !h.Healthy {
		if strings.HasPrefix(h.Status, "starting") {
			hs.Status, hs.Detail = api.StatusApplying, "the collector is starting"
			return
		}
		hs.Status = api.StatusFailed
		hs.Error = "the agent reports its collector unhealthy"
		if h.Status != "" {
			hs.Error += " (" + h.Status + ")"
		}
		if h.LastError != "" {
			hs.Error += ": " + h.LastError
		}
		return
	}
	if path, c, ok := failingIO(h); ok {
		hs.Status = api.StatusDegraded
		hs.Error = c.LastError
		if hs.Error == "" {
			hs.Error = path + " reports " + c.Status
		}
		hs.Detail = "the config is applied and the collector runs, but " + path + " is failing"
	}
}

// failingIO finds the unhealthy exporter or receiver reported most recently.
func failingIO(h *store.Health) (string, store.ComponentHealth, bool) {
	var best string
	var bc store.ComponentHealth
	paths := make([]string, 0, len(h.Components))
	for p := range h.Components {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		last := p
		if i := strings.LastIndex(p, " > "); i >= 0 {
			last = p[i+len(" > "):]
		}
		if !strings.HasPrefix(last, "exporter:") && !strings.HasPrefix(last, "receiver:") {
			continue
		}
		c := h.Components[p]
		if best == "" || c.At.After(bc.At) {
			best, bc = p, c
		}
	}
	return best, bc, best != ""
}

// ViewHealth is the API view of an agent's reported health.
func ViewHealth(h *store.Health) *api.Health {
	if h == nil {
		return nil
	}
	v := &api.Health{Healthy: h.Healthy, Status: h.Status, LastError: h.LastError, StartTime: h.StartTime}
	if len(h.Components) > 0 {
		v.Components = make(map[string]api.ComponentHealth, len(h.Components))
		for k, c := range h.Components {
			v.Components[k] = api.ComponentHealth{Status: c.Status, LastError: c.LastError, At: c.At}
		}
	}
	return v
}
