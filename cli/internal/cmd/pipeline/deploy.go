package pipeline

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/client"
	"github.com/phoenix-otel/phoenix/cli/internal/cmd/pipeline/rollout"
	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
	"github.com/phoenix-otel/phoenix/cli/internal/output"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
	"github.com/phoenix-otel/phoenix/pipelines"
)

// DeployOptions are the flags of `phoenix pipeline deploy`.
type DeployOptions struct {
	Template string
	File     string // a raw config: the user's own collector YAML ("-": stdin)
	Name     string
	Hosts    []string
	Selector []string
	Params   []string
	Dest     DestFlags
	Rollout  RolloutFlags
	Watch    bool
	Timeout  time.Duration
}

// NewDeployCmd is `phoenix pipeline deploy`.
func NewDeployCmd(f *cmdutil.Factory) *cobra.Command {
	o := &DeployOptions{}
	cmd := &cobra.Command{
		Use:   "deploy (<template> | --file <config.yaml>)",
		Short: "Deploy a template or your own collector config to hosts (a new deployment, or a new version of an existing one)",
		Long: `Deploy a catalog template, or your own collector config (--file), to hosts
chosen by --host names and/or a --selector of agent labels. When the
deployment --name exists, a new version is created from the current one: the
template or config, the --param set (as a whole: parameters not given take
their defaults), the target (--host/--selector) and the --destination are
replaced when given, and kept when not.

A raw config (--file) is checked here as ` + "`phoenix pipeline validate`" + ` checks it,
then by the server, and reaches the agents as the very bytes of the file. It
has its own exporters (no --destination, no --param). It must not carry a
credential in clear: a header such as authorization or x-api-key refers to
the agent host's environment, "Bearer ${env:MY_TOKEN}"; ${file:...} and the
agent's own PHOENIX_ variables (but PHOENIX_HOST_NAME) are refused.

A host belongs to one deployment at a time: a target that overlaps another
deployment is refused, naming it. Bad parameters or a bad config are refused
with exit 4 before anything changes. --watch follows the hosts until every
one has applied the config or failed (exit 1 when any failed).

A new version rolls out in stages (see ` + "`phoenix pipeline rollout`" + `): a first batch
of 3 hosts, then x5 up to 10% of the hosts (at least 100), each applied and
healthy for 30s before the next; a failing host pauses it and the hosts not
reached keep the previous version. --watch then follows the rollout until it
completes (exit 0), pauses or is aborted (exit 1). --rollout all-at-once
skips the stages for this version; the --rollout-* flags change them.`,
		Example: `  phoenix pipeline deploy process-topk-v1 --name web --host web-1 --param k=20 --destination otlphttp=http://gateway:4318 --watch
  phoenix pipeline deploy process-priority-based-v1 --name db --selector role=db --destination debug
  phoenix pipeline deploy --file my-collector.yaml --name team-a --selector team=a --watch`,
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case len(args) > 1:
				return cmdutil.UsageError("%s takes one template, got %d arguments: %s", cmd.CommandPath(), len(args), strings.Join(args, " "))
			case len(args) == 1 && o.File != "":
				return cmdutil.UsageError("give a template or --file, not both")
			case len(args) == 0 && o.File == "":
				return cmdutil.UsageError("%s: missing template (or --file <config.yaml> for your own collector config)", cmd.CommandPath())
			}
			return nil
		},
		ValidArgsFunction: CompleteTemplates,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.Template = args[0]
			}
			return o.Run(cmd.Context(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&o.File, "file", "f", "", "deploy this collector YAML (your own config) instead of a template; - reads stdin")
	fl.StringVar(&o.Name, "name", "", "deployment name (required): 1-63 lower-case letters, digits and '-'")
	fl.StringArrayVar(&o.Hosts, "host", nil, "target host name, repeatable")
	fl.StringArrayVar(&o.Selector, "selector", nil, "target agent label key=value, repeatable (all must match)")
	fl.StringArrayVar(&o.Params, "param", nil, "template parameter name=value; repeat a name for a list, or give a JSON array/object (see `phoenix pipeline show <template> --params`)")
	o.Dest.Add(cmd)
	o.Rollout.Add(cmd)
	fl.BoolVarP(&o.Watch, "watch", "w", false, "follow the hosts until the config is applied or failed (streams events; Ctrl-C stops watching)")
	fl.DurationVar(&o.Timeout, "timeout", 0, "with --watch, give up after this long (exit 1); 0 waits until done or Ctrl-C")
	return cmd
}

// Request builds the API request from the options (in reads --file -).
func (o *DeployOptions) Request(in io.Reader) (api.DeploymentRequest, error) {
	if o.Name == "" {
		return api.DeploymentRequest{}, cmdutil.UsageError("--name is required: the deployment's name (e.g. --name web)")
	}
	req := api.DeploymentRequest{Template: o.Template}
	if o.File != "" {
		if len(o.Params) > 0 || o.Dest.Given() {
			return req, cmdutil.UsageError("--file takes no --param or --destination: a raw config has its own settings and exporters")
		}
		data, err := readConfig(in, o.File)
		if err != nil {
			return req, err
		}
		if ps := pipelines.ValidateRaw(data); len(ps) > 0 {
			lines := make([]string, len(ps))
			for i, p := range ps {
				lines[i] = fmt.Sprintf("%s:%s", o.File, p.String())
			}
			return req, &cmdutil.ExitError{Code: cmdutil.ExitValidation,
				Err:  fmt.Errorf("%s is not a deployable config: %d problem(s):\n  %s", o.File, len(ps), strings.Join(lines, "\n  ")),
				Hint: "nothing was sent; `phoenix pipeline validate " + o.File + "` checks a file"}
		}
		req.Config = string(data)
	} else {
		ps, err := ParseParams(o.Params)
		if err != nil {
			return req, err
		}
		d, err := o.Dest.Parse()
		if err != nil {
			return req, err
		}
		req.Params, req.Destination = ps, d
	}
	sel, err := ParseKV("selector", o.Selector)
	if err != nil {
		return req, err
	}
	if len(o.Hosts) > 0 || len(sel) > 0 {
		req.Target = &api.Target{Hosts: o.Hosts, Selector: sel}
	}
	if req.Rollout, err = o.Rollout.Policy(); err != nil {
		return req, err
	}
	return req, nil
}

// Run deploys: a new deployment (POST) or a new version (PUT).
func (o *DeployOptions) Run(ctx context.Context, f *cmdutil.Factory) error {
	req, err := o.Request(f.In)
	if err != nil {
		return err
	}
	p, err := f.Printer()
	if err != nil {
		return err
	}
	c, err := f.Client()
	if err != nil {
		return err
	}
	// One key for this deploy: a retry of the same write (by the user,
	// after a lost answer) is answered from the first one.
	wc := c.WithHeader("Idempotency-Key", newIdempotencyKey())
	var dep api.Deployment
	path := "/api/v1/deployments/" + client.Esc(o.Name)
	err = c.Get(ctx, path, nil, &dep)
	var raw client.Raw
	verb, sent := "created", false
	switch {
	case err == nil:
		verb, sent = "updated", true
		raw, err = wc.DoBoth(ctx, http.MethodPut, path, req, &dep)
	case isNotFound(err):
		if req.Target == nil {
			return cmdutil.UsageError("a new deployment needs a target: --host <name> and/or --selector key=value")
		}
		req.Name, sent = o.Name, true
		raw, err = wc.DoBoth(ctx, http.MethodPost, "/api/v1/deployments", req, &dep)
	}
	var ce *client.ConnError
	if errors.As(err, &ce) && sent {
		// The request may have reached the server: do not suggest that
		// nothing happened.
		return &cmdutil.ExitError{Code: cmdutil.ExitFailure, Err: fmt.Errorf("the answer to the deploy was lost (%v); the deployment may have been stored and applied", ce.Err),
			Hint: fmt.Sprintf("check with `phoenix pipeline status %s`; running the same deploy again is safe: a spec equal to the current version stores nothing", o.Name)}
	}
	if err != nil {
		return err
	}
	for _, w := range dep.Warnings {
		fmt.Fprintf(f.Err, "warning: %s\n", w)
	}
	if p.Format != output.Table {
		if err := p.Print(raw, nil); err != nil {
			return err
		}
	} else {
		if dep.Unchanged {
			verb = "unchanged (this spec is already the current version; nothing was written)"
		}
		what := "template " + dep.Template
		if dep.Config != "" {
			what = fmt.Sprintf("raw config (%d bytes, sha256 %s)", len(dep.Config), shortSHA(dep.Config))
		}
		fmt.Fprintf(f.Out, "deployment %s %s: version %d, %s, target %s\n", dep.Name, verb, dep.Version, what, dep.Target)
	}
	if o.Watch {
		if dep.Version > 1 && !dep.Unchanged && o.Rollout.Strategy != api.RolloutAllAtOnce {
			// A new version rolls out in stages: follow the rollout to its
			// end, then the hosts' final status as for any deploy.
			if err := rollout.Watch(ctx, f, dep.Name, o.Timeout); err != nil {
				return err
			}
		}
		return WatchDeployment(ctx, f.Out, c, p, dep.Name, cmdutil.WatchFlags{Watch: true, Timeout: o.Timeout})
	}
	return nil
}

// readConfig reads a config file ("-": in), refusing one over
// pipelines.MaxConfigBytes before it is parsed.
func readConfig(in io.Reader, name string) ([]byte, error) {
	r := in
	if name != "-" {
		fh, err := os.Open(name)
		if errors.Is(err, os.ErrNotExist) {
			return nil, &cmdutil.ExitError{Code: cmdutil.ExitNotFound, Err: fmt.Errorf("file %s does not exist", name)}
		}
		if err != nil {
			return nil, err
		}
		defer fh.Close()
		r = fh
	}
	b, err := io.ReadAll(io.LimitReader(r, pipelines.MaxConfigBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if len(b) > pipelines.MaxConfigBytes {
		return nil, &cmdutil.ExitError{Code: cmdutil.ExitValidation, Err: fmt.Errorf("%s is over the limit of %d bytes for a collector config", name, pipelines.MaxConfigBytes)}
	}
	return b, nil
}

func shortSHA(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:6])
}

// newIdempotencyKey is a random key for one write.
func newIdempotencyKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func isNotFound(err error) bool {
	var ae *client.APIError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound
}
