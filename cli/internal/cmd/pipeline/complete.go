package pipeline

import (
	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
	"github.com/phoenix-otel/phoenix/pipelines"
)

// CompleteTemplates completes template names from the embedded catalog
// (no server round trip while typing).
func CompleteTemplates(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, t := range pipelines.List() {
		out = append(out, t.Name+"\t"+t.Title)
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeDeployments completes deployment names from the server.
func completeDeployments(f *cmdutil.Factory) cobra.CompletionFunc {
	return cmdutil.Complete(f, "/api/v1/deployments", nil, func(l api.DeploymentList) []string {
		var out []string
		for _, d := range l.Deployments {
			out = append(out, d.Name+"\t"+d.Template)
		}
		return out
	})
}
