package experiment

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/client"
	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
	"github.com/phoenix-otel/phoenix/cli/internal/output"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

// StatusOptions are the flags of `phoenix experiment status`.
type StatusOptions struct {
	Name  string
	Watch bool
}

func newStatusCmd(f *cmdutil.Factory) *cobra.Command {
	o := &StatusOptions{}
	cmd := &cobra.Command{
		Use:               "status NAME",
		Short:             "Show an experiment: its transitions with their times, hosts and verdicts",
		Args:              oneName,
		ValidArgsFunction: completeNames(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			p, err := f.Printer()
			if err != nil {
				return err
			}
			c, err := f.Client()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			var st *client.Stream
			if o.Watch { // open first, so no change between the read and the stream is missed
				if st, err = c.OpenStream(ctx, client.StreamFilter{Types: []string{api.EventExperiment}}); err != nil {
					return err
				}
				defer st.Close()
			}
			var e api.Experiment
			raw, err := c.GetBoth(ctx, path(o.Name), nil, &e)
			if err != nil {
				return err
			}
			if err := p.Print(raw, func(t *output.TableWriter) { statusTable(t, e) }); err != nil {
				return err
			}
			for o.Watch && e.Active() {
				ev, err := st.Next()
				if err != nil {
					return err
				}
				var x api.Experiment
				if ev.Type != api.EventExperiment || json.Unmarshal(ev.Data, &x) != nil || x.Name != o.Name {
					continue
				}
				if x.Status == "deleted" {
					return &cmdutil.ExitError{Code: cmdutil.ExitNotFound, Err: fmt.Errorf("experiment %s was deleted", o.Name)}
				}
				if x.Status != e.Status || len(x.Transitions) != len(e.Transitions) {
					last := x.Transitions[len(x.Transitions)-1]
					if p.Format == output.Table {
						fmt.Fprintf(f.Out, "%s  %s  %s\n", last.At.Local().Format("15:04:05"), last.Status, last.Reason)
					} else if err := p.Print(ev.Data, nil); err != nil {
						return err
					}
				}
				e = x
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&o.Watch, "watch", "w", false, "follow the experiment's transitions until it ends (completed, stopped, failed, promoted)")
	return cmd
}
