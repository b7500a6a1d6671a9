package deployment

import (
	"fmt"
	"testing"

	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// The one-deployment-per-host check against 1,000 agents and 10 deployments.
func BenchmarkConflictCheck1000Agents(b *testing.B) {
	var agents []store.Agent
	for i := range 1000 {
		agents = append(agents, store.Agent{HostName: fmt.Sprintf("host-%d", i), Labels: map[string]string{"env": fmt.Sprint(i % 10)}})
	}
	var deps []store.Deployment
	for i := range 10 {
		deps = append(deps, store.Deployment{Name: fmt.Sprint("d", i), Current: store.DeploymentVersion{Spec: store.DeploymentSpec{
			Target: store.Target{Selector: map[string]string{"env": fmt.Sprint(i)}}}}})
	}
	check := conflictCheck(store.Target{Hosts: []string{"elsewhere"}, Selector: map[string]string{"env": "none"}})
	b.ReportAllocs()
	for b.Loop() {
		if err := check(deps, agents); err != nil {
			b.Fatal(err)
		}
	}
}
