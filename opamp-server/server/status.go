package server

import (
	"context"
	"sort"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// Host statuses.
const (
	StatusPending  = "pending"
	StatusApplying = "applying"
	StatusApplied  = "applied"
	StatusFailed   = "failed"
	StatusOffline  = "offline"
	StatusNone     = "none" // the host has no deployment and runs no remote config
)

// HostStatus is one host's state against its desired config.
type HostStatus struct {
	Host              string    `json:"host"`
	AgentUID          string    `json:"agent_uid,omitempty"`
	Deployment        string    `json:"deployment,omitempty"`
	Version           int       `json:"version,omitempty"`
	Status            string    `json:"status"`
	Error             string    `json:"error,omitempty"`
	Detail            string    `json:"detail,omitempty"`
	Connected         bool      `json:"connected"`
	LastSeen          time.Time `json:"last_seen,omitzero"`
	DesiredHash       string    `json:"desired_hash,omitempty"`
	ReportedHash      string    `json:"reported_hash,omitempty"`
	RemoteStatus      string    `json:"remote_config_status,omitempty"`
	PushedAt          time.Time `json:"pushed_at,omitzero"`
	AppliedAt         time.Time `json:"applied_at,omitzero"`
	EffectiveConfigSH string    `json:"effective_config_hash,omitempty"`
}

// DeploymentStatus aggregates a deployment's hosts.
type DeploymentStatus struct {
	Status string         `json:"status"`
	Detail string         `json:"detail,omitempty"`
	Total  int            `json:"total"`
	Counts map[string]int `json:"counts"`
	Hosts  []HostStatus   `json:"hosts,omitempty"`
}

// Final reports whether a deployment's status will not change by itself.
func (d DeploymentStatus) Final() bool {
	return d.Status == StatusApplied || d.Status == StatusFailed
}

func (s *Server) online(a store.Agent) bool {
	if !a.Connected {
		return false
	}
	if a.Transport == "http" && time.Since(a.LastSeen) > s.cfg.AgentStaleAfter {
		return false
	}
	return true
}

// hostStatus computes one agent's status against its desired state.
func (s *Server) hostStatus(a store.Agent) HostStatus {
	d := s.fleet.desiredFor(a.HostName, a.Labels)
	hs := HostStatus{
		Host: a.HostName, AgentUID: a.InstanceUID, Deployment: d.Deployment, Version: d.Version,
		Connected: s.online(a), LastSeen: a.LastSeen, DesiredHash: d.Hash, ReportedHash: a.RemoteHash,
		RemoteStatus: a.RemoteStatus, PushedAt: a.PushedAt, AppliedAt: a.AppliedAt, EffectiveConfigSH: a.EffectiveConfigHash,
	}
	want := d.Hash
	if d.Deployment == "" && d.Hash == "" {
		if a.RemoteHash == "" || a.RemoteHash == emptyConfigHash && a.RemoteStatus == store.RemoteApplied {
			hs.Status = StatusNone
			if !hs.Connected {
				hs.Status = StatusOffline
			}
			return hs
		}
		want = emptyConfigHash
		hs.DesiredHash = want
		hs.Detail = "no deployment: the host goes back to the agent's minimal config"
	}
	if len(d.Conflicts) > 0 {
		hs.Detail = "also matched by " + joinComma(d.Conflicts) + "; the oldest deployment wins"
	}
	switch {
	case !hs.Connected:
		hs.Status = StatusOffline
		if f, ok := a.FailedConfigs[want]; ok && want != "" {
			hs.Error = f.Error
		}
	case d.Err != "":
		hs.Status, hs.Error = StatusFailed, d.Err
	case a.Capabilities&capAcceptsRemoteConfig == 0:
		hs.Status, hs.Error = StatusFailed, "the agent does not accept remote config (AcceptsRemoteConfig capability not set)"
	case a.FailedConfigs[want] != (store.FailedConfig{}):
		hs.Status, hs.Error = StatusFailed, a.FailedConfigs[want].Error
		if hs.Error == "" {
			hs.Error = "the agent reported FAILED without a message"
		}
	case a.RemoteHash == want && a.RemoteStatus == store.RemoteApplied:
		hs.Status = StatusApplied
	case a.RemoteHash == want && a.RemoteStatus == store.RemoteApplying:
		hs.Status = StatusApplying
	case a.RemoteHash == want && a.RemoteStatus == store.RemoteFailed:
		hs.Status, hs.Error = StatusFailed, a.RemoteError
	default:
		hs.Status = StatusPending
		if a.PushedHash == want && !a.PushedAt.IsZero() {
			hs.Detail = "config sent, waiting for the agent"
		} else {
			hs.Detail = "config not sent yet"
		}
	}
	return hs
}

func joinComma(xs []string) string {
	out := ""
	for i, x := range xs {
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out
}

// latestPerHost keeps the most recently seen agent of each host name.
func latestPerHost(agents []store.Agent) map[string]store.Agent {
	m := map[string]store.Agent{}
	for _, a := range agents {
		if a.HostName == "" {
			continue
		}
		if cur, ok := m[a.HostName]; !ok || a.LastSeen.After(cur.LastSeen) || (!cur.Connected && a.Connected) {
			m[a.HostName] = a
		}
	}
	return m
}

// deploymentStatus computes a deployment's hosts and their aggregate.
func (s *Server) deploymentStatus(d store.Deployment, agents []store.Agent, withHosts bool) DeploymentStatus {
	st := DeploymentStatus{Counts: map[string]int{}}
	hosts := latestPerHost(agents)
	deps := s.fleet.deploymentsSnapshot()
	seen := map[string]bool{}
	var list []HostStatus
	for host, a := range hosts {
		chosen, _ := assign(deps, host, a.Labels)
		if chosen == nil || chosen.Name != d.Name {
			continue
		}
		seen[host] = true
		list = append(list, s.hostStatus(a))
	}
	for _, h := range d.Current.Spec.Target.Hosts {
		if !seen[h] {
			seen[h] = true
			list = append(list, HostStatus{Host: h, Deployment: d.Name, Version: d.Version, Status: StatusOffline, Detail: "no agent has reported this host name yet"})
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Host < list[j].Host })
	for _, h := range list {
		st.Counts[h.Status]++
	}
	st.Total = len(list)
	switch {
	case st.Total == 0:
		st.Status, st.Detail = StatusPending, "no host matches the target yet"
	case st.Counts[StatusFailed] > 0:
		st.Status = StatusFailed
		st.Detail = "failed hosts keep running their last working config; the other hosts are unaffected"
	case st.Counts[StatusApplying] > 0:
		st.Status = StatusApplying
	case st.Counts[StatusPending] > 0:
		st.Status = StatusPending
	case st.Counts[StatusOffline] > 0:
		st.Status = StatusOffline
	default:
		st.Status = StatusApplied
	}
	if withHosts {
		st.Hosts = list
	}
	return st
}

func (s *Server) deploymentStatusByName(ctx context.Context, name string, withHosts bool) (store.Deployment, DeploymentStatus, error) {
	d, err := s.store.GetDeployment(ctx, name)
	if err != nil {
		return d, DeploymentStatus{}, err
	}
	agents, err := s.store.ListAgents(ctx)
	if err != nil {
		return d, DeploymentStatus{}, err
	}
	return d, s.deploymentStatus(d, agents, withHosts), nil
}
