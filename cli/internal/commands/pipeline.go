package commands

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/client"
	"github.com/phoenix-otel/phoenix/cli/internal/cmd/pipeline"
	"github.com/phoenix-otel/phoenix/cli/internal/cmd/pipeline/rollout"
	"github.com/phoenix-otel/phoenix/cli/internal/output"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
	"github.com/phoenix-otel/phoenix/pipelines"
)

func newPipelineCmd(app *App) *cobra.Command {
	cmd := newGroup("pipeline", "Pipeline catalog and deployments: list, show, validate, deploy, status, rollback, delete",
		`Pipelines are the catalog's process-metrics templates. A deployment puts one
template, with parameters and a destination, on hosts chosen by name or by
label selector. Every change is a new immutable version; rollback creates a
new version equal to an old one.`)
	cmd.Aliases = []string{"pipelines"}
	cmd.AddCommand(
		newPipelineListCmd(app),
		newPipelineShowCmd(app),
		newPipelineValidateCmd(app),
		pipeline.NewDeployCmd(app.factory(), func(ctx context.Context, c *client.Client, p *output.Printer, name string, timeout time.Duration) error {
			return app.watchDeployment(ctx, c, p, name, watchFlags{watch: true, timeout: timeout})
		}, completeTemplates),
		newPipelineStatusCmd(app),
		newPipelineActiveConfigCmd(app),
		newPipelineRollbackCmd(app),
		newPipelineDeleteCmd(app),
		newPipelineListDeploymentsCmd(app),
		newPipelineVersionsCmd(app),
		rollout.NewCmd(app.factory()),
	)
	return cmd
}

// completeTemplates completes template names from the embedded catalog
// (no server round trip while typing).
func completeTemplates(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
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
func completeDeployments(app *App) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		c, err := app.client()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var resp struct {
			Deployments []api.Deployment `json:"deployments"`
		}
		ctx, cancel := context.WithTimeout(cmd.Context(), 3*time.Second)
		defer cancel()
		if c.Get(ctx, "/api/v1/deployments", nil, &resp) != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, d := range resp.Deployments {
			out = append(out, d.Name+"\t"+d.Template)
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

func newPipelineListCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the pipeline catalog",
		Args:  noArgs,
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			p, c, err := app.printerClient()
			if err != nil {
				return err
			}
			var cat api.Catalog
			raw, err := c.GetBoth(cmd.Context(), "/api/v1/catalog", nil, &cat)
			if err != nil {
				return err
			}
			return p.Print(raw, func(t *output.TableWriter) {
				t.Header("name", "title", "expected reduction", "params")
				for _, tm := range cat.Templates {
					t.Row(tm.Name, tm.Title, tm.ExpectedReduction, strconv.Itoa(len(tm.Params)))
				}
			})
		}),
	}
}

func newPipelineShowCmd(app *App) *cobra.Command {
	var (
		params     []string
		dest       pipeline.DestFlags
		hostName   string
		showParams bool
		remote     bool
		depName    string
		depVersion int
	)
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
			if depName != "" {
				if len(args) > 0 {
					return usageErr("give a template or --deployment, not both")
				}
				return nil
			}
			return exactArgs("template")(cmd, args)
		},
		ValidArgsFunction: completeTemplates,
		RunE: run(func(cmd *cobra.Command, args []string) error {
			p, err := app.printer()
			if err != nil {
				return err
			}
			if depName != "" {
				return app.showDeploymentConfig(cmd.Context(), p, depName, depVersion)
			}
			ps, err := pipeline.ParseParams(params)
			if err != nil {
				return err
			}
			d, err := dest.Parse()
			if err != nil {
				return err
			}
			name := args[0]
			var tmpl pipelines.Template
			var r api.Rendered
			var rawT, rawR json.RawMessage
			if remote {
				c, err := app.client()
				if err != nil {
					return err
				}
				if rawT, err = c.GetBoth(cmd.Context(), "/api/v1/catalog/"+client.Esc(name), nil, &tmpl); err != nil {
					return hintf(err, "`phoenix pipeline list` lists the templates")
				}
			} else {
				if tmpl, err = pipelines.Get(name); err != nil {
					return notFoundErr(err, "`phoenix pipeline list` lists the templates")
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
			if showParams {
				return p.Print(rawT, func(t *output.TableWriter) { paramsTable(t, tmpl) })
			}
			if remote {
				body := map[string]any{}
				if ps != nil {
					body["params"] = ps
				}
				if d != nil {
					body["destination"] = d
				}
				if hostName != "" {
					body["host_name"] = hostName
				}
				c, err := app.client()
				if err != nil {
					return err
				}
				if rawR, err = c.DoBoth(cmd.Context(), http.MethodPost, "/api/v1/catalog/"+client.Esc(name)+"/render", body, &r); err != nil {
					return err
				}
			} else {
				spec := pipelines.Spec{Template: name, Params: ps}
				if d != nil {
					spec.Destination = pipelines.Destination{Type: d.Type, Endpoint: d.Endpoint, Headers: d.Headers, Insecure: d.Insecure}
				}
				out, err := pipelines.Render(spec, pipelines.Context{HostName: hostName})
				if err != nil {
					if _, ok := errors.AsType[*pipelines.ParamError](err); ok {
						return validationErr(err, "`phoenix pipeline show "+name+" --params` lists the parameters")
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
			_, err = io.WriteString(app.Out, r.YAML)
			return err
		}),
	}
	f := cmd.Flags()
	f.StringArrayVar(&params, "param", nil, "template parameter name=value; repeat a name for a list, or give a JSON array/object (see --params)")
	f.StringVar(&hostName, "host-name", "", "render for this host name (sets host.name on every resource)")
	f.BoolVar(&showParams, "params", false, "print the template's parameters, types and defaults instead of the YAML")
	f.BoolVar(&remote, "remote", false, "render with the server's catalog instead of this CLI's")
	f.StringVar(&depName, "deployment", "", "print this deployment's config as its agents get it (from the server)")
	f.IntVar(&depVersion, "version", 0, "with --deployment, this version (default: the current one)")
	dest.Add(cmd)
	return cmd
}

// showDeploymentConfig prints a deployment version's config as the agents
// get it (the exact bytes of a raw config).
func (app *App) showDeploymentConfig(ctx context.Context, p *output.Printer, name string, version int) error {
	c, err := app.client()
	if err != nil {
		return err
	}
	q := url.Values{}
	if version > 0 {
		q.Set("version", strconv.Itoa(version))
	}
	var dc api.DeploymentConfig
	raw, err := c.GetBoth(ctx, "/api/v1/deployments/"+client.Esc(name)+"/config", q, &dc)
	if err != nil {
		return hintf(err, "`phoenix pipeline list-deployments` lists the deployments")
	}
	if p.Format != output.Table {
		return p.Print(raw, nil)
	}
	_, err = io.WriteString(app.Out, dc.YAML)
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

func newPipelineValidateCmd(app *App) *cobra.Command {
	var (
		remote  bool
		otelcol string
	)
	cmd := &cobra.Command{
		Use:   "validate <file>",
		Short: "Check a collector YAML file; print each problem's line, column and reason (exit 4 when invalid)",
		Long: `Check a collector YAML file (or - for stdin) with the catalog's validator:
YAML syntax, the top-level sections, component references and pipelines,
and the settings of the Phoenix components (topk, adaptive_filter,
cardinality, loadgen) as phoenix-otelcol reads them: unknown keys are refused
and each component's own Validate() runs. Files over 1 MiB are refused
(exit 4) before they are parsed.
Each problem is printed as file:line:column: path: reason, and the command
exits with 4 when there is any.

It runs locally and needs no server; --remote asks the server's validator
instead. --otelcol also runs the real collector binary's validate command
(what the agent runs before it applies a config).`,
		Example: `  phoenix pipeline validate my-collector.yaml
  phoenix pipeline show process-topk-v1 | phoenix pipeline validate -
  phoenix pipeline validate my-collector.yaml --otelcol ./bin/phoenix-otelcol`,
		Args: exactArgs("file"),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			p, err := app.printer()
			if err != nil {
				return err
			}
			file := args[0]
			data, err := readFileArg(app, file)
			if err != nil {
				return err
			}
			res := validation{File: file, Problems: []client.Problem{}}
			if remote {
				c, err := app.client()
				if err != nil {
					return err
				}
				if err := c.Do(cmd.Context(), http.MethodPost, "/api/v1/validate", nil, data, &res); err != nil {
					return err
				}
				res.File = file
			} else {
				for _, pr := range pipelines.ValidateYAML(data) {
					res.Problems = append(res.Problems, client.Problem{Line: pr.Line, Column: pr.Column, Path: pr.Path, Message: pr.Message})
				}
			}
			if len(res.Problems) == 0 && otelcol != "" {
				if err := pipelines.ValidateWithBinary(cmd.Context(), otelcol, data); err != nil {
					var be *pipelines.BinaryValidationError
					if !errors.As(err, &be) {
						return fmt.Errorf("--otelcol: %w", err)
					}
					res.Collector = be.Output
				}
			}
			res.Valid = len(res.Problems) == 0 && res.Collector == ""
			if p.Format != output.Table {
				if err := p.Print(res, nil); err != nil {
					return err
				}
			} else if res.Valid {
				fmt.Fprintf(app.Out, "%s: valid\n", file)
			} else {
				for _, pr := range res.Problems {
					fmt.Fprintln(app.Out, problemLine(file, pr))
				}
				if res.Collector != "" {
					fmt.Fprintf(app.Out, "%s: the collector refuses it:\n%s\n", file, indent(res.Collector))
				}
			}
			if !res.Valid {
				n := len(res.Problems)
				what := fmt.Sprintf("%d problem(s)", n)
				if n == 0 {
					what = "the collector's validate failed"
				}
				return validationErr(fmt.Errorf("%s is not a valid collector config: %s", file, what), "")
			}
			return nil
		}),
	}
	cmd.Flags().BoolVar(&remote, "remote", false, "validate with the server's validator instead of locally")
	cmd.Flags().StringVar(&otelcol, "otelcol", "", "also run `<binary> validate` with this phoenix-otelcol binary")
	return cmd
}

type validation struct {
	File      string           `json:"file"`
	Valid     bool             `json:"valid"`
	Problems  []client.Problem `json:"problems"`
	Collector string           `json:"collector_error,omitempty"`
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ")
}

// readFileArg reads a file argument; "-" is stdin.
func readFileArg(app *App, name string) ([]byte, error) {
	if name == "-" {
		return readBounded(app.In, "stdin")
	}
	f, err := os.Open(name)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, notFoundErr(fmt.Errorf("file %s does not exist", name), "")
		}
		return nil, err
	}
	defer f.Close()
	return readBounded(f, name)
}

// readBounded reads at most pipelines.MaxConfigBytes: a larger file is
// refused (exit 4) before it is parsed or handed to a collector.
func readBounded(r io.Reader, name string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, pipelines.MaxConfigBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if len(b) > pipelines.MaxConfigBytes {
		return nil, validationErr(fmt.Errorf("%s is over the limit of %d bytes (%d MiB) for a collector config", name, pipelines.MaxConfigBytes, pipelines.MaxConfigBytes>>20), "")
	}
	return b, nil
}

// watchFlags are --watch and --timeout.
type watchFlags struct {
	watch   bool
	timeout time.Duration
}

func (w *watchFlags) add(cmd *cobra.Command, what string) {
	cmd.Flags().BoolVarP(&w.watch, "watch", "w", false, what+" (streams events; Ctrl-C stops watching)")
	cmd.Flags().DurationVar(&w.timeout, "timeout", 0, "with --watch, give up after this long (exit 1); 0 waits until done or Ctrl-C")
}

func (w watchFlags) context(ctx context.Context) (context.Context, context.CancelFunc) {
	if w.timeout > 0 {
		return context.WithTimeout(ctx, w.timeout)
	}
	return context.WithCancel(ctx)
}

func statusStyle(s string) output.Style {
	switch s {
	case "applied", "running", "finished", "none", "online", "healthy":
		return output.Good
	case "pending", "applying", "offline", "stopped", "degraded":
		return output.Warn
	case "failed", "unhealthy":
		return output.Bad
	}
	return output.Plain
}

func hostRow(t *output.TableWriter, h api.HostStatus) {
	msg := h.Error
	if msg == "" {
		msg = h.Detail
	}
	t.StyledRow(output.Cell{Text: h.Host}, output.Cell{Text: h.Deployment}, output.Cell{Text: versionText(h.Version)},
		output.Cell{Text: h.Status, Style: statusStyle(h.Status)}, output.Cell{Text: ago(h.LastSeen)}, output.Cell{Text: msg})
}

func versionText(v int) string {
	if v == 0 {
		return ""
	}
	return strconv.Itoa(v)
}

// ago is a short age ("12s", "5m", "3h", "2d").
func ago(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := time.Since(t)
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

func deploymentStatusTable(t *output.TableWriter, st api.DeploymentStatus) {
	t.Header("host", "deployment", "version", "status", "last seen", "message")
	t.Empty(fmt.Sprintf("deployment %s: %s (%s)", st.Deployment, st.Status, st.Detail))
	for _, h := range st.Hosts {
		hostRow(t, h)
	}
}

func countsText(st api.DeploymentStatus) string {
	keys := make([]string, 0, len(st.Counts))
	for k := range st.Counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d %s", st.Counts[k], k))
	}
	return strings.Join(parts, ", ")
}

func newPipelineStatusCmd(app *App) *cobra.Command {
	var (
		host string
		w    watchFlags
	)
	cmd := &cobra.Command{
		Use:   "status [deployment]",
		Short: "Show a deployment's hosts and their status (pending, applying, applied, failed, offline)",
		Long: `Show the status of a deployment's hosts, of one host (--target-host), or,
with neither, of every host. --watch streams the changes until the state is
final (applied or failed; exit 1 when failed) or Ctrl-C.`,
		Example: `  phoenix pipeline status web
  phoenix pipeline status web --watch
  phoenix pipeline status --target-host web-1`,
		Args:              maxArgs("deployment"),
		ValidArgsFunction: completeDeployments(app),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			p, c, err := app.printerClient()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			switch {
			case len(args) == 1:
				if w.watch {
					return app.watchDeployment(ctx, c, p, args[0], w)
				}
				q := url.Values{}
				if host != "" {
					q.Set("host", host)
				}
				var st api.DeploymentStatus
				raw, err := c.GetBoth(ctx, "/api/v1/deployments/"+client.Esc(args[0])+"/status", q, &st)
				if err != nil {
					return hintf(err, "`phoenix pipeline list-deployments` lists the deployments")
				}
				if p.Format == output.Table {
					fmt.Fprintf(app.Out, "deployment %s version %d: %s (%s)\n", st.Deployment, st.Version, st.Status, countsOrDetail(st))
				}
				return p.Print(raw, func(t *output.TableWriter) { deploymentStatusTable(t, st) })
			case host != "":
				if w.watch {
					return app.watchHost(ctx, c, p, host, w)
				}
				var hs api.HostStatus
				raw, err := c.GetBoth(ctx, "/api/v1/hosts/"+client.Esc(host), nil, &hs)
				if err != nil {
					return hintf(err, "`phoenix agent list` lists the hosts")
				}
				return p.Print(raw, func(t *output.TableWriter) {
					t.Header("host", "deployment", "version", "status", "last seen", "message")
					hostRow(t, hs)
				})
			default:
				if w.watch {
					return usageErr("--watch needs a deployment or --target-host")
				}
				var resp struct {
					Hosts []api.HostStatus `json:"hosts"`
				}
				raw, err := c.GetBoth(ctx, "/api/v1/hosts", nil, &resp)
				if err != nil {
					return err
				}
				return p.Print(raw, func(t *output.TableWriter) {
					t.Header("host", "deployment", "version", "status", "last seen", "message")
					t.Empty("no hosts: no agent has connected yet")
					for _, h := range resp.Hosts {
						hostRow(t, h)
					}
				})
			}
		}),
	}
	cmd.Flags().StringVar(&host, "target-host", "", "one host: its status (with a deployment: that host only)")
	w.add(cmd, "follow the status until it is final")
	return cmd
}

func countsOrDetail(st api.DeploymentStatus) string {
	s := fmt.Sprintf("%d host(s)", st.Total)
	if c := countsText(st); c != "" {
		s += ": " + c
	}
	if st.Detail != "" {
		s += "; " + st.Detail
	}
	return s
}

func newPipelineActiveConfigCmd(app *App) *cobra.Command {
	var (
		host    string
		desired bool
	)
	cmd := &cobra.Command{
		Use:   "get-active-config [deployment]",
		Short: "Print the collector config a host really runs (as its agent reports it)",
		Long: `Print the config the collector of a host really runs: the effective config
its agent reports after applying it. The agent also adds its own health check
extension and telemetry settings, which it does not report; they are in
<agent data dir>/config/effective.yaml on the host. Give --target-host, or a
deployment to print the config of each
of its hosts. --desired prints what the server wants the host to run
instead. A host that does not run its desired config yet is named on stderr.`,
		Example: `  phoenix pipeline get-active-config --target-host web-1
  phoenix pipeline get-active-config web --desired`,
		Args:              maxArgs("deployment"),
		ValidArgsFunction: completeDeployments(app),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			p, c, err := app.printerClient()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if len(args) == 0 && host == "" {
				return usageErr("give a deployment or --target-host")
			}
			var hostNames []string
			if len(args) == 1 {
				var st api.DeploymentStatus
				q := url.Values{}
				if host != "" {
					q.Set("host", host)
				}
				if err := c.Get(ctx, "/api/v1/deployments/"+client.Esc(args[0])+"/status", q, &st); err != nil {
					return hintf(err, "`phoenix pipeline list-deployments` lists the deployments")
				}
				for _, h := range st.Hosts {
					if h.AgentUID != "" {
						hostNames = append(hostNames, h.Host)
					}
				}
				if len(hostNames) == 0 {
					return notFoundErr(fmt.Errorf("deployment %s has no host with an agent yet", args[0]), "")
				}
			} else {
				hostNames = []string{host}
			}
			var raws []client.Raw
			var docs []string
			for _, h := range hostNames {
				var hc api.HostConfig
				raw, err := c.GetBoth(ctx, "/api/v1/hosts/"+client.Esc(h)+"/config", nil, &hc)
				if err != nil {
					return hintf(err, "`phoenix agent list` lists the hosts")
				}
				raws = append(raws, raw)
				body := hc.Effective.YAML
				if desired {
					body = hc.Desired.YAML
					if hc.Desired.Error != "" {
						fmt.Fprintf(app.Err, "host %s: the desired config does not render: %s\n", h, hc.Desired.Error)
					}
				} else if hc.Effective.YAML == "" {
					fmt.Fprintf(app.Err, "host %s: the agent has not reported an effective config yet\n", h)
				} else if hc.Status != "applied" && hc.Status != "none" {
					fmt.Fprintf(app.Err, "host %s: status %s: this is what runs now, not yet the desired config\n", h, hc.Status)
				}
				if len(hostNames) > 1 {
					body = fmt.Sprintf("# host: %s\n%s", h, body)
				}
				docs = append(docs, body)
			}
			if p.Format != output.Table {
				if len(raws) == 1 {
					return p.Print(raws[0], nil)
				}
				return p.Print(raws, nil)
			}
			_, err = io.WriteString(app.Out, strings.Join(docs, "\n---\n"))
			return err
		}),
	}
	cmd.Flags().StringVar(&host, "target-host", "", "the host whose config to print")
	cmd.Flags().BoolVar(&desired, "desired", false, "print the desired config (what the server wants to run) instead")
	return cmd
}

func newPipelineRollbackCmd(app *App) *cobra.Command {
	var (
		to int
		w  watchFlags
	)
	cmd := &cobra.Command{
		Use:   "rollback <deployment> --to-version N",
		Short: "Roll a deployment back: a new version equal to version N",
		Example: `  phoenix pipeline versions web
  phoenix pipeline rollback web --to-version 1 --watch`,
		Args:              exactArgs("deployment"),
		ValidArgsFunction: completeDeployments(app),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			p, c, err := app.printerClient()
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("to-version") {
				return usageErr("--to-version is required (`phoenix pipeline versions %s` lists the versions)", args[0])
			}
			ctx := cmd.Context()
			var dep api.Deployment
			raw, err := c.DoBoth(ctx, http.MethodPost, "/api/v1/deployments/"+client.Esc(args[0])+"/rollback", map[string]int{"to_version": to}, &dep)
			if err != nil {
				return hintf(err, "`phoenix pipeline versions %s` lists the versions", args[0])
			}
			if p.Format != output.Table {
				if err := p.Print(raw, nil); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(app.Out, "deployment %s rolled back to version %d: now version %d\n", dep.Name, to, dep.Version)
			}
			if w.watch {
				return app.watchDeployment(ctx, c, p, dep.Name, w)
			}
			return nil
		}),
	}
	cmd.Flags().IntVar(&to, "to-version", 0, "the version to return to (required)")
	w.add(cmd, "follow the hosts until the rollback is applied or failed")
	return cmd
}

func newPipelineDeleteCmd(app *App) *cobra.Command {
	var (
		yes bool
		w   watchFlags
	)
	cmd := &cobra.Command{
		Use:   "delete <deployment>",
		Short: "Delete a deployment: its hosts go back to the agent's minimal config (asks first unless --yes)",
		Long: `Delete a deployment and its versions. Its hosts get the empty config: their
agents go back to their minimal safe config (no data pipelines, only the
collector's own telemetry). Asks for confirmation unless --yes is given.
--watch follows the hosts until they run the minimal config.`,
		Args:              exactArgs("deployment"),
		ValidArgsFunction: completeDeployments(app),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			_, c, err := app.printerClient()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			name := args[0]
			var st api.DeploymentStatus
			if err := c.Get(ctx, "/api/v1/deployments/"+client.Esc(name)+"/status", nil, &st); err != nil {
				return hintf(err, "`phoenix pipeline list-deployments` lists the deployments")
			}
			if !yes {
				fmt.Fprintf(app.Err, "Delete deployment %s (version %d, %d host(s))? Its hosts go back to the agent's minimal config. [y/N] ", name, st.Version, st.Total)
				line, _ := bufio.NewReader(app.In).ReadString('\n')
				if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
					return &Error{Code: ExitError, Err: fmt.Errorf("not confirmed: deployment %s was not deleted", name), Hint: "answer y, or pass --yes"}
				}
			}
			if err := c.Delete(ctx, "/api/v1/deployments/"+client.Esc(name), nil); err != nil {
				return err
			}
			fmt.Fprintf(app.Out, "deployment %s deleted\n", name)
			if !w.watch {
				return nil
			}
			var hosts []string
			for _, h := range st.Hosts {
				if h.AgentUID != "" {
					hosts = append(hosts, h.Host)
				}
			}
			return app.watchHostsRelease(ctx, c, hosts, w)
		}),
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	w.add(cmd, "follow the hosts until they run the minimal config")
	return cmd
}

func newPipelineListDeploymentsCmd(app *App) *cobra.Command {
	var status string
	cmd := &cobra.Command{
		Use:   "list-deployments",
		Short: "List the deployments with their version and status",
		Args:  noArgs,
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			p, c, err := app.printerClient()
			if err != nil {
				return err
			}
			switch status {
			case "", "pending", "applying", "applied", "failed", "offline":
			default:
				return usageErr("--status %q: want pending, applying, applied, failed or offline", status)
			}
			q := url.Values{}
			if status != "" {
				q.Set("status", status)
			}
			var resp struct {
				Deployments []api.Deployment `json:"deployments"`
			}
			raw, err := c.GetBoth(cmd.Context(), "/api/v1/deployments", q, &resp)
			if err != nil {
				return err
			}
			return p.Print(raw, func(t *output.TableWriter) {
				t.Header("name", "template", "version", "status", "hosts", "target", "updated")
				t.Empty("no deployments")
				for _, d := range resp.Deployments {
					st, hosts := "", ""
					if d.Status != nil {
						st = d.Status.Status
						hosts = fmt.Sprintf("%d/%d", d.Status.Counts["applied"], d.Status.Total)
					}
					t.StyledRow(output.Cell{Text: d.Name}, output.Cell{Text: specText(d.Template, d.Config)}, output.Cell{Text: strconv.Itoa(d.Version)},
						output.Cell{Text: st, Style: statusStyle(st)}, output.Cell{Text: hosts}, output.Cell{Text: d.Target.String()}, output.Cell{Text: ago(d.UpdatedAt)})
				}
			})
		}),
	}
	cmd.Flags().StringVar(&status, "status", "", "only deployments with this status: pending, applying, applied, failed or offline")
	_ = cmd.RegisterFlagCompletionFunc("status", cobra.FixedCompletions([]string{"pending", "applying", "applied", "failed", "offline"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func newPipelineVersionsCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:               "versions <deployment>",
		Short:             "List a deployment's immutable versions (for rollback)",
		Args:              exactArgs("deployment"),
		ValidArgsFunction: completeDeployments(app),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			p, c, err := app.printerClient()
			if err != nil {
				return err
			}
			var resp struct {
				Versions []api.Version `json:"versions"`
			}
			raw, err := c.GetBoth(cmd.Context(), "/api/v1/deployments/"+client.Esc(args[0])+"/versions", nil, &resp)
			if err != nil {
				return hintf(err, "`phoenix pipeline list-deployments` lists the deployments")
			}
			return p.Print(raw, func(t *output.TableWriter) {
				t.Header("version", "template", "params", "destination", "target", "created", "note")
				for _, v := range resp.Versions {
					note := ""
					if v.RollbackOf > 0 {
						note = fmt.Sprintf("rollback to %d", v.RollbackOf)
					}
					if v.Current {
						note = strings.TrimPrefix(note+", current", ", ")
					}
					t.Row(strconv.Itoa(v.Version), specText(v.Template, v.Config), paramsText(v.Params), destText(v.Destination), v.Target.String(), ago(v.CreatedAt), note)
				}
			})
		}),
	}
}

// valueText shows a parameter value as a user would type it in --param.
// specText is a version's template, or "raw config (N bytes)" for a raw one.
func specText(template, config string) string {
	if config != "" {
		return fmt.Sprintf("raw config (%d bytes)", len(config))
	}
	return template
}

func valueText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = valueText(e)
		}
		return strings.Join(parts, ",")
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + "=" + valueText(x[k])
		}
		return strings.Join(parts, ",")
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func paramsText(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+"="+valueText(m[k]))
	}
	return strings.Join(parts, ",")
}

func destText(d api.Destination) string {
	if d.Endpoint == "" {
		return d.Type
	}
	return d.Type + "=" + d.Endpoint
}
