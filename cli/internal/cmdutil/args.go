package cmdutil

import (
	"strings"

	"github.com/spf13/cobra"
)

// ExactArgs, MaxArgs and NoArgs are cobra's with usage exit codes and the
// arguments named.
func ExactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != len(names) {
			if len(args) < len(names) {
				return UsageError("%s: missing %s", cmd.CommandPath(), strings.Join(names[len(args):], " and "))
			}
			return UsageError("%s takes %d argument(s) (%s), got %d: %s", cmd.CommandPath(), len(names), strings.Join(names, ", "), len(args), strings.Join(args, " "))
		}
		return nil
	}
}

// MaxArgs allows at most the named arguments.
func MaxArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > len(names) {
			return UsageError("%s takes at most %d argument(s) (%s), got %d: %s", cmd.CommandPath(), len(names), strings.Join(names, ", "), len(args), strings.Join(args, " "))
		}
		return nil
	}
}

// NoArgs allows no argument.
func NoArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return UsageError("%s takes no arguments, got %s", cmd.CommandPath(), strings.Join(args, " "))
	}
	return nil
}
