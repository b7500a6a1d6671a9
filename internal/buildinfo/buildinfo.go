// Package buildinfo holds the version, commit and build date of every Phoenix
// binary. The Makefile sets them with -ldflags "-X ...".
package buildinfo

import "fmt"

var (
	// Version is the release or `git describe` of the build.
	Version = "dev"
	// Commit is the git commit the binary was built from.
	Commit = "unknown"
	// Date is the UTC build time in RFC 3339.
	Date = "unknown"
)

// String is the one-line form printed by `--version` and `version` commands.
func String() string {
	return fmt.Sprintf("%s (commit %s, built %s)", Version, Commit, Date)
}
