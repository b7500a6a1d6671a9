package commands

import (
	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/cmd/pipeline"
	"github.com/phoenix-otel/phoenix/cli/internal/cmd/pipeline/rollout"
)

func newPipelineCmd(app *App) *cobra.Command {
	cmd := newGroup("pipeline", "Pipeline catalog and deployments: list, show, validate, deploy, status, rollback, delete",
		`Pipelines are the catalog's process-metrics templates. A deployment puts one
template, with parameters and a destination, on hosts chosen by name or by
label selector. Every change is a new immutable version; rollback creates a
new version equal to an old one.`)
	cmd.Aliases = []string{"pipelines"}
	f := app.factory()
	cmd.AddCommand(
		pipeline.NewListCmd(f),
		pipeline.NewShowCmd(f),
		pipeline.NewValidateCmd(f),
		pipeline.NewDeployCmd(f),
		pipeline.NewStatusCmd(f),
		pipeline.NewActiveConfigCmd(f),
		pipeline.NewRollbackCmd(f),
		pipeline.NewDeleteCmd(f),
		pipeline.NewListDeploymentsCmd(f),
		pipeline.NewVersionsCmd(f),
		rollout.NewCmd(f),
	)
	return cmd
}
