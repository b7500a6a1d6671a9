package deployment

import (
	"strings"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/api"
	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// These tests pin what a host's and a deployment's status say, the
// promises of status.go and health.go: the console and `phoenix status`
// show them as they are.

const wantHash = "abc123"

func liveAgent() store.Agent {
	return store.Agent{InstanceUID: "u1", HostName: "web-1", Connected: true, Transport: "websocket",
		Capabilities: capAcceptsRemoteConfig, LastSeen: time.Now()}
}

func deployed() Desired { return Desired{Deployment: "fleet", Version: 2, Hash: wantHash} }

func TestOnline(t *testing.T) {
	s := New(nil, time.Minute)
	now := time.Now()
	cases := []struct {
		name string
		a    store.Agent
		want bool
	}{
		{"disconnected websocket", store.Agent{Transport: "websocket", LastSeen: now}, false},
		{"open websocket, silent for an hour", store.Agent{Connected: true, Transport: "websocket", LastSeen: now.Add(-time.Hour)}, true},
		{"http polling, heard just now", store.Agent{Connected: true, Transport: "http", LastSeen: now}, true},
		{"http polling, silent past the stale period", store.Agent{Connected: true, Transport: "http", LastSeen: now.Add(-2 * time.Minute)}, false},
	}
	for _, c := range cases {
		if got := s.Online(c.a); got != c.want {
			t.Errorf("%s: Online = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestHostStatusAgainstDesired(t *testing.T) {
	s := New(nil, time.Minute)
	cases := []struct {
		name             string
		agent            func(a *store.Agent)
		d                Desired
		status           string
		err, detail      string // substrings; "" = must be empty
		desiredHash      string
		checkDesiredHash bool
	}{
		{name: "applied", d: deployed(), status: api.StatusApplied,
			agent: func(a *store.Agent) { a.RemoteHash, a.RemoteStatus = wantHash, store.RemoteApplied }},
		{name: "applying", d: deployed(), status: api.StatusApplying,
			agent: func(a *store.Agent) { a.RemoteHash, a.RemoteStatus = wantHash, store.RemoteApplying }},
		{name: "the agent reports FAILED for the desired hash", d: deployed(), status: api.StatusFailed, err: "bad exporter",
			agent: func(a *store.Agent) {
				a.RemoteHash, a.RemoteStatus, a.RemoteError = wantHash, store.RemoteFailed, "bad exporter"
			}},
		{name: "an older config applied, the new one sent", d: deployed(), status: api.StatusPending, detail: "config sent, waiting for the agent",
			agent: func(a *store.Agent) {
				a.RemoteHash, a.RemoteStatus = "old", store.RemoteApplied
				a.PushedHash, a.PushedAt = wantHash, time.Now()
			}},
		{name: "sent hash recorded without a time", d: deployed(), status: api.StatusPending, detail: "config not sent yet",
			agent: func(a *store.Agent) { a.PushedHash = wantHash }},
		{name: "another hash sent", d: deployed(), status: api.StatusPending, detail: "config not sent yet",
			agent: func(a *store.Agent) { a.PushedHash, a.PushedAt = "other", time.Now() }},
		{name: "the desired hash is in the failed configs", d: deployed(), status: api.StatusFailed, err: "it broke",
			agent: func(a *store.Agent) {
				a.RemoteHash, a.RemoteStatus = "old", store.RemoteApplied
				a.FailedConfigs = map[string]store.FailedConfig{wantHash: {Error: "it broke", At: time.Now()}}
			}},
		{name: "failed without a message", d: deployed(), status: api.StatusFailed, err: "reported FAILED without a message",
			agent: func(a *store.Agent) {
				a.FailedConfigs = map[string]store.FailedConfig{wantHash: {At: time.Now()}}
			}},
		{name: "another hash failed", d: deployed(), status: api.StatusApplied,
			agent: func(a *store.Agent) {
				a.RemoteHash, a.RemoteStatus = wantHash, store.RemoteApplied
				a.FailedConfigs = map[string]store.FailedConfig{"other": {Error: "old failure"}}
			}},
		{name: "render error", d: Desired{Deployment: "fleet", Version: 2, Err: "does not render"}, status: api.StatusFailed, err: "does not render",
			agent: func(a *store.Agent) {}},
		{name: "no remote-config capability", d: deployed(), status: api.StatusFailed, err: "AcceptsRemoteConfig",
			agent: func(a *store.Agent) { a.Capabilities = 0; a.RemoteHash, a.RemoteStatus = wantHash, store.RemoteApplied }},
		{name: "other capabilities only", d: deployed(), status: api.StatusFailed, err: "AcceptsRemoteConfig",
			agent: func(a *store.Agent) { a.Capabilities = ^capAcceptsRemoteConfig }},
		{name: "offline keeps the failed config's error", d: deployed(), status: api.StatusOffline, err: "it broke",
			agent: func(a *store.Agent) {
				a.Connected = false
				a.FailedConfigs = map[string]store.FailedConfig{wantHash: {Error: "it broke"}}
			}},
		{name: "offline with the desired hash applied", d: deployed(), status: api.StatusOffline,
			agent: func(a *store.Agent) {
				a.Connected = false
				a.RemoteHash, a.RemoteStatus = wantHash, store.RemoteApplied
			}},
		{name: "offline beats a render error", d: Desired{Deployment: "fleet", Err: "does not render"}, status: api.StatusOffline,
			agent: func(a *store.Agent) { a.Connected = false }},
		{name: "overlap", d: Desired{Deployment: "fleet", Hash: wantHash, Conflicts: []string{"b", "c"}}, status: api.StatusApplied,
			detail: "also matched by b, c; the oldest deployment wins",
			agent:  func(a *store.Agent) { a.RemoteHash, a.RemoteStatus = wantHash, store.RemoteApplied }},

		// No deployment.
		{name: "no deployment, never configured", d: Desired{}, status: api.StatusNone,
			agent: func(a *store.Agent) {}},
		{name: "no deployment, offline", d: Desired{}, status: api.StatusOffline,
			agent: func(a *store.Agent) { a.Connected = false }},
		{name: "no deployment, collector stopped", d: Desired{}, status: api.StatusNone, detail: "collector not running (stopped)",
			agent: func(a *store.Agent) { a.Health = &store.Health{Healthy: false, Status: "stopped"} }},
		{name: "no deployment, collector healthy", d: Desired{}, status: api.StatusNone,
			agent: func(a *store.Agent) { a.Health = &store.Health{Healthy: true, Status: "running"} }},
		{name: "no deployment, empty config applied", d: Desired{}, status: api.StatusNone,
			agent: func(a *store.Agent) { a.RemoteHash, a.RemoteStatus = EmptyConfigHash, store.RemoteApplied }},
		{name: "deployment deleted: the host goes back to the empty config", d: Desired{}, status: api.StatusPending,
			detail: "config not sent yet", desiredHash: EmptyConfigHash, checkDesiredHash: true,
			agent: func(a *store.Agent) { a.RemoteHash, a.RemoteStatus = "old", store.RemoteApplied }},
		{name: "deployment deleted, empty config applying", d: Desired{}, status: api.StatusApplying,
			desiredHash: EmptyConfigHash, checkDesiredHash: true, detail: "no deployment: the host goes back",
			agent: func(a *store.Agent) { a.RemoteHash, a.RemoteStatus = EmptyConfigHash, store.RemoteApplying }},
		{name: "deployment deleted, the empty config failed", d: Desired{}, status: api.StatusFailed, err: "no pipelines",
			detail: "no deployment: the host goes back", desiredHash: EmptyConfigHash, checkDesiredHash: true,
			agent: func(a *store.Agent) {
				a.RemoteHash, a.RemoteStatus, a.RemoteError = EmptyConfigHash, store.RemoteFailed, "no pipelines"
			}},
		{name: "a deployment that does not render is not 'no deployment'", d: Desired{Deployment: "fleet", Err: "bad"}, status: api.StatusFailed, err: "bad",
			desiredHash: "", checkDesiredHash: true,
			agent: func(a *store.Agent) {}},
	}
	for _, c := range cases {
		a := liveAgent()
		c.agent(&a)
		hs := s.hostStatus(a, c.d)
		if hs.Status != c.status {
			t.Errorf("%s: status %q, want %q (detail %q, error %q)", c.name, hs.Status, c.status, hs.Detail, hs.Error)
		}
		checkText(t, c.name+": error", hs.Error, c.err)
		checkText(t, c.name+": detail", hs.Detail, c.detail)
		if c.checkDesiredHash && hs.DesiredHash != c.desiredHash {
			t.Errorf("%s: desired hash %q, want %q", c.name, hs.DesiredHash, c.desiredHash)
		}
		if hs.Host != a.HostName || hs.Deployment != c.d.Deployment || hs.Version != c.d.Version || hs.ReportedHash != a.RemoteHash {
			t.Errorf("%s: identity fields %+v", c.name, hs)
		}
	}
}

func checkText(t *testing.T, what, got, want string) {
	t.Helper()
	if want == "" && got != "" {
		t.Errorf("%s = %q, want none", what, got)
	}
	if want != "" && !strings.Contains(got, want) {
		t.Errorf("%s = %q, want it to say %q", what, got, want)
	}
}

// An applied config is only as good as the collector running it.
func TestAppliedQualifiedByHealth(t *testing.T) {
	s := New(nil, time.Minute)
	t0 := time.Now()
	cases := []struct {
		name        string
		h           *store.Health
		status      string
		err, detail string
	}{
		{"no health reported", nil, api.StatusApplied, "", ""},
		{"healthy", &store.Health{Healthy: true, Status: "running"}, api.StatusApplied, "", ""},
		{"starting", &store.Health{Healthy: false, Status: "starting (attempt 2)"}, api.StatusApplying, "", "the collector is starting"},
		{"crash-looping", &store.Health{Healthy: false, Status: "crashed", LastError: "exit status 1"}, api.StatusFailed,
			"the agent reports its collector unhealthy (crashed): exit status 1", ""},
		{"unhealthy, nothing said", &store.Health{Healthy: false}, api.StatusFailed, "the agent reports its collector unhealthy", ""},
		{"a processor fails: not an exporter or receiver", &store.Health{Healthy: true, Components: map[string]store.ComponentHealth{
			"pipeline:metrics > processor:topk": {Status: "StatusRecoverableError", LastError: "x", At: t0}}}, api.StatusApplied, "", ""},
		{"an exporter fails", &store.Health{Healthy: true, Components: map[string]store.ComponentHealth{
			"pipeline:metrics > exporter:otlphttp": {Status: "StatusRecoverableError", LastError: "connection refused", At: t0}}},
			api.StatusDegraded, "connection refused", "the config is applied and the collector runs, but pipeline:metrics > exporter:otlphttp is failing"},
		{"a receiver fails without a message", &store.Health{Healthy: true, Components: map[string]store.ComponentHealth{
			"receiver:hostmetrics": {Status: "StatusPermanentError", At: t0}}},
			api.StatusDegraded, "receiver:hostmetrics reports StatusPermanentError", "receiver:hostmetrics is failing"},
		{"the most recent failure is shown", &store.Health{Healthy: true, Components: map[string]store.ComponentHealth{
			"pipeline:metrics > exporter:a":  {LastError: "older", At: t0},
			"pipeline:metrics > exporter:b":  {LastError: "newest", At: t0.Add(time.Second)},
			"pipeline:metrics > exporter:c":  {LastError: "oldest", At: t0.Add(-time.Second)},
			"pipeline:metrics > processor:p": {LastError: "newer but a processor", At: t0.Add(time.Hour)},
		}}, api.StatusDegraded, "newest", "exporter:b is failing"},
		{"a name that only contains 'exporter:' is not an exporter", &store.Health{Healthy: true, Components: map[string]store.ComponentHealth{
			"exporter:x > processor:y": {LastError: "x", At: t0}}}, api.StatusApplied, "", ""},
	}
	for _, c := range cases {
		a := liveAgent()
		a.RemoteHash, a.RemoteStatus, a.Health = wantHash, store.RemoteApplied, c.h
		hs := s.hostStatus(a, deployed())
		if hs.Status != c.status {
			t.Errorf("%s: status %q, want %q", c.name, hs.Status, c.status)
		}
		if c.err != "" && hs.Error != c.err && !strings.Contains(hs.Error, c.err) {
			t.Errorf("%s: error %q, want %q", c.name, hs.Error, c.err)
		}
		if c.name == "crash-looping" && hs.Error != c.err {
			t.Errorf("%s: error %q, want exactly %q", c.name, hs.Error, c.err)
		}
		checkText(t, c.name+": detail", hs.Detail, c.detail)
		if c.err == "" && hs.Error != "" {
			t.Errorf("%s: error %q, want none", c.name, hs.Error)
		}
	}
}

func TestViewHealth(t *testing.T) {
	if ViewHealth(nil) != nil {
		t.Fatal("no health reported must stay nil in the API")
	}
	at := time.Unix(100, 0)
	v := ViewHealth(&store.Health{Healthy: true, Status: "running", LastError: "e", StartTime: at,
		Components: map[string]store.ComponentHealth{"exporter:x": {Status: "s", LastError: "l", At: at}}})
	if !v.Healthy || v.Status != "running" || v.LastError != "e" || !v.StartTime.Equal(at) {
		t.Fatalf("health view %+v", v)
	}
	if c := v.Components["exporter:x"]; len(v.Components) != 1 || c.Status != "s" || c.LastError != "l" || !c.At.Equal(at) {
		t.Fatalf("components %+v", v.Components)
	}
	if v := ViewHealth(&store.Health{Healthy: true}); v.Components != nil {
		t.Fatalf("no components must stay absent: %+v", v.Components)
	}
}

func TestLatestPerHost(t *testing.T) {
	t0 := time.Now()
	got := LatestPerHost([]store.Agent{
		{InstanceUID: "live-old", HostName: "a", Connected: true, LastSeen: t0.Add(-time.Hour)},
		{InstanceUID: "dead-new", HostName: "a", Connected: false, LastSeen: t0},
		{InstanceUID: "b-old", HostName: "b", Connected: true, LastSeen: t0.Add(-time.Minute)},
		{InstanceUID: "b-new", HostName: "b", Connected: true, LastSeen: t0},
		{InstanceUID: "b-older", HostName: "b", Connected: true, LastSeen: t0.Add(-time.Hour)},
		{InstanceUID: "c-dead-new", HostName: "c", LastSeen: t0},
		{InstanceUID: "c-live", HostName: "c", Connected: true, LastSeen: t0.Add(-time.Hour)},
		{InstanceUID: "c-dead-newer", HostName: "c", LastSeen: t0.Add(time.Hour)},
		{InstanceUID: "d-1", HostName: "d", LastSeen: t0},
		{InstanceUID: "d-2", HostName: "d", LastSeen: t0.Add(time.Minute)},
		{InstanceUID: "pending", HostName: "", PendingHost: "a", Connected: true, LastSeen: t0.Add(time.Hour)},
	})
	want := map[string]string{"a": "live-old", "b": "b-new", "c": "c-live", "d": "d-2"}
	if len(got) != len(want) {
		t.Fatalf("hosts %v, want %v", got, want)
	}
	for h, uid := range want {
		if got[h].InstanceUID != uid {
			t.Errorf("host %s: agent %q, want %q", h, got[h].InstanceUID, uid)
		}
	}
}

func TestAssignOldestWins(t *testing.T) {
	t0 := time.Now()
	dep := func(name string, at time.Time, sel map[string]string) store.Deployment {
		return store.Deployment{Name: name, CreatedAt: at, Current: store.DeploymentVersion{Spec: store.DeploymentSpec{Target: store.Target{Selector: sel}}}}
	}
	all := map[string]string{"env": "prod"}
	deps := []store.Deployment{
		dep("zeta", t0.Add(time.Minute), all),
		dep("beta", t0, all),
		dep("other", t0.Add(-time.Hour), map[string]string{"env": "dev"}),
		dep("alpha", t0, all),
		dep("gamma", t0.Add(2*time.Minute), all),
	}
	d, conflicts := Assign(deps, "web-1", all)
	if d == nil || d.Name != "alpha" {
		t.Fatalf("chosen %v, want alpha (oldest, then first by name)", d)
	}
	if strings.Join(conflicts, ",") != "beta,gamma,zeta" {
		t.Fatalf("conflicts %v, want beta,gamma,zeta (sorted, the unmatched one left out)", conflicts)
	}
	if d, c := Assign(deps, "web-1", map[string]string{"env": "qa"}); d != nil || c != nil {
		t.Fatalf("no match: %v %v", d, c)
	}
	if d, c := Assign(deps[:1], "web-1", all); d == nil || d.Name != "zeta" || len(c) != 0 {
		t.Fatalf("one match: %v %v", d, c)
	}
}

func statusService(deps ...store.Deployment) *Service {
	s := New(nil, time.Minute)
	s.deps = deps
	return s
}

func hostsDep(name string, version int, hosts ...string) store.Deployment {
	return store.Deployment{Name: name, Version: version, Current: store.DeploymentVersion{Version: version,
		Spec: store.DeploymentSpec{Template: "process-topk-v1", Destination: store.Destination{Type: "debug"},
			Params: map[string]any{"k": 5}, Target: store.Target{Hosts: hosts}}}}
}

// A deployment's status is its worst host's, in the order failed,
// applying, pending, offline, degraded, applied.
func TestDeploymentStatusAggregate(t *testing.T) {
	hashOf := func(s *Service, host string) string { return s.Desired(host, nil).Hash }
	type host struct {
		name  string
		state string // applied, applying, failed, pending, offline, degraded
	}
	agentIn := func(s *Service, h host) store.Agent {
		a := liveAgent()
		a.InstanceUID, a.HostName = "uid-"+h.name, h.name
		want := hashOf(s, h.name)
		switch h.state {
		case "applied":
			a.RemoteHash, a.RemoteStatus = want, store.RemoteApplied
		case "applying":
			a.RemoteHash, a.RemoteStatus = want, store.RemoteApplying
		case "failed":
			a.RemoteHash, a.RemoteStatus, a.RemoteError = want, store.RemoteFailed, "x"
		case "pending":
		case "offline":
			a.Connected = false
		case "degraded":
			a.RemoteHash, a.RemoteStatus = want, store.RemoteApplied
			a.Health = &store.Health{Healthy: true, Components: map[string]store.ComponentHealth{"exporter:x": {LastError: "refused"}}}
		}
		return a
	}
	cases := []struct {
		states []string
		want   string
	}{
		{[]string{"applied", "applied"}, api.StatusApplied},
		{[]string{"applied", "degraded"}, api.StatusDegraded},
		{[]string{"degraded", "offline"}, api.StatusOffline},
		{[]string{"offline", "pending"}, api.StatusPending},
		{[]string{"pending", "applying"}, api.StatusApplying},
		{[]string{"applying", "failed", "applied"}, api.StatusFailed},
	}
	for _, c := range cases {
		var names []string
		for i := range c.states {
			names = append(names, string(rune('a'+i)))
		}
		d := hostsDep("fleet", 1, names...)
		s := statusService(d)
		var agents []store.Agent
		for i, st := range c.states {
			agents = append(agents, agentIn(s, host{names[i], st}))
		}
		got := s.Status(d, agents, true)
		if got.Status != c.want {
			t.Errorf("hosts %v: status %q, want %q (counts %v)", c.states, got.Status, c.want, got.Counts)
		}
		if got.Total != len(c.states) || len(got.Hosts) != len(c.states) {
			t.Errorf("hosts %v: total %d, %d listed", c.states, got.Total, len(got.Hosts))
		}
		n := 0
		for _, v := range got.Counts {
			n += v
		}
		if n != len(c.states) {
			t.Errorf("hosts %v: counts %v do not add up", c.states, got.Counts)
		}
		if got.Status == api.StatusFailed && !strings.Contains(got.Detail, "failed host") {
			t.Errorf("failed without the detail: %q", got.Detail)
		}
		if got.Status == api.StatusDegraded && !strings.Contains(got.Detail, "some hosts report exports or receivers failing") {
			t.Errorf("degraded without the detail: %q", got.Detail)
		}
		if got.Final != got.IsFinal() {
			t.Errorf("Final %v, IsFinal %v", got.Final, got.IsFinal())
		}
	}
}

func TestDeploymentStatusHosts(t *testing.T) {
	mine := hostsDep("fleet", 3, "c", "a", "ghost")
	theirs := hostsDep("theirs", 1, "x")
	s := statusService(mine, theirs)
	want := s.Desired("a", nil).Hash
	agents := []store.Agent{
		{InstanceUID: "1", HostName: "c", Connected: true, Capabilities: capAcceptsRemoteConfig, RemoteHash: want, RemoteStatus: store.RemoteApplied},
		{InstanceUID: "2", HostName: "a", Connected: true, Capabilities: capAcceptsRemoteConfig, RemoteHash: want, RemoteStatus: store.RemoteApplied},
		{InstanceUID: "3", HostName: "x", Connected: true, Capabilities: capAcceptsRemoteConfig},
		{InstanceUID: "4", HostName: "unassigned", Connected: true, Capabilities: capAcceptsRemoteConfig},
	}
	st := s.Status(mine, agents, true)
	var names []string
	for _, h := range st.Hosts {
		names = append(names, h.Host+"="+h.Status)
	}
	if strings.Join(names, " ") != "a=applied c=applied ghost=offline" {
		t.Fatalf("hosts %v, want a, c applied and ghost offline, sorted, without other deployments' hosts", names)
	}
	if g := st.Hosts[2]; g.Deployment != "fleet" || g.Version != 3 || !strings.Contains(g.Detail, "no agent has reported this host name yet") {
		t.Fatalf("a listed host no agent reported: %+v", g)
	}
	if st.Total != 3 || st.Counts[api.StatusApplied] != 2 || st.Counts[api.StatusOffline] != 1 || st.Status != api.StatusOffline {
		t.Fatalf("aggregate %+v", st)
	}
	if st := s.Status(mine, agents, false); st.Hosts != nil || st.Total != 3 {
		t.Fatalf("without hosts: %+v", st)
	}
	// A host listed twice in the target and reported once is one host.
	dup := hostsDep("fleet", 3, "a", "a")
	if st := statusService(dup).Status(dup, agents[1:2], true); st.Total != 1 {
		t.Fatalf("host counted %d times", st.Total)
	}
}

func TestDeploymentStatusNoHostYet(t *testing.T) {
	d := store.Deployment{Name: "fleet", Version: 1, Current: store.DeploymentVersion{Spec: store.DeploymentSpec{
		Template: "process-topk-v1", Destination: store.Destination{Type: "debug"}, Target: store.Target{Selector: map[string]string{"env": "prod"}}}}}
	st := statusService(d).Status(d, nil, true)
	if st.Status != api.StatusPending || st.Total != 0 || !strings.Contains(st.Detail, "no host matches the target yet") {
		t.Fatalf("no host: %+v", st)
	}
}

// A rollout layer that holds a host on an earlier version makes the host
// pending for the new version, even though it runs its config fine.
func TestDeploymentStatusHeldByRollout(t *testing.T) {
	d := hostsDep("fleet", 2, "a", "b", "c", "d")
	s := statusService(d)
	s.SetLayers(LayerFunc(func(host string, _ map[string]string, out Desired) Desired {
		if host != "a" {
			out.Version = 1 // held back
		}
		return out
	}))
	want := s.Desired("a", nil).Hash
	agents := []store.Agent{
		{InstanceUID: "1", HostName: "a", Connected: true, Capabilities: capAcceptsRemoteConfig, RemoteHash: want, RemoteStatus: store.RemoteApplied},
		{InstanceUID: "2", HostName: "b", Connected: true, Capabilities: capAcceptsRemoteConfig, RemoteHash: want, RemoteStatus: store.RemoteApplied},
		{InstanceUID: "3", HostName: "c", Connected: false, Capabilities: capAcceptsRemoteConfig, RemoteHash: want, RemoteStatus: store.RemoteApplied},
		{InstanceUID: "4", HostName: "d", Connected: true, Capabilities: capAcceptsRemoteConfig, RemoteHash: want, RemoteStatus: store.RemoteApplying},
	}
	st := s.Status(d, agents, true)
	got := map[string]api.HostStatus{}
	for _, h := range st.Hosts {
		got[h.Host] = h
	}
	if got["a"].Status != api.StatusApplied {
		t.Errorf("host on the new version: %q", got["a"].Status)
	}
	if b := got["b"]; b.Status != api.StatusPending || !strings.Contains(b.Detail, "runs version 1 until the rollout of version 2 reaches it") ||
		!strings.Contains(b.Detail, "/api/v1/deployments/fleet/rollout") {
		t.Errorf("held host: %+v", b)
	}
	if got["c"].Status != api.StatusOffline || got["d"].Status != api.StatusApplying {
		t.Errorf("an offline or applying held host keeps its status: c=%q d=%q", got["c"].Status, got["d"].Status)
	}
	if st.Counts[api.StatusPending] != 1 || st.Counts[api.StatusApplied] != 1 {
		t.Errorf("counts %v", st.Counts)
	}
}

// The layers run in order after the deployment, each seeing the last one's
// output.
func TestDesiredRunsLayersInOrder(t *testing.T) {
	d := hostsDep("fleet", 1, "a")
	s := statusService(d)
	var order []string
	s.SetLayers(
		LayerFunc(func(_ string, _ map[string]string, out Desired) Desired {
			order = append(order, "experiment saw "+out.Deployment)
			out.Experiment = "exp"
			return out
		}),
		LayerFunc(func(_ string, _ map[string]string, out Desired) Desired {
			order = append(order, "loadsim saw "+out.Experiment)
			return out
		}))
	out := s.Desired("a", nil)
	if strings.Join(order, "; ") != "experiment saw fleet; loadsim saw exp" || out.Experiment != "exp" {
		t.Fatalf("layers: %v, out %+v", order, out)
	}
	if out.Spec == nil || out.Spec.Template != "process-topk-v1" || out.Hash != SHA256Hex(out.YAML) || len(out.YAML) == 0 {
		t.Fatalf("deployment layer: %+v", out)
	}
	if out := s.Desired("nobody", nil); out.Deployment != "" || out.Hash != "" || out.Spec != nil || out.Experiment != "exp" {
		t.Fatalf("a host without a deployment still goes through the layers: %+v", out)
	}
}

func TestDesiredReportsRenderError(t *testing.T) {
	d := hostsDep("fleet", 4, "a")
	d.Current.Spec.Params = map[string]any{"k": -1}
	out := statusService(d).Desired("a", nil)
	if out.Hash != "" || len(out.YAML) != 0 || !strings.Contains(out.Err, `deployment "fleet" version 4 does not render for host "a"`) {
		t.Fatalf("a version that does not render: %+v", out)
	}
	if out.Deployment != "fleet" || out.Version != 4 {
		t.Fatalf("the deployment is still named: %+v", out)
	}
}
