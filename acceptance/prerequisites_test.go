package acceptance

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// The tests below depend on parts other issues build. Each checks its
// prerequisite in the tree it runs on and is SKIPPED, with the reason, while
// it is missing: never passed.

// hasCLICommand reports whether bin/phoenix has the command (for example
// "experiment create").
func hasCLICommand(words ...string) bool {
	if s.bins.CLI == "" {
		return false
	}
	out, err := exec.Command(s.bins.CLI, append(words, "--help")...).CombinedOutput()
	return err == nil && strings.Contains(string(out), "phoenix "+strings.Join(words, " "))
}

// experimentsMissing is the reason the experiment tests cannot run, or "".
func experimentsMissing() string {
	for _, c := range [][]string{{"experiment", "create"}, {"experiment", "compare"}, {"experiment", "promote"}, {"experiment", "status"}} {
		if !hasCLICommand(c...) {
			return "`phoenix " + strings.Join(c, " ") + "` is not in this tree yet (experiments: issue 13)"
		}
	}
	return ""
}

// pathMissing is the reason when a path of the repository does not exist.
func pathMissing(rel, what string) string {
	if _, err := os.Stat(filepath.Join(s.root, rel)); err != nil {
		return rel + " is not in this tree yet (" + what + ")"
	}
	return ""
}

// chromiumMissing is the reason the browser tests cannot run, or "".
func chromiumMissing() string {
	for _, p := range []string{os.Getenv("PHOENIX_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return ""
		}
	}
	return "no Chromium (Debian: apt-get install chromium; .ci/run installs it)"
}
