package deployment

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/open-telemetry/opamp-go/protobufs"

	"github.com/phoenix-otel/phoenix/opamp-server/api"
	"github.com/phoenix-otel/phoenix/opamp-server/domainerr"
	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

const capAcceptsRemoteConfig = uint64(protobufs.AgentCapabilities_AgentCapabilities_AcceptsRemoteConfig)

// Online reports whether an agent counts as connected: a WebSocket that is
// open, or an HTTP-polling agent heard from within the stale period.
func (s *Service) Online(a store.Agent) bool {
	if !a.Connected {
		return false
	}
	if a.Transport == "http" && time.Since(a.LastSeen) > s.staleAfter {
		return false
	}
	return true
}

// HostStatus computes one agent's status against its desired state.
func (s *Service) HostStatus(a store.Agent) api.HostStatus {
	return s.hostStatus(a, s.Desired(a.HostName, a.Labels))
}

func (s *Service) hostStatus(a store.Agent, d Desired) api.HostStatus {
	hs := api.HostStatus{
		Health: ViewHealth(a.Health),
		Host:   a.HostName, AgentUID: a.InstanceUID, Deployment: d.Deployment, Version: d.Version, Experiment: d.Experiment,
		Connected: s.Online(a), LastSeen: a.LastSeen, DesiredHash: d.Hash, ReportedHash: a.RemoteHash,
		RemoteStatus: a.RemoteStatus, PushedAt: a.PushedAt, AppliedAt: a.AppliedAt, EffectiveConfigSH: a.EffectiveConfigHash,
	}
	want := d.Hash
	if d.Deployment == "" && d.Hash == "" {
		if a.RemoteHash == "" || a.RemoteHash == EmptyConfigHash && a.RemoteStatus == store.RemoteApplied {
			hs.Status = api.StatusNone
			if !hs.Connected {
				hs.Status = api.StatusOffline
			} else if h := a.Health; h != nil && !h.Healthy {
				// The contrib supervisor stops its collector on an empty
				// config: say so rather than look healthy.
				hs.Detail = "no deployment; the agent reports its collector not running (" + h.Status + ")"
			}
			return hs
		}
		want = EmptyConfigHash
		hs.DesiredHash = want
		hs.Detail = "no deployment: the host goes back to the agent's minimal config"
	}
	if len(d.Conflicts) > 0 {
		hs.Detail = "also matched by " + strings.Join(d.Conflicts, ", ") + "; the oldest deployment wins"
	}
	switch {
	case !hs.Connected:
		hs.Status = api.StatusOffline
		if f, ok := a.FailedConfigs[want]; ok && want != "" {
			hs.Error = f.Error
		}
	case d.Err != "":
		hs.Status, hs.Error = api.StatusFailed, d.Err
	case a.Capabilities&capAcceptsRemoteConfig == 0:
		hs.Status, hs.Error = api.StatusFailed, "the agent does not accept remote config (AcceptsRemoteConfig capability not set)"
	case a.FailedConfigs[want] != (store.FailedConfig{}):
		hs.Status, hs.Error = api.StatusFailed, a.FailedConfigs[want].Error
		if hs.Error == "" {
			hs.Error = "the agent reported FAILED without a message"
		}
	case a.RemoteHash == want && a.RemoteStatus == store.RemoteApplied:
		hs.Status = api.StatusApplied
		qualifyByHealth(&hs, a.Health)
	case a.RemoteHash == want && a.RemoteStatus == store.RemoteApplying:
		hs.Status = api.StatusApplying
	case a.RemoteHash == want && a.RemoteStatus == store.RemoteFailed:
		hs.Status, hs.Error = api.StatusFailed, a.RemoteError
	default:
		hs.Status = api.StatusPending
		if a.PushedHash == want && !a.PushedAt.IsZero() {
			hs.Detail = "config sent, waiting for the agent"
		} else {
			hs.Detail = "config not sent yet"
		}
	}
	return hs
}

// LatestPerHost keeps one agent per host name: a connected one before any
// that is not (an old instance uid, marked offline, never shadows the live
// agent), then the most recently seen. The fleet marks idle polling agents
// disconnected, so a stale one does not stay "connected" here.
func LatestPerHost(agents []store.Agent) map[string]store.Agent {
	m := map[string]store.Agent{}
	for _, a := range agents {
		if a.HostName == "" {
			continue
		}
		cur, ok := m[a.HostName]
		switch {
		case !ok, a.Connected && !cur.Connected:
			m[a.HostName] = a
		case a.Connected == cur.Connected && a.LastSeen.After(cur.LastSeen):
			m[a.HostName] = a
		}
	}
	return m
}

// Status computes a deployment's hosts and their aggregate.
func (s *Service) Status(d store.Deployment, agents []store.Agent, withHosts bool) api.DeploymentStatus {
	st := api.DeploymentStatus{Counts: map[string]int{}}
	hosts := LatestPerHost(agents)
	deps := s.Snapshot()
	seen := map[string]bool{}
	var list []api.HostStatus
	for host, a := range hosts {
		chosen, _ := Assign(deps, host, a.Labels)
		if chosen == nil || chosen.Name != d.Name {
			continue
		}
		seen[host] = true
		list = append(list, s.HostStatus(a))
	}
	for _, h := range d.Current.Spec.Target.Hosts {
		if !seen[h] {
			seen[h] = true
			list = append(list, api.HostStatus{Host: h, Deployment: d.Name, Version: d.Version, Status: api.StatusOffline, Detail: "no agent has reported this host name yet"})
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Host < list[j].Host })
	for i, h := range list {
		if h.Version != d.Version && h.Connected && (h.Status == api.StatusApplied || h.Status == api.StatusNone) {
			// The rollout layer holds it on an earlier version: the
			// deployment's version is not applied there yet.
			list[i].Status = api.StatusPending
			list[i].Detail = fmt.Sprintf("runs version %d until the rollout of version %d reaches it (GET /api/v1/deployments/%s/rollout)", h.Version, d.Version, d.Name)
		}
		st.Counts[list[i].Status]++
	}
	st.Total = len(list)
	switch {
	case st.Total == 0:
		st.Status, st.Detail = api.StatusPending, "no host matches the target yet"
	case st.Counts[api.StatusFailed] > 0:
		st.Status = api.StatusFailed
		st.Detail = "see each failed host's error (phoenix-agent keeps running its last working config there); the other hosts are unaffected"
	case st.Counts[api.StatusApplying] > 0:
		st.Status = api.StatusApplying
	case st.Counts[api.StatusPending] > 0:
		st.Status = api.StatusPending
	case st.Counts[api.StatusOffline] > 0:
		st.Status = api.StatusOffline
	case st.Counts[api.StatusDegraded] > 0:
		st.Status = api.StatusDegraded
		st.Detail = "the config is applied, but some hosts report exports or receivers failing (see each host's error)"
	default:
		st.Status = api.StatusApplied
	}
	st.Final = st.IsFinal()
	if withHosts {
		st.Hosts = list
	}
	return st
}

// StatusByName reads a deployment and computes its status.
func (s *Service) StatusByName(ctx context.Context, name string, withHosts bool) (store.Deployment, api.DeploymentStatus, error) {
	d, err := s.Get(ctx, name)
	if err != nil {
		return d, api.DeploymentStatus{}, err
	}
	agents, err := s.store.ListAgentRecords(ctx) // a status needs no effective configs
	if err != nil {
		return d, api.DeploymentStatus{}, err
	}
	return d, s.Status(d, agents, withHosts), nil
}

// HostAgent finds the agent currently reporting a host name.
func (s *Service) HostAgent(ctx context.Context, host string) (store.Agent, error) {
	agents, err := s.store.ListAgents(ctx)
	if err != nil {
		return store.Agent{}, err
	}
	a, ok := LatestPerHost(agents)[host]
	if !ok {
		return a, domainerr.NotFoundf("no agent has reported host %q; GET /api/v1/hosts lists the known hosts", host)
	}
	return a, nil
}
