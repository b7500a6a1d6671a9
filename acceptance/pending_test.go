package acceptance

import (
	"testing"
)

// AT-P13: install on a plain VM with the packages and systemd units.
func atP13Packages(t *testing.T) {
	a := begin(t, "AT-P13", "Deployment to a plain VM with the packages and systemd units of the packaging issue: install, enrol, deploy, uninstall",
		"the .deb installs into a fresh root, the agent enrols and applies a deployment, removal leaves no process", false)
	if why := packagesMissing(); why != "" {
		a.Skipf("%s", why)
	}
	a.Skipf("the packages are in this tree (make dist, deploy/systemd), but this suite does not install them yet: building them (make dist, the collector cross-built) does not fit its time budget; the packaging issue's own install test (make test-deploy) is where install, enrol, deploy and removal are checked today")
}
