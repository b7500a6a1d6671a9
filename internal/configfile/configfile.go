// Package configfile gives a cobra command a --config flag: a YAML file
// whose keys are the command's own flag names, so a packaged service keeps
// its settings in /etc/phoenix/ instead of a long ExecStart line.
//
//	server: wss://phoenix.example.net:4320/v1/opamp
//	token-file: /etc/phoenix/enrollment-token
//	label: [env=prod, team=web]
//
// A flag given on the command line wins over the file. An unknown key, a
// value the flag refuses, and a secret (token) in a file that other users
// can read are errors that name the file and the key.
package configfile

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// FlagName is the name of the flag Register adds.
const FlagName = "config"

// secretKeys may only come from a file that no other user can read.
var secretKeys = map[string]bool{"token": true}

// Register adds --config to cmd; the file is applied before cmd runs (ahead
// of any PreRunE cmd already has).
func Register(cmd *cobra.Command) {
	cmd.Flags().String(FlagName, "", "YAML file of settings, keyed by flag name (e.g. /etc/phoenix/agent.yaml); flags given on the command line win")
	prev := cmd.PreRunE
	cmd.PreRunE = func(c *cobra.Command, args []string) error {
		path, _ := c.Flags().GetString(FlagName)
		if path != "" {
			if err := Apply(c.Flags(), path); err != nil {
				return err
			}
		}
		if prev != nil {
			return prev(c, args)
		}
		return nil
	}
}

// Apply sets, from the file at path, every flag of fs that was not set on
// the command line.
func Apply(fs *pflag.FlagSet, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("--config: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("--config %s: not YAML: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return nil // empty file: nothing to set
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("--config %s: line %d: want a mapping of flag names to values", path, root.Line)
	}
	var errs []error
	seen := map[string]bool{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		key := k.Value
		at := fmt.Sprintf("--config %s: line %d: %s", path, k.Line, key)
		if seen[key] {
			errs = append(errs, fmt.Errorf("%s: given twice", at))
			continue
		}
		seen[key] = true
		f := fs.Lookup(key)
		if f == nil || key == FlagName || key == "help" || key == "version" {
			errs = append(errs, fmt.Errorf("%s: unknown setting (known: %s)", at, strings.Join(known(fs), ", ")))
			continue
		}
		if secretKeys[key] {
			if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
				errs = append(errs, fmt.Errorf("%s: a secret in a file other users can read (mode %v): chmod 600 it, or use %s-file", at, st.Mode().Perm(), key))
				continue
			}
		}
		values, err := scalars(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", at, err))
			continue
		}
		if f.Changed {
			continue // the command line wins
		}
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			if err := sv.Replace(values); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", at, err))
			}
			continue
		}
		if len(values) != 1 {
			errs = append(errs, fmt.Errorf("%s: takes one value, got a list", at))
			continue
		}
		if err := f.Value.Set(values[0]); err != nil {
			errs = append(errs, fmt.Errorf("%s: %q: %w", at, values[0], err))
		}
	}
	return errors.Join(errs...)
}

// scalars reads a value node: one scalar, or a list of scalars.
func scalars(v *yaml.Node) ([]string, error) {
	switch v.Kind {
	case yaml.ScalarNode:
		if v.Tag == "!!null" {
			return nil, errors.New("no value")
		}
		return []string{v.Value}, nil
	case yaml.SequenceNode:
		out := make([]string, 0, len(v.Content))
		for _, e := range v.Content {
			if e.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: list items must be plain values", e.Line)
			}
			out = append(out, e.Value)
		}
		return out, nil
	}
	return nil, errors.New("want a value or a list of values, not a mapping")
}

func known(fs *pflag.FlagSet) []string {
	var out []string
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Name != FlagName && f.Name != "help" && f.Name != "version" {
			out = append(out, f.Name)
		}
	})
	sort.Strings(out)
	return out
}
