package server

// The fleet's view of the deployment domain (package deployment): the
// desired state of a host is the chain deployment -> experiment -> load
// simulation, computed there; the fleet pushes it.

import (
	"context"

	"github.com/phoenix-otel/phoenix/opamp-server/deployment"
	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// emptyConfigHash identifies the empty remote config (deployment.EmptyConfigHash).
var emptyConfigHash = deployment.EmptyConfigHash

// ConfigFileName is the key of the rendered config in the OpAMP config map.
const ConfigFileName = "phoenix.yaml"

// desired is an agent's desired state.
type desired = deployment.Desired

func (f *fleet) desiredFor(host string, labels map[string]string) desired {
	return f.s.deployments.Desired(host, labels)
}

func (f *fleet) deploymentsSnapshot() []store.Deployment { return f.s.deployments.Snapshot() }

func (f *fleet) loadDeployments(ctx context.Context) error { return f.s.deployments.Reload(ctx) }

func (s *Server) hostAgent(ctx context.Context, host string) (store.Agent, error) {
	return s.deployments.HostAgent(ctx, host)
}
