//go:build race

package e2e

// raceEnabled: under the race detector (make test) the scale test runs a
// smaller fleet, so the suite stays within minutes.
const raceEnabled = true
