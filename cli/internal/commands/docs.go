package commands

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// DocsDir is where the CLI reference lives, relative to the repository root.
const DocsDir = "docs/cli"

func newGenDocsCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:    "gen-docs [dir]",
		Short:  "Write the CLI reference (Markdown) into dir (default " + DocsDir + ")",
		Hidden: true,
		Args:   maxArgs("dir"),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			dir := DocsDir
			if len(args) == 1 {
				dir = args[0]
			}
			n, err := GenDocs(cmd.Root(), dir)
			if err != nil {
				return err
			}
			fmt.Fprintf(app.Out, "wrote %d pages into %s\n", n, dir)
			return nil
		}),
	}
}

// GenDocs writes one Markdown page per visible command into dir, removing
// pages of commands that no longer exist, and returns the page count.
func GenDocs(root *cobra.Command, dir string) (int, error) {
	root.DisableAutoGenTag = true // no date: the pages must be reproducible
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	old, _ := filepath.Glob(filepath.Join(dir, "phoenix*.md"))
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			return 0, err
		}
	}
	if err := doc.GenMarkdownTreeCustom(root, dir, func(string) string { return "" }, func(name string) string {
		return strings.ToLower(name)
	}); err != nil {
		return 0, err
	}
	pages, _ := filepath.Glob(filepath.Join(dir, "phoenix*.md"))
	return len(pages), nil
}
