package storetest

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// testAgentRecords: ListAgentRecords is ListAgents without the effective
// configs (their hashes stay), in the same order.
func testAgentRecords(t *testing.T, f Factory) {
	ctx := context.Background()
	s := openOne(t, f)
	now := time.Now().UTC().Truncate(time.Millisecond)
	var agents []store.Agent
	for i, h := range []string{"web-2", "db-1", "web-1"} {
		agents = append(agents, store.Agent{
			InstanceUID: fmt.Sprintf("uid-%d", i), HostName: h, Labels: map[string]string{"env": "prod"},
			Capabilities: 0x0fff, Connected: i != 1, ServerID: "replica-a", FirstSeen: now, LastSeen: now,
			Health:          &store.Health{Healthy: true, Status: "running"},
			EffectiveConfig: strings.Repeat("receivers: {}\n", 10+i), EffectiveConfigHash: fmt.Sprintf("eff-%d", i),
			RemoteStatus: store.RemoteApplied, RemoteHash: "h", PushedHash: "h", PushedAt: now, AppliedAt: now,
			FailedConfigs: map[string]store.FailedConfig{"old": {Error: "port in use", At: now}},
		})
	}
	if err := s.UpsertAgents(ctx, agents, false); err != nil {
		t.Fatal(err)
	}
	full, err := s.ListAgents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := s.ListAgentRecords(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(full) != len(agents) || len(recs) != len(full) {
		t.Fatalf("listed %d full and %d records, want %d", len(full), len(recs), len(agents))
	}
	for i := range full {
		if full[i].EffectiveConfig == "" {
			t.Fatalf("ListAgents dropped %s's effective config", full[i].InstanceUID)
		}
		want := full[i]
		want.EffectiveConfig = ""
		if !reflect.DeepEqual(recs[i], want) {
			t.Fatalf("record %d:\n got %+v\nwant %+v", i, recs[i], want)
		}
	}

	// ListAgentsSeenBefore: the records last seen strictly before t, in the
	// order of ListAgentRecords. uid-0 is seen an hour ago, uid-1 exactly
	// at the bound, uid-2 now.
	old := agents[0]
	old.LastSeen = now.Add(-time.Hour)
	bound := agents[1]
	bound.LastSeen = now.Add(-time.Minute)
	if err := s.UpsertAgents(ctx, []store.Agent{old, bound}, false); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		before time.Time
		want   []string
	}{
		{now.Add(-2 * time.Hour), nil},
		{now.Add(-time.Minute), []string{"uid-0"}},
		{now.Add(-time.Minute + time.Millisecond), []string{"uid-1", "uid-0"}}, // db-1 sorts first
		{now.Add(time.Millisecond), []string{"uid-1", "uid-2", "uid-0"}},       // by host name
	} {
		got, err := s.ListAgentsSeenBefore(ctx, c.before)
		if err != nil {
			t.Fatal(err)
		}
		var uids []string
		for _, a := range got {
			uids = append(uids, a.InstanceUID)
			if a.EffectiveConfig != "" || a.EffectiveConfigHash == "" || a.HostName == "" {
				t.Fatalf("seen before %s: %s without its record or with its effective config: %+v", c.before, a.InstanceUID, a)
			}
		}
		if !reflect.DeepEqual(uids, c.want) {
			t.Fatalf("agents seen before now%+v: %v, want %v", c.before.Sub(now), uids, c.want)
		}
	}
}

// BenchAgentReads compares, side by side on one database of 10,000 agents
// with a 5 KiB effective config each, the reads a status answer can make:
//   - ListAgents: every record with its effective config (what status
//     reads decoded before);
//   - ListAgentRecords: the records without the effective configs.
//
// go test -run '^$' -bench AgentReads ./opamp-server/store/sqlite/ (and
// ./opamp-server/store/postgres/ with PHOENIX_TEST_POSTGRES_DSN).
func BenchAgentReads(b *testing.B, s store.Store) {
	ctx := context.Background()
	eff := make([]byte, 5*1024)
	for i := range eff {
		eff[i] = 'a' + byte(i%26)
	}
	const fleet = 10000
	now := time.Now().UTC()
	agents := make([]store.Agent, 0, 500)
	for i := 0; i < fleet; i++ {
		agents = append(agents, store.Agent{InstanceUID: fmt.Sprintf("00000000-0000-0000-0000-%012d", i), HostName: fmt.Sprintf("host-%05d", i),
			OS: "linux", Arch: "amd64", AgentVersion: "0.1.0", Identifying: map[string]string{"service.name": "phoenix-otelcol"},
			NonIdentifying: map[string]string{"host.name": fmt.Sprintf("host-%05d", i)}, Capabilities: 0x0fff, Transport: "websocket",
			ServerID: "a", Connected: true, FirstSeen: now, LastSeen: now,
			Labels: map[string]string{"fleet": "bench", "env": "prod"}, Health: &store.Health{Healthy: true, Status: "running"},
			EffectiveConfig: string(eff), EffectiveConfigHash: "ab", RemoteStatus: store.RemoteApplied, RemoteHash: "cd",
			DesiredDeployment: "fleet", DesiredVersion: 1, DesiredHash: "cd", PushedHash: "cd", PushedAt: now, AppliedAt: now})
		if len(agents) == cap(agents) {
			if err := s.UpsertAgents(ctx, agents, false); err != nil {
				b.Fatal(err)
			}
			agents = agents[:0]
		}
	}
	if _, err := s.CreateDeployment(ctx, "bench", store.DeploymentSpec{Template: "process-topk-v1",
		Target: store.Target{Selector: map[string]string{"fleet": "bench"}}}, nil); err != nil {
		b.Fatal(err)
	}
	version := 1
	// A deployment write with its overlap check, which reads every agent's
	// host name and labels, and one without (the write alone).
	write := func(check store.ConflictCheck) func(context.Context) ([]store.Agent, error) {
		return func(ctx context.Context) ([]store.Agent, error) {
			var seen []store.Agent
			c := check
			if c != nil {
				c = func(others []store.Deployment, agents []store.Agent) error {
					seen = agents
					return check(others, agents)
				}
			}
			v, err := s.AddDeploymentVersion(ctx, "bench", version, store.DeploymentSpec{Template: "process-topk-v1",
				Target: store.Target{Selector: map[string]string{"fleet": "bench"}}}, 0, c)
			if err != nil {
				return nil, err
			}
			version = v.Version
			if check == nil {
				return make([]store.Agent, fleet), nil
			}
			for _, a := range seen {
				if a.HostName == "" || a.Labels["fleet"] != "bench" {
					return nil, fmt.Errorf("the overlap check got agent %s without its host name or labels: %+v", a.InstanceUID, a)
				}
			}
			return seen, nil
		}
	}
	overlapCheck := func([]store.Deployment, []store.Agent) error { return nil }
	// Interleaved rounds, so a change in the machine's load hits both;
	// cpu-ns/op is the process's user+system CPU per read, which waiting
	// for a busy CPU does not inflate as it does ns/op.
	for range 5 {
		for _, c := range []struct {
			name string
			list func(context.Context) ([]store.Agent, error)
		}{{"ListAgents", s.ListAgents}, {"ListAgentRecords", s.ListAgentRecords},
			{"DeploymentWriteWithCheck", write(overlapCheck)}, {"DeploymentWriteAlone", write(nil)}} {
			b.Run(c.name, func(b *testing.B) {
				b.ReportAllocs()
				cpu0 := cpuNanos()
				for b.Loop() {
					got, err := c.list(ctx)
					if err != nil || len(got) != fleet {
						b.Fatalf("%d agents, %v", len(got), err)
					}
				}
				b.ReportMetric(float64(cpuNanos()-cpu0)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

// cpuNanos is the process's user+system CPU time.
func cpuNanos() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
