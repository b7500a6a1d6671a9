package agent

import (
	"slices"
	"testing"

	"github.com/phoenix-otel/phoenix/pipelines"
)

// The collector (and its validation run) gets the agent's host name in
// PHOENIX_HOST_NAME: the server's one render per deployment version refers
// to it as ${env:PHOENIX_HOST_NAME}.
func TestCollectorEnvCarriesTheHostName(t *testing.T) {
	a := &Agent{cfg: Config{HostName: "web-7"}}
	if env := a.collectorEnv(nil); !slices.Contains(env, pipelines.EnvHostName+"=web-7") {
		t.Fatalf("collector env %q lacks %s=web-7", env, pipelines.EnvHostName)
	}
}
