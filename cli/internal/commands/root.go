// Package commands is the phoenix CLI: a cobra command tree over
// phoenix-server's REST API, in noun–verb form (`phoenix pipeline deploy`),
// with -o table|json|yaml on every read command, --watch on the status
// commands, and exit codes that scripts can trust (see errors.go).
package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/cliconfig"
	"github.com/phoenix-otel/phoenix/cli/internal/client"
	"github.com/phoenix-otel/phoenix/cli/internal/cmd/experiment"
	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
	"github.com/phoenix-otel/phoenix/cli/internal/output"
	"github.com/phoenix-otel/phoenix/internal/buildinfo"
)

// Streams are the command's standard streams.
type Streams struct {
	In       io.Reader
	Out, Err io.Writer
}

// App is the state shared by every command of one invocation.
type App struct {
	Streams
	Getenv func(string) string

	// Global flags as given.
	flags      cliconfig.Flags
	outputFlag string

	// Terminal overrides output detection (tests).
	Terminal *output.Terminal
}

// Main runs the CLI with args and returns the exit code.
func Main(ctx context.Context, args []string, s Streams, getenv func(string) string) int {
	if getenv == nil {
		getenv = os.Getenv
	}
	app := &App{Streams: s, Getenv: getenv}
	root := NewRoot(app)
	root.SetArgs(args)
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	fromRun := false
	if _, ok := errors.AsType[*cmdutil.RunError](err); ok {
		fromRun = true
	}
	e := classify(err, fromRun, app.serverForHint())
	fmt.Fprint(s.Err, formatError(e))
	if e.Code == ExitUsage && cmd != nil {
		fmt.Fprintf(s.Err, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
	return e.Code
}

// run wraps a command body (its errors are not usage errors).
var run = cmdutil.Run

// NewRoot builds the command tree.
func NewRoot(app *App) *cobra.Command {
	root := &cobra.Command{
		Use:   "phoenix",
		Short: "Command-line client of phoenix-server: pipelines, deployments, load simulations and the fleet",
		Long: `phoenix drives phoenix-server, the Phoenix control plane: it lists the
pipeline catalog, deploys pipelines to hosts and follows them until they are
applied, rolls them back, runs load simulations, and shows the fleet.

The server URL and API token come from, in this order: the --server and
--token flags, $PHOENIX_SERVER and $PHOENIX_TOKEN, the config file
(` + "`phoenix config`" + `), and for the token, the file a local phoenix-server
wrote into its data directory (./data, or $PHOENIX_DATA_DIR).

Exit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 validation failed.`,
		SilenceErrors: true,
		SilenceUsage:  true,
		// Unknown subcommands are usage errors (exit 2), not help.
		Args: groupArgs,
		RunE: groupRun,
		// Completion gets no extra descriptions of the hidden commands.
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: false},
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &Error{Code: ExitUsage, Err: err}
	})
	pf := root.PersistentFlags()
	pf.StringVar(&app.flags.Server, "server", "", "phoenix-server URL (default $PHOENIX_SERVER, the config file, or "+cliconfig.DefaultServer+")")
	pf.StringVar(&app.flags.Token, "token", "", "API token (default $PHOENIX_TOKEN, the config file, or a local server's token file)")
	pf.StringVar(&app.flags.CAFile, "ca-file", "", "PEM CA bundle to verify an https:// server (default $PHOENIX_CA_FILE or the config file)")
	pf.StringVarP(&app.outputFlag, "output", "o", "table", "output format: "+strings.Join(output.Formats(), ", "))
	_ = root.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(output.Formats(), cobra.ShellCompDirectiveNoFileComp))

	root.AddGroup(
		&cobra.Group{ID: "main", Title: "Pipelines and load:"},
		&cobra.Group{ID: "fleet", Title: "Fleet:"},
		&cobra.Group{ID: "setup", Title: "Settings and tools:"},
	)
	for _, c := range []*cobra.Command{newPipelineCmd(app), newLoadSimCmd(app)} {
		c.GroupID = "main"
		root.AddCommand(c)
	}
	exp := experiment.NewCmd(app.factory())
	exp.GroupID = "main"
	root.AddCommand(exp)
	for _, c := range []*cobra.Command{newAgentCmd(app)} {
		c.GroupID = "fleet"
		root.AddCommand(c)
	}
	for _, c := range []*cobra.Command{newConfigCmd(app), newVersionCmd(app)} {
		c.GroupID = "setup"
		root.AddCommand(c)
	}
	root.SetHelpCommandGroupID("setup")
	root.SetCompletionCommandGroupID("setup")
	root.AddCommand(newGenDocsCmd(app))
	return root
}

// groupArgs refuses an unknown subcommand of a command group with exit 2
// (cobra would otherwise print the group's help and exit 0).
func groupArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErr("unknown command %q for %q%s", args[0], cmd.CommandPath(), suggest(cmd, args[0]))
	}
	return nil
}

func suggest(cmd *cobra.Command, arg string) string {
	if s := cmd.SuggestionsFor(arg); len(s) > 0 {
		return " (did you mean " + strings.Join(s, " or ") + "?)"
	}
	return ""
}

// groupRun prints a group's help.
func groupRun(cmd *cobra.Command, _ []string) error { return cmd.Help() }

// newGroup returns a noun command whose verbs are subcommands.
func newGroup(use, short, long string) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, Long: long, Args: groupArgs, RunE: groupRun}
}

// exactArgs, maxArgs and noArgs are cobra's with usage exit codes and the
// arguments named.
var (
	exactArgs = cmdutil.ExactArgs
	maxArgs   = cmdutil.MaxArgs
	noArgs    = cmdutil.NoArgs
)

// settings resolves the server, token and CA file.
func (app *App) settings() (cliconfig.Settings, error) {
	path, err := cliconfig.DefaultPath(app.Getenv)
	if err != nil {
		return cliconfig.Settings{}, err
	}
	f, err := cliconfig.Load(path)
	if err != nil {
		return cliconfig.Settings{}, err
	}
	return cliconfig.Resolve(app.flags, app.Getenv, path, f), nil
}

// client returns a client of the resolved server.
func (app *App) client() (*client.Client, error) {
	s, err := app.settings()
	if err != nil {
		return nil, err
	}
	base, err := cliconfig.CheckServer(s.Server.Value)
	if err != nil {
		return nil, usageErr("%v (from %s)", err, s.Server.Source)
	}
	return client.New(base, s.Token.Value, s.CAFile.Value)
}

// serverForHint names the server in connection errors, best effort.
func (app *App) serverForHint() string {
	s, err := app.settings()
	if err != nil {
		return app.flags.Server
	}
	return s.Server.Value
}

// factory is what the command packages under cli/internal/cmd get.
func (app *App) factory() *cmdutil.Factory {
	return &cmdutil.Factory{In: app.In, Out: app.Out, Err: app.Err, Client: app.client, Printer: app.printer,
		OutputFlag: func() string { return app.outputFlag }}
}

// printer returns the printer for -o.
func (app *App) printer() (*output.Printer, error) {
	f, err := output.ParseFormat(app.outputFlag)
	if err != nil {
		return nil, usageErr("%v", err)
	}
	t := output.Detect(app.Out)
	if app.Terminal != nil {
		t = *app.Terminal
	}
	return &output.Printer{W: app.Out, Format: f, Term: t}, nil
}

func newVersionCmd(app *App) *cobra.Command {
	var short bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the CLI's version (and the server's, when it answers)",
		Args:  noArgs,
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			p, err := app.printer()
			if err != nil {
				return err
			}
			v := versionInfo{Client: buildInfo{Version: buildinfo.Version, Commit: buildinfo.Commit, Date: buildinfo.Date}}
			if !short {
				if c, err := app.client(); err == nil {
					var sv buildInfo
					if err := c.Get(cmd.Context(), "/api/v1/info", nil, &sv); err == nil {
						v.Server = &sv
					} else {
						v.ServerError = client.Brief(err)
					}
				}
			}
			return p.Print(v, func(t *output.TableWriter) {
				t.Row("client:", buildinfo.String())
				if v.Server != nil {
					t.Row("server:", fmt.Sprintf("%s (commit %s, built %s)", v.Server.Version, v.Server.Commit, v.Server.Date))
				} else if v.ServerError != "" {
					t.Row("server:", "unknown ("+v.ServerError+")")
				}
			})
		}),
	}
	cmd.Flags().BoolVar(&short, "client", false, "print the client's version only; do not ask the server")
	return cmd
}

type buildInfo struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
	Date    string `json:"build_date"`
}

type versionInfo struct {
	Client      buildInfo  `json:"client"`
	Server      *buildInfo `json:"server,omitempty"`
	ServerError string     `json:"server_error,omitempty"`
}
