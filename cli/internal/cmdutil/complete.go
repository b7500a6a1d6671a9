package cmdutil

import (
	"context"
	"net/url"
	"time"

	"github.com/spf13/cobra"
)

// Complete completes a command's first argument from the server: it decodes
// the answer to GET path?q into a T and lines turns that into
// "name\tdescription" completions. No answer within 3s completes nothing.
func Complete[T any](f *Factory, path string, q url.Values, lines func(T) []string) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		c, err := f.Client()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ctx, cancel := context.WithTimeout(cmd.Context(), 3*time.Second)
		defer cancel()
		var v T
		if c.Get(ctx, path, q, &v) != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return lines(v), cobra.ShellCompDirectiveNoFileComp
	}
}
