package acceptance

import (
	"testing"
)

// AT-P09: the console's experiment view in a real browser.
func atP09ConsoleExperiment(t *testing.T) {
	a := begin(t, "AT-P09", "The console's experiment view shows both variants' KPIs and the verdict, in a real browser",
		"both variants' KPIs and the verdict read from the page in Chromium", false)
	if why := experimentsMissing(); why != "" {
		a.Skipf("%s", why)
	}
	if why := pathMissing("console/e2e", "the console's browser tests: issue 14"); why != "" {
		a.Skipf("%s", why)
	}
	a.Skipf("the console's experiment view is not covered by this suite yet")
}

// AT-P13: install on a plain VM with the packages and systemd units.
func atP13Packages(t *testing.T) {
	a := begin(t, "AT-P13", "Deployment to a plain VM with the packages and systemd units of the packaging issue: install, enrol, deploy, uninstall",
		"the .deb installs into a fresh root, the agent enrols and applies a deployment, removal leaves no process", false)
	if why := packagesMissing(); why != "" {
		a.Skipf("%s", why)
	}
	a.Skipf("packages are in the tree but this test is not written yet")
}
