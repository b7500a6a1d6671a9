package commands

import (
	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/cmd/loadsim"
)

func newLoadSimCmd(app *App) *cobra.Command {
	cmd := newGroup("loadsim", "Load simulations: put synthetic or real-process load on a host",
		`A load simulation puts a load profile on one host. In synthetic mode
(the default) the host's collector gets the loadgen receiver, whose fake
processes flow through the host's pipeline. In process mode the host's
agent starts real OS processes that the real process scraper sees.
A host runs one simulation at a time.`)
	f := app.factory()
	cmd.AddCommand(loadsim.NewStartCmd(f), loadsim.NewStopCmd(f), loadsim.NewStatusCmd(f), loadsim.NewListProfilesCmd(f))
	return cmd
}
