package commands

import (
	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/cmd/agent"
)

func newAgentCmd(app *App) *cobra.Command {
	cmd := newGroup("agent", "The fleet: agents, their health and their config status", "")
	cmd.Aliases = []string{"agents"}
	f := app.factory()
	cmd.AddCommand(agent.NewListCmd(f), agent.NewShowCmd(f), agent.NewPendingCmd(f), agent.NewApproveCmd(f), agent.NewRevokeCmd(f), agent.NewRetryCmd(f))
	return cmd
}
