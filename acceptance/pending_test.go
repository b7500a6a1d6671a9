package acceptance

import (
	"testing"
)

// AT-P04: an experiment of baseline against process-aggregated-v1; the
// candidate's output below the baseline's in `experiment compare`.
func TestATP04ExperimentCompare(t *testing.T) {
	a := begin(t, "AT-P04",
		"An experiment of baseline against `process-aggregated-v1`: `experiment compare` shows the candidate's output below the baseline's. Also: adaptive filter under process churn moves its output inversely with load",
		"candidate output series < baseline's in `experiment compare`, significant; adaptive filter's output falls as load rises", true)
	if why := experimentsMissing(); why != "" {
		a.Skipf("%s", why)
	}
	a.Skipf("experiments are in the tree but this test is not written yet")
}

// AT-P05: both variants of the AT-P04 experiment keep every critical process.
func TestATP05ExperimentCriticalRetention(t *testing.T) {
	a := begin(t, "AT-P05", "Both variants of that experiment keep 100% of critical processes",
		"critical retention 100% in every interval, both variants", true)
	if why := experimentsMissing(); why != "" {
		a.Skipf("%s", why)
	}
	a.Skipf("experiments are in the tree but this test is not written yet")
}

// AT-P07: `experiment create` with bad input is refused and changes nothing.
func TestATP07ExperimentBadInput(t *testing.T) {
	a := begin(t, "AT-P07", "`experiment create` with bad input is refused with a clear error, and nothing changes",
		"non-zero exit naming the field, for each bad input; experiments and hosts' configs unchanged", false)
	if why := experimentsMissing(); why != "" {
		a.Skipf("%s", why)
	}
	a.Skipf("experiments are in the tree but this test is not written yet")
}

// AT-P09: the console's experiment view in a real browser.
func TestATP09ConsoleExperiment(t *testing.T) {
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

// AT-P10: promote reaches every host within 5 minutes; the collector's
// overhead at 500 processes.
func TestATP10PromoteAndOverhead(t *testing.T) {
	a := begin(t, "AT-P10",
		"`experiment promote` reaches every target host within 5 minutes. Also, the collector running `process-baseline-v1` on an idle host uses under 5% of one core and under 100 MiB (our bound: under 2% of one core, and no more CPU or RSS than the scraper-with-exporter floor, with 500 processes at a 10 s scrape)",
		"promote -> all hosts applied < 5 min; collector CPU < 2% of one core and RSS < 100 MiB and <= the floor, 500 processes, 10 s scrape", true)
	if why := pathMissing("benchmarks/overhead", "the overhead benchmark: issue 12"); why != "" {
		a.Skipf("%s", why)
	}
	if why := experimentsMissing(); why != "" {
		a.Skipf("%s", why)
	}
	a.Skipf("the prerequisites are in the tree but this test is not written yet")
}

// AT-P13: install on a plain VM with the packages and systemd units.
func TestATP13Packages(t *testing.T) {
	a := begin(t, "AT-P13", "Deployment to a plain VM with the packages and systemd units of the packaging issue: install, enrol, deploy, uninstall",
		"the .deb installs into a fresh root, the agent enrols and applies a deployment, removal leaves no process", false)
	if why := pathMissing("deploy", "packages and systemd units: issue 17"); why != "" {
		a.Skipf("%s", why)
	}
	a.Skipf("packages are in the tree but this test is not written yet")
}
