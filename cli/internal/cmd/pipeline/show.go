package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/client"
	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
	"github.com/phoenix-otel/phoenix/cli/internal/output"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
	"github.com/phoenix-otel/phoenix/pipelines"
)

// ShowOptions are the arguments of `phoenix pipeline show`.
type ShowOptions struct {
	Template   string
	Params     []string
	Dest       DestFlags
	HostName   string
	ShowParams bool
	Remote     bool
	Deployment string
	Version    int
}

// NewShowCmd is `phoenix pipeline show`.
func NewShowCmd(f *cmdutil.Factory) *cobra.Command {
	o := &ShowOptions{}
	cmd := &cobra.Command{
		Use:   "show (<template> | --deployment <name>)",
		Short: "Print a template's collector YAML, rendered with its defaults or with --param",
		Long: `Print the phoenix-otelcol config a template renders to, with its defaults
or with the --param values given. --params prints the template's parameters
instead. -o json/yaml prints the template and the rendered config.

It renders locally with the catalog built into this CLI and needs no server;
--remote asks the server's catalog instead (the templates a running server
has, if it is another version).

--deployment prints a deployment's config as its agents get it, from the
server: a template rendered, or a raw config (pipeline deploy --file) as the
very bytes deployed; --version picks an older version.`,
		Example: `  phoenix pipeline show process-topk-v1
  phoenix pipeline show process-topk-v1 --param k=20 --destination otlphttp=http://gateway:4318
  phoenix pipeline show process-topk-v1 --params
  phoenix pipeline show process-topk-v1 --remote
  phoenix pipeline show --deployment team-a --version 2`,
		Args: func(cmd *cobra.Command, args []string) error {
			if o.Deployment != "" {
				if len(args) > 0 {
					return cmdutil.UsageError("give a template or --deployment, not both")
				}
				return nil
			}
			return cmdutil.ExactArgs("template")(cmd, args)
		},
		ValidArgsFunction: CompleteTemplates,
		RunE: cmdutil.Run(func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.Template = args[0]
			}
			return o.Run(cmd.Context(), f)
		}),
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&o.Params, "param", nil, "template parameter name=value; repeat a name for a list, or give a JSON array/object (see --params)")
	fl.StringVar(&o.HostName, "host-name", "", "render for this host name (sets host.name on every resource)")
	fl.BoolVar(&o.ShowParams, "params", false, "print the template's parameters, types and defaults instead of the YAML")
	fl.BoolVar(&o.Remote, "remote", false, "render with the server's catalog instead of this CLI's")
	fl.StringVar(&o.Deployment, "deployment", "", "print this deployment's config as its agents get it (from the server)")
	fl.IntVar(&o.Version, "version", 0, "with --deployment, this version (default: the current one)")
	o.Dest.Add(cmd)
	return cmd
}

// Run prints the rendered template, its parameters, or a deployment's
// config.
func (o *ShowOptions) Run(ctx context.Context, f *cmdutil.Factory) error {
	p, err := f.Printer()
	if err != nil {
		return err
	}
	if o.Deployment != "" {
		return o.showDeployment(ctx, f, p)
	}
	ps, err := ParseParams(o.Params)
	if err != nil {
		return err
	}
	d, err := o.Dest.Parse()
	if err != nil {
		return err
	}
	name := o.Template
	var tmpl pipelines.Template
	var r api.Rendered
	var rawT, rawR json.RawMessage
	if o.Remote {
		c, err := f.Client()
		if err != nil {
			return err
		}
		if rawT, err = c.GetBoth(ctx, "/api/v1/catalog/"+client.Esc(name), nil, &tmpl); err != nil {
			return cmdutil.Hint(err, "`phoenix pipeline list` lists the templates")
		}
	} else {
		if tmpl, err = pipelines.Get(name); err != nil {
			return cmdutil.NotFoundError(err, "`phoenix pipeline list` lists the templates")
		}
		// Through JSON, so that the table shows exactly what the
		// server's catalog would (defaults as JSON values).
		if rawT, err = json.Marshal(tmpl); err != nil {
			return err
		}
		tmpl = pipelines.Template{}
		if err := json.Unmarshal(rawT, &tmpl); err != nil {
			return err
		}
	}
	if o.ShowParams {
		return p.Print(rawT, func(t *output.TableWriter) { paramsTable(t, tmpl) })
	}
	if o.Remote {
		body := map[string]any{}
		if ps != nil {
			body["params"] = ps
		}
		if d != nil {
			body["destination"] = d
		}
		if o.HostName != "" {
			body["host_name"] = o.HostName
		}
		c, err := f.Client()
		if err != nil {
			return err
		}
		if rawR, err = c.DoBoth(ctx, http.MethodPost, "/api/v1/catalog/"+client.Esc(name)+"/render", body, &r); err != nil {
			return err
		}
	} else {
		spec := pipelines.Spec{Template: name, Params: ps}
		if d != nil {
			spec.Destination = pipelines.Destination{Type: d.Type, Endpoint: d.Endpoint, Headers: d.Headers, Insecure: d.Insecure}
		}
		out, err := pipelines.Render(spec, pipelines.Context{HostName: o.HostName})
		if err != nil {
			if _, ok := errors.AsType[*pipelines.ParamError](err); ok {
				return cmdutil.ValidationError(err, "`phoenix pipeline show "+name+" --params` lists the parameters")
			}
			return err
		}
		r = api.Rendered{Template: name, YAML: string(out.YAML), SHA256: out.SHA256}
		if rawR, err = json.Marshal(r); err != nil {
			return err
		}
	}
	if p.Format != output.Table {
		return p.Print(map[string]json.RawMessage{"template": rawT, "rendered": rawR}, nil)
	}
	_, err = io.WriteString(f.Out, r.YAML)
	return err
}

// showDeployment prints a deployment version's config as the agents get it
// (the exact bytes of a raw config).
func (o *ShowOptions) showDeployment(ctx context.Context, f *cmdutil.Factory, p *output.Printer) error {
	c, err := f.Client()
	if err != nil {
		return err
	}
	q := url.Values{}
	if o.Version > 0 {
		q.Set("version", strconv.Itoa(o.Version))
	}
	var dc api.DeploymentConfig
	raw, err := c.GetBoth(ctx, "/api/v1/deployments/"+client.Esc(o.Deployment)+"/config", q, &dc)
	if err != nil {
		return cmdutil.Hint(err, "`phoenix pipeline list-deployments` lists the deployments")
	}
	if p.Format != output.Table {
		return p.Print(raw, nil)
	}
	_, err = io.WriteString(f.Out, dc.YAML)
	return err
}

func paramsTable(t *output.TableWriter, tmpl pipelines.Template) {
	t.Header("param", "type", "default", "bounds", "description")
	for _, p := range tmpl.Params {
		def := valueText(p.Default)
		if p.Required {
			def = "(required)"
		}
		var bounds []string
		if p.Min != nil {
			bounds = append(bounds, "min "+strconv.FormatFloat(*p.Min, 'g', -1, 64))
		}
		if p.Max != nil {
			bounds = append(bounds, "max "+strconv.FormatFloat(*p.Max, 'g', -1, 64))
		}
		if len(p.Enum) > 0 {
			bounds = append(bounds, strings.Join(p.Enum, "|"))
		}
		t.Row(p.Name, string(p.Type), def, strings.Join(bounds, ", "), p.Description)
	}
}
