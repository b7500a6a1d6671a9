package agent

import (
	"github.com/phoenix-otel/phoenix/internal/agentsecrets"
	"github.com/phoenix-otel/phoenix/pipelines"
)

// collectorEnv is what the collector running (or validating) c gets in its
// environment beyond the agent's own: its host name (PHOENIX_HOST_NAME: the
// server renders one config per deployment version for all its hosts, and
// the host name comes from here), the values of the own_metrics headers
// (the agent's credential) and the secrets the server sent apart from the
// config body. The config refers to them as ${env:...}; none is written
// into config/effective.yaml or reported.
func (a *Agent) collectorEnv(c *storedConfig) []string {
	a.mu.Lock()
	env := append(ownMetricsEnv(a.ownMetrics), pipelines.EnvHostName+"="+a.cfg.HostName)
	a.mu.Unlock()
	if c == nil {
		return env
	}
	if body, ok := c.Files[agentsecrets.FileName]; ok {
		secrets, err := agentsecrets.Decode([]byte(body))
		if err != nil {
			a.log.Error("ignoring the secrets sent with the config", "err", err)
			return env
		}
		env = append(env, agentsecrets.Env(secrets)...)
	}
	return env
}
