package loadsim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open-telemetry/opamp-go/protobufs"
	"go.yaml.in/yaml/v3"

	"github.com/phoenix-otel/phoenix/agent"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
	"github.com/phoenix-otel/phoenix/opamp-server/store"
	"github.com/phoenix-otel/phoenix/pipelines"
)

// agents is an in-memory agent registry.
type agents struct {
	mu   sync.Mutex
	list []store.Agent
}

func (a *agents) ListAgents(context.Context) ([]store.Agent, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]store.Agent(nil), a.list...), nil
}

func (a *agents) set(uid string, f func(*store.Agent)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := range a.list {
		if a.list[i].InstanceUID == uid {
			f(&a.list[i])
		}
	}
}

// sender records the messages sent to agents; offline agents are refused
// with ErrNotConnected.
type sender struct {
	mu      sync.Mutex
	sent    []sent
	offline map[string]bool
}

type sent struct {
	uid string
	msg *protobufs.CustomMessage
}

func (s *sender) SendCustomMessage(_ context.Context, uid string, msg *protobufs.CustomMessage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.offline[uid] {
		return fmt.Errorf("agent %s: %w", uid, ErrNotConnected)
	}
	s.sent = append(s.sent, sent{uid, msg})
	return nil
}

func (s *sender) types() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, m := range s.sent {
		out = append(out, m.msg.Type)
	}
	return out
}

func (s *sender) last() sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent[len(s.sent)-1]
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	m       *Manager
	store   *MemStore
	agents  *agents
	sender  *sender
	clock   *clock
	changed []string
	mu      sync.Mutex
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{
		store: NewMemStore(),
		agents: &agents{list: []store.Agent{
			{InstanceUID: "uid-web-1", HostName: "web-1", Connected: true, LastSeen: time.Now()},
			{InstanceUID: "uid-db-1", HostName: "db-1", Connected: false, LastSeen: time.Now().Add(-time.Hour)},
		}},
		sender: &sender{offline: map[string]bool{}},
		clock:  &clock{t: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)},
	}
	f.m = New(Config{
		Store: f.store, Agents: f.agents, Sender: f.sender, Now: f.clock.now,
		DesiredChanged: func(_ context.Context, host string) {
			f.mu.Lock()
			f.changed = append(f.changed, host)
			f.mu.Unlock()
		},
	})
	return f
}

func (f *fixture) changedHosts() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.changed...)
}

func (f *fixture) job(t *testing.T, id string) Job {
	t.Helper()
	j, err := f.m.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func (f *fixture) agentSays(t *testing.T, uid string, st agent.LoadSimState) {
	t.Helper()
	body, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	if !f.m.HandleCustomMessage(context.Background(), uid, &protobufs.CustomMessage{Capability: Capability, Type: MsgStatus, Data: body}) {
		t.Fatal("status message not taken")
	}
}

func TestCreateRefusesBadRequestsNamingTheField(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	cases := []struct {
		name  string
		req   Request
		field string
		want  string
	}{
		{"no host", Request{Profile: "realistic"}, "target_host", "required"},
		{"no profile", Request{TargetHost: "web-1"}, "profile", "one of realistic"},
		{"unknown profile", Request{TargetHost: "web-1", Profile: "wobbly"}, "profile", `unknown profile "wobbly"`},
		{"bad mode", Request{TargetHost: "web-1", Profile: "realistic", Mode: "turbo"}, "mode", `"turbo" is not a mode`},
		{"count out of bounds", Request{TargetHost: "web-1", Profile: "realistic", ProcessCount: 5000}, "process_count", "50 to 200"},
		{"negative count", Request{TargetHost: "web-1", Profile: "realistic", ProcessCount: -1}, "process_count", ">= 0"},
		{"negative duration", Request{TargetHost: "web-1", Profile: "realistic", Duration: Duration(-time.Second)}, "duration", ">= 0"},
		{"churn out of bounds", Request{TargetHost: "web-1", Profile: "process-churn", ChurnRate: 5000}, "churn_rate", "1 to 1000"},
		{"custom without yaml", Request{TargetHost: "web-1", Profile: "custom", Mode: Process}, "profile_yaml", "required"},
		{"custom synthetic without path", Request{TargetHost: "web-1", Profile: "custom", ProfileYAML: "processes: []"}, "profile_path", "reads the profile from a file"},
		{"custom bad yaml", Request{TargetHost: "web-1", Profile: "custom", Mode: Process, ProfileYAML: "processes:\n  - name_template: x\n    count: 1\n    wobble: 3\n"}, "profile_yaml", "wobble"},
		{"yaml with builtin", Request{TargetHost: "web-1", Profile: "realistic", ProfileYAML: "processes: []"}, "profile_yaml", "only allowed with profile"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.m.Create(ctx, c.req)
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v (%T), want a FieldError", err, err)
			}
			if fe.Field != c.field || !strings.Contains(fe.Error(), c.want) {
				t.Fatalf("err = %q (field %q), want field %q and %q", fe, fe.Field, c.field, c.want)
			}
		})
	}
	if js, _ := f.store.ListJobs(ctx, false); len(js) != 0 {
		t.Fatalf("refused requests stored %d jobs", len(js))
	}
}

func TestCreateRefusesUnknownHostBusyHostAndOfflineProcessHost(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.m.Create(ctx, Request{TargetHost: "nope", Profile: "realistic"})
	var nf *NotFoundError
	if !errors.As(err, &nf) || !strings.Contains(err.Error(), "known hosts: db-1, web-1") {
		t.Fatalf("unknown host: %v", err)
	}
	_, err = f.m.Create(ctx, Request{TargetHost: "db-1", Profile: "realistic", Mode: Process})
	var ce *ConflictError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "offline") {
		t.Fatalf("offline process host: %v", err)
	}
	j, err := f.m.Create(ctx, Request{TargetHost: "web-1", Profile: "realistic"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.m.Create(ctx, Request{TargetHost: "web-1", Profile: "high-cardinality", Mode: Process})
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), j.ID) {
		t.Fatalf("busy host: %v, want a conflict naming %s", err, j.ID)
	}
	// A synthetic job may wait for an offline host: it gets the config on
	// reconnect.
	if _, err := f.m.Create(ctx, Request{TargetHost: "db-1", Profile: "realistic"}); err != nil {
		t.Fatalf("synthetic on an offline host: %v", err)
	}
}

func baseConfig(t *testing.T) pipelines.Rendered {
	t.Helper()
	r, err := pipelines.Render(pipelines.Spec{Template: pipelines.TemplateTopK, Destination: pipelines.Destination{Type: pipelines.DestDebug}},
		pipelines.Context{HostName: "web-1", DeploymentID: "web", DeploymentVersion: 1})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func receiversOf(t *testing.T, r *pipelines.Rendered) (map[string]any, map[string]any) {
	t.Helper()
	var cfg struct {
		Receivers map[string]any `yaml:"receivers"`
		Service   struct {
			Pipelines map[string]any `yaml:"pipelines"`
		} `yaml:"service"`
	}
	if err := yaml.Unmarshal(r.YAML, &cfg); err != nil {
		t.Fatal(err)
	}
	return cfg.Receivers, cfg.Service.Pipelines
}

func TestSyntheticJobLifecycle(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	base := baseConfig(t)
	if got := f.m.Overlay("web-1", &base); got.SHA256 != base.SHA256 {
		t.Fatal("Overlay changed the config of a host without a job")
	}
	j, err := f.m.Create(ctx, Request{TargetHost: "web-1", Profile: "high-cardinality", ProcessCount: 1200, Duration: Duration(5 * time.Minute), Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if j.Status != Pending || j.Mode != Synthetic || j.AgentUID != "uid-web-1" {
		t.Fatalf("new job = %+v", j)
	}
	if got := f.changedHosts(); len(got) != 1 || got[0] != "web-1" {
		t.Fatalf("desired state recomputed for %v, want [web-1]", got)
	}
	out := f.m.Overlay("web-1", &base)
	if out.SHA256 == base.SHA256 {
		t.Fatal("Overlay did not add the load simulation")
	}
	recv, pipes := receiversOf(t, out)
	lg, ok := recv["loadgen"].(map[string]any)
	if !ok || lg["profile"] != "high-cardinality" || lg["process_count"] != 1200 || lg["duration"] != "5m0s" || lg["seed"] != 7 {
		t.Fatalf("loadgen receiver = %v", recv["loadgen"])
	}
	for name, p := range pipes {
		rs := p.(map[string]any)["receivers"].([]any)
		if len(rs) != 2 || rs[1] != "loadgen" {
			t.Fatalf("pipeline %s receivers = %v, want the scraper and loadgen", name, rs)
		}
	}
	// Other hosts are untouched.
	if got := f.m.Overlay("db-1", &base); got.SHA256 != base.SHA256 {
		t.Fatal("Overlay changed another host's config")
	}

	// The loop records the hash; the agent applies it; the job runs.
	f.m.reconcile(ctx)
	if j = f.job(t, j.ID); j.ConfigHash != out.SHA256 || j.Status != Pending {
		t.Fatalf("after render: %+v", j)
	}
	f.agents.set("uid-web-1", func(a *store.Agent) { a.RemoteHash, a.RemoteStatus = out.SHA256, store.RemoteApplying })
	f.m.reconcile(ctx)
	if j = f.job(t, j.ID); j.Status != Pending {
		t.Fatalf("applying: status %s, want pending", j.Status)
	}
	f.agents.set("uid-web-1", func(a *store.Agent) { a.RemoteStatus = store.RemoteApplied })
	f.m.reconcile(ctx)
	if j = f.job(t, j.ID); j.Status != Running || !j.StartedAt.Equal(f.clock.now()) {
		t.Fatalf("applied: %+v", j)
	}

	// The duration elapses: finished, and the receiver leaves the config.
	f.clock.add(4 * time.Minute)
	f.m.reconcile(ctx)
	if j = f.job(t, j.ID); j.Status != Running {
		t.Fatalf("before the end: %s", j.Status)
	}
	f.clock.add(time.Minute)
	f.m.reconcile(ctx)
	if j = f.job(t, j.ID); j.Status != Finished || !j.EndedAt.Equal(j.StartedAt.Add(5*time.Minute)) {
		t.Fatalf("after the duration: %+v", j)
	}
	if got := f.m.Overlay("web-1", &base); got.SHA256 != base.SHA256 {
		t.Fatal("a finished job is still in the config")
	}
	if got := f.changedHosts(); len(got) != 2 {
		t.Fatalf("desired state recomputed for %v, want twice for web-1", got)
	}
}

func TestSyntheticJobWithoutDeploymentRendersLoadgenOnly(t *testing.T) {
	f := newFixture(t)
	if _, err := f.m.Create(context.Background(), Request{TargetHost: "web-1", Profile: "realistic"}); err != nil {
		t.Fatal(err)
	}
	out := f.m.Overlay("web-1", nil)
	if out == nil {
		t.Fatal("no config for a host without a deployment")
	}
	recv, _ := receiversOf(t, out)
	if _, ok := recv["loadgen"]; !ok || len(recv) != 1 {
		t.Fatalf("receivers = %v, want loadgen only", recv)
	}
	if !strings.Contains(string(out.YAML), "nop/phoenix") {
		t.Fatalf("the load of a host without a deployment must export nowhere:\n%s", out.YAML)
	}
}

func TestSyntheticJobFailsWhenTheAgentRefusesItsConfig(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	base := baseConfig(t)
	j, _ := f.m.Create(ctx, Request{TargetHost: "web-1", Profile: "realistic"})
	out := f.m.Overlay("web-1", &base)
	f.m.reconcile(ctx)
	f.agents.set("uid-web-1", func(a *store.Agent) {
		a.RemoteHash, a.RemoteStatus, a.RemoteError = out.SHA256, store.RemoteFailed, "validate: loadgen: unknown type"
	})
	f.m.reconcile(ctx)
	j = f.job(t, j.ID)
	if j.Status != Failed || !strings.Contains(j.Error, "validate: loadgen: unknown type") {
		t.Fatalf("job = %+v", j)
	}
	if got := f.m.Overlay("web-1", &base); got.SHA256 != base.SHA256 {
		t.Fatal("a failed job is still in the config")
	}
}

func TestStopSyntheticJob(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	base := baseConfig(t)
	j, _ := f.m.Create(ctx, Request{TargetHost: "web-1", Profile: "realistic"})
	f.m.Overlay("web-1", &base)
	j, err := f.m.Stop(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if j.Status != Stopped || j.EndedAt.IsZero() {
		t.Fatalf("stopped job = %+v", j)
	}
	if got := f.m.Overlay("web-1", &base); got.SHA256 != base.SHA256 {
		t.Fatal("a stopped job is still in the config")
	}
	again, err := f.m.Stop(ctx, j.ID)
	if err != nil || again.Revision != j.Revision {
		t.Fatalf("stopping a stopped job: %v, revision %d -> %d", err, j.Revision, again.Revision)
	}
	if _, err := f.m.Stop(ctx, "ls-nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown job: %v", err)
	}
	// The host is free again.
	if _, err := f.m.Create(ctx, Request{TargetHost: "web-1", Profile: "realistic"}); err != nil {
		t.Fatal(err)
	}
}

func TestProcessJobLifecycle(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	j, err := f.m.Create(ctx, Request{TargetHost: "web-1", Profile: "realistic", Mode: Process, ProcessCount: 60, Duration: Duration(time.Minute), Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.sender.types(); len(got) != 1 || got[0] != MsgStart {
		t.Fatalf("sent %v, want one start", got)
	}
	// The start is what the agent decodes, strictly.
	var req agent.LoadSimRequest
	dec := json.NewDecoder(strings.NewReader(string(f.sender.last().msg.Data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		t.Fatalf("the agent cannot read the start: %v", err)
	}
	if req.Profile != "realistic" || req.ProcessCount != 60 || req.Duration != "1m0s" || req.Seed != 3 || f.sender.last().uid != "uid-web-1" {
		t.Fatalf("start = %+v to %s", req, f.sender.last().uid)
	}
	if j = f.job(t, j.ID); j.Status != Pending || j.Delivered.IsZero() {
		t.Fatalf("after delivery: %+v", j)
	}
	if len(f.changedHosts()) != 0 {
		t.Fatal("a process job changed the desired config")
	}
	started := f.clock.now()
	f.agentSays(t, "uid-web-1", agent.LoadSimState{State: "running", Request: &req, Target: 60, Live: 58, Started: 58, StartedAt: started})
	if j = f.job(t, j.ID); j.Status != Running || j.Live != 58 || j.TargetProcesses != 60 || !j.StartedAt.Equal(started) {
		t.Fatalf("running: %+v", j)
	}
	j, err = f.m.Stop(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if j.Status != Running || !j.StopRequested || j.StopDelivered.IsZero() {
		t.Fatalf("after stop: %+v", j)
	}
	if got := f.sender.types(); len(got) != 2 || got[1] != MsgStop {
		t.Fatalf("sent %v, want start, stop", got)
	}
	f.clock.add(2 * time.Second)
	f.agentSays(t, "uid-web-1", agent.LoadSimState{State: "stopped", Request: &req, Started: 60, Exited: 60, StartedAt: started, EndedAt: f.clock.now()})
	if j = f.job(t, j.ID); j.Status != Stopped || j.Live != 0 || j.Exited != 60 {
		t.Fatalf("stopped: %+v", j)
	}
}

func TestProcessJobEndsOnItsOwnAsFinished(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	j, _ := f.m.Create(ctx, Request{TargetHost: "web-1", Profile: "realistic", Mode: Process, Duration: Duration(time.Minute)})
	start := f.clock.now()
	f.agentSays(t, "uid-web-1", agent.LoadSimState{State: "running", Live: 100, StartedAt: start})
	f.clock.add(time.Minute)
	f.agentSays(t, "uid-web-1", agent.LoadSimState{State: "stopped", StartedAt: start, EndedAt: f.clock.now()})
	if j = f.job(t, j.ID); j.Status != Finished {
		t.Fatalf("job = %+v, want finished", j)
	}
}

func TestProcessJobFailsWhenRefusedOrWhenTheAgentRestarts(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	j, _ := f.m.Create(ctx, Request{TargetHost: "web-1", Profile: "realistic", Mode: Process})
	f.agentSays(t, "uid-web-1", agent.LoadSimState{State: "failed", Error: "load simulation refused: 100 processes over the cap of 50"})
	if j = f.job(t, j.ID); j.Status != Failed || !strings.Contains(j.Error, "over the cap of 50") {
		t.Fatalf("refused: %+v", j)
	}
	j, _ = f.m.Create(ctx, Request{TargetHost: "web-1", Profile: "realistic", Mode: Process})
	f.agentSays(t, "uid-web-1", agent.LoadSimState{State: "running", Live: 100, StartedAt: f.clock.now()})
	f.agentSays(t, "uid-web-1", agent.LoadSimState{State: "idle"})
	if j = f.job(t, j.ID); j.Status != Failed || !strings.Contains(j.Error, "agent restarted") {
		t.Fatalf("agent restart: %+v", j)
	}
}

func TestProcessJobIsDeliveredByTheReplicaHoldingTheAgent(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.sender.offline["uid-web-1"] = true // the connection is on another replica
	j, err := f.m.Create(ctx, Request{TargetHost: "web-1", Profile: "realistic", Mode: Process})
	if err != nil {
		t.Fatal(err)
	}
	f.m.reconcile(ctx)
	if got := f.sender.types(); len(got) != 0 {
		t.Fatalf("sent %v to an agent connected elsewhere", got)
	}
	if j = f.job(t, j.ID); !j.Delivered.IsZero() {
		t.Fatal("marked delivered")
	}
	// The agent (re)connects here.
	delete(f.sender.offline, "uid-web-1")
	f.m.AgentConnected(ctx, "uid-web-1")
	if got := f.sender.types(); len(got) != 1 || got[0] != MsgStart {
		t.Fatalf("sent %v, want the start", got)
	}
	// No answer for a while: the server asks for the status, once per period.
	f.clock.add(16 * time.Second)
	f.m.reconcile(ctx)
	f.m.reconcile(ctx)
	if got := f.sender.types(); len(got) != 2 || got[1] != MsgStatus {
		t.Fatalf("sent %v, want start, status", got)
	}
	// The agent restarted before it saw the start: idle resends it.
	f.agentSays(t, "uid-web-1", agent.LoadSimState{State: "idle"})
	if got := f.sender.types(); len(got) != 3 || got[2] != MsgStart {
		t.Fatalf("sent %v, want start, status, start", got)
	}
}

// The agent and the server share one declaration of the protocol: these
// compile only while the agent's types are the api's.
var (
	_ *api.LoadSimState   = (*agent.LoadSimState)(nil)
	_ *api.LoadSimRequest = (*agent.LoadSimRequest)(nil)
)

func TestConcurrentUpdatesAreNotLost(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	j, _ := f.m.Create(ctx, Request{TargetHost: "web-1", Profile: "realistic", Mode: Process})
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.m.update(ctx, j.ID, func(j *Job) bool { j.Started++; return true })
			if err != nil {
				t.Errorf("update %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if got := f.job(t, j.ID); got.Started != 20 {
		t.Fatalf("started = %d after 20 concurrent increments", got.Started)
	}
}

func TestDurationJSON(t *testing.T) {
	var r Request
	if err := json.Unmarshal([]byte(`{"duration":"90s"}`), &r); err != nil || time.Duration(r.Duration) != 90*time.Second {
		t.Fatalf("string: %v %v", r.Duration, err)
	}
	if err := json.Unmarshal([]byte(`{"duration":30}`), &r); err != nil || time.Duration(r.Duration) != 30*time.Second {
		t.Fatalf("seconds: %v %v", r.Duration, err)
	}
	if err := json.Unmarshal([]byte(`{"duration":"soon"}`), &r); err == nil || !strings.Contains(err.Error(), `"soon" is not a duration`) {
		t.Fatalf("bad: %v", err)
	}
	b, _ := json.Marshal(Request{Duration: Duration(5 * time.Minute)})
	if !strings.Contains(string(b), `"duration":"5m0s"`) {
		t.Fatalf("marshal: %s", b)
	}
}

func TestRunningProcessJobRefreshesItsCounters(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	j, _ := f.m.Create(ctx, Request{TargetHost: "web-1", Profile: "process-churn", Mode: Process})
	f.agentSays(t, "uid-web-1", agent.LoadSimState{State: "running", Live: 70, StartedAt: f.clock.now()})
	f.m.reconcile(ctx)
	if got := f.sender.types(); len(got) != 1 {
		t.Fatalf("sent %v right after an update, want the start only", got)
	}
	f.clock.add(11 * time.Second)
	f.m.reconcile(ctx)
	f.m.reconcile(ctx)
	if got := f.sender.types(); len(got) != 2 || got[1] != MsgStatus {
		t.Fatalf("sent %v, want start, one status", got)
	}
	f.agentSays(t, "uid-web-1", agent.LoadSimState{State: "running", Live: 80, StartedAt: j.CreatedAt})
	if j = f.job(t, j.ID); j.Live != 80 {
		t.Fatalf("live = %d, want the refreshed 80", j.Live)
	}
}
