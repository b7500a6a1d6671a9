package agent

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/client"
	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
	"github.com/phoenix-otel/phoenix/cli/internal/output"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

const identitiesPath = "/api/v1/identities"

// identityAction POSTs an identity verb and prints the result.
func identityAction(ctx context.Context, f *cmdutil.Factory, uid, verb string, say func(api.Identity) string) error {
	p, c, err := f.PrinterClient()
	if err != nil {
		return err
	}
	var id api.Identity
	raw, err := c.DoBoth(ctx, "POST", agentsPath+"/"+client.Esc(uid)+"/"+verb, nil, &id)
	if err != nil {
		return err
	}
	if p.Format != output.Table {
		return p.Print(raw, nil)
	}
	_, err = fmt.Fprint(f.Out, say(id))
	return err
}

// completeUIDs completes the instance uids of the enrolled agents.
func completeUIDs(f *cmdutil.Factory) cobra.CompletionFunc {
	return cmdutil.Complete(f, identitiesPath, nil, func(l api.IdentityList) []string {
		var out []string
		for _, id := range l.Identities {
			out = append(out, id.InstanceUID+"\t"+id.State+" "+id.ClaimedHost)
		}
		return out
	})
}
