package main

import (
	"path/filepath"
	"testing"

	"github.com/phoenix-otel/phoenix/internal/configfile"
	"github.com/phoenix-otel/phoenix/internal/testutil"
)

// The default /etc/phoenix/server.yaml of the package (deploy/config) sets
// only flags phoenix-server has, with values it accepts.
func TestPackagedConfigApplies(t *testing.T) {
	cmd := newCommand()
	if err := configfile.Apply(cmd.Flags(), filepath.Join(testutil.RepoRoot(), "deploy", "config", "server.yaml")); err != nil {
		t.Fatal(err)
	}
	if got := cmd.Flags().Lookup("data-dir").Value.String(); got != "/var/lib/phoenix/server" {
		t.Errorf("--data-dir = %q from the packaged config", got)
	}
}
