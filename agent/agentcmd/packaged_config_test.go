package agentcmd

import (
	"path/filepath"
	"testing"

	"github.com/phoenix-otel/phoenix/internal/configfile"
	"github.com/phoenix-otel/phoenix/internal/testutil"
)

// The default /etc/phoenix/agent.yaml of the packages (deploy/config) sets
// only flags phoenix-agent has, with values it accepts.
func TestPackagedConfigApplies(t *testing.T) {
	cmd := NewCommand()
	if err := configfile.Apply(cmd.Flags(), filepath.Join(testutil.RepoRoot(), "deploy", "config", "agent.yaml")); err != nil {
		t.Fatal(err)
	}
	for flag, want := range map[string]string{"data-dir": "/var/lib/phoenix/agent", "collector": "/usr/bin/phoenix-otelcol", "token-file": "/etc/phoenix/enrollment-token"} {
		if got := cmd.Flags().Lookup(flag).Value.String(); got != want {
			t.Errorf("--%s = %q from the packaged config, want %q", flag, got, want)
		}
	}
}
