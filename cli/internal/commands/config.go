package commands

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/cliconfig"
	"github.com/phoenix-otel/phoenix/cli/internal/output"
)

func newConfigCmd(app *App) *cobra.Command {
	cmd := newGroup("config", "Set and view the server URL, API token and CA file the CLI uses",
		`The config file (~/.config/phoenix/config.yaml on Linux, or $PHOENIX_CONFIG)
holds defaults for --server, --token and --ca-file. Flags win over
$PHOENIX_SERVER / $PHOENIX_TOKEN / $PHOENIX_CA_FILE, which win over the file.`)
	cmd.AddCommand(
		newConfigSetCmd(app, "set-server", "<url>", "Set the phoenix-server URL", func(f *cliconfig.File, v string) error {
			s, err := cliconfig.CheckServer(v)
			if err != nil {
				return validationErr(err, "")
			}
			f.Server = s
			return nil
		}),
		newConfigSetCmd(app, "set-token", "<token>", "Set the API token (stored with mode 0600; \"-\" reads it from stdin)", func(f *cliconfig.File, v string) error {
			f.Token = v
			return nil
		}),
		newConfigSetCmd(app, "set-ca-file", "<path>", "Set the PEM CA bundle that verifies an https:// server", func(f *cliconfig.File, v string) error {
			f.CAFile = v
			return nil
		}),
		newConfigViewCmd(app),
	)
	return cmd
}

func newConfigSetCmd(app *App, use, arg, short string, set func(*cliconfig.File, string) error) *cobra.Command {
	name := strings.TrimPrefix(use, "set-")
	return &cobra.Command{
		Use:   use + " " + arg,
		Short: short,
		Long:  short + ". An empty value (\"\") removes the setting from the config file.",
		Args:  exactArgs(arg),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			v := args[0]
			if v == "-" && use == "set-token" {
				var line string
				if _, err := fmt.Fscanln(app.In, &line); err != nil {
					return fmt.Errorf("reading the token from stdin: %w", err)
				}
				v = strings.TrimSpace(line)
			}
			path, err := cliconfig.DefaultPath(app.Getenv)
			if err != nil {
				return err
			}
			f, err := cliconfig.Load(path)
			if err != nil {
				return err
			}
			if v == "" {
				switch name {
				case "server":
					f.Server = ""
				case "token":
					f.Token = ""
				case "ca-file":
					f.CAFile = ""
				}
			} else if err := set(&f, v); err != nil {
				return err
			}
			if err := cliconfig.Save(path, f); err != nil {
				return err
			}
			fmt.Fprintf(app.Out, "%s saved in %s\n", name, path)
			return nil
		}),
	}
}

func newConfigViewCmd(app *App) *cobra.Command {
	var showToken bool
	cmd := &cobra.Command{
		Use:   "view",
		Short: "Show the settings in effect and where each comes from (the token is masked)",
		Args:  noArgs,
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			p, err := app.printer()
			if err != nil {
				return err
			}
			s, err := app.settings()
			if err != nil {
				return err
			}
			if !showToken {
				s.Token.Value = cliconfig.Mask(s.Token.Value)
			}
			return p.Print(s, func(t *output.TableWriter) {
				t.Header("setting", "value", "source")
				row := func(name string, v cliconfig.Value) {
					src := string(v.Source)
					if v.Path != "" {
						src += " (" + v.Path + ")"
					}
					t.Row(name, v.Value, src)
				}
				row("server", s.Server)
				row("token", s.Token)
				row("ca-file", s.CAFile)
				t.Row("config-file", s.ConfigPath, "")
			})
		}),
	}
	cmd.Flags().BoolVar(&showToken, "show-token", false, "print the token in full")
	return cmd
}
