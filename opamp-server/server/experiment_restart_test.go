package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/api"
	"github.com/phoenix-otel/phoenix/opamp-server/store"
	"github.com/phoenix-otel/phoenix/opamp-server/store/postgres/pgtest"
)

// A server restart in the middle of an experiment loses no sample and no
// state: on SQLite, and on PostgreSQL when a test cluster is given.
func TestExperimentSurvivesRestart(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testExperimentRestart(t, "") })
	t.Run("postgres", func(t *testing.T) { testExperimentRestart(t, pgtest.FreshDatabase(t)) })
}

func testExperimentRestart(t *testing.T, dsn string) {
	cfg := newConfig(t)
	cfg.StoreDSN = dsn
	res := []store.Resolution{{Step: time.Second, Retention: time.Hour}}
	cfg.MetricResolutions = res
	ts := startServer(t, cfg)
	ag := ts.agent(t, "web-1", nil)
	ts.waitAgentKnown(t, "web-1")
	ts.mustCall(t, "POST", "/api/v1/deployments", deploymentBody("web", "web-1"), 201)
	ts.waitHosts(t, api.StatusApplied, "web-1")
	f := startFeeder(t, ts.Store(), ag.UID().String(), res, "baseline", "candidate")
	f.set(fleetLike(9, map[string]float64{"baseline": 1, "candidate": 0.3}, nil))
	ts.mustCall(t, "POST", "/api/v1/experiments", expBody("r", "web-1", map[string]any{"start": true, "duration": "10s"}), 201)
	var before api.Experiment
	eventually(t, "three samples", func() (bool, string) {
		before = getExp(t, ts, "r")
		return before.Samples >= 3, before.Status
	})
	ts.stop(t)
	ts2 := startServer(t, cfg)
	f.to(ts2.Store())
	ss, err := ts2.Store().ListExperimentSamples(context.Background(), "r")
	if err != nil {
		t.Fatal(err)
	}
	after := getExp(t, ts2, "r")
	if after.Samples < before.Samples || len(after.Transitions) < len(before.Transitions) || after.Hosts[0].PreviousHash != before.Hosts[0].PreviousHash {
		t.Fatalf("lost state across the restart: before %d samples %v, after %d samples %v", before.Samples, before.Transitions, after.Samples, after.Transitions)
	}
	if len(ss) == 0 {
		t.Fatal("no samples read back after the restart")
	}
	e := waitExp(t, ts2, "r", api.ExperimentCompleted)
	var seen []string
	for _, tr := range e.Transitions {
		seen = append(seen, tr.Status)
	}
	if len(seen) != 5 || e.Verdicts[0].Verdict != api.VerdictPromote || e.Samples < 8 {
		t.Fatalf("after the restart: transitions %v, %d samples, verdicts %+v", seen, e.Samples, e.Verdicts)
	}
}

// Two replicas on one PostgreSQL: exactly one analyses the experiment (the
// lease), so every transition is written once and every interval sampled once.
func TestExperimentOneReplicaAnalyses(t *testing.T) {
	dsn := pgtest.FreshDatabase(t)
	res := []store.Resolution{{Step: time.Second, Retention: time.Hour}}
	ca, cb := newConfig(t), newConfig(t)
	ca.StoreDSN, cb.StoreDSN = dsn, dsn
	ca.ServerID, cb.ServerID = "replica-a", "replica-b"
	ca.MetricResolutions, cb.MetricResolutions = res, res
	a := startServer(t, ca)
	cb.APITokenFile, cb.EnrollmentTokenFile = ca.DataDir+"/api-token", ca.DataDir+"/enrollment-token"
	b := startServer(t, cb)
	ag := b.agent(t, "web-1", nil)
	a.waitAgentKnown(t, "web-1")
	a.mustCall(t, "POST", "/api/v1/deployments", deploymentBody("web", "web-1"), 201)
	a.waitHosts(t, api.StatusApplied, "web-1")
	f := startFeeder(t, a.Store(), ag.UID().String(), res, "baseline", "candidate")
	f.set(fleetLike(11, map[string]float64{"baseline": 1, "candidate": 0.3}, nil))
	a.mustCall(t, "POST", "/api/v1/experiments", expBody("rep", "web-1", map[string]any{"start": true}), 201)
	e := waitExp(t, b, "rep", api.ExperimentCompleted)
	if len(e.Transitions) != 5 {
		t.Fatalf("transitions written more than once: %v", e.Transitions)
	}
	// The analyser's transitions (after the start request) come from one replica.
	by := map[string]bool{}
	for _, tr := range e.Transitions[2:] {
		by[tr.By] = true
	}
	if len(by) != 1 || by[""] {
		t.Fatalf("analysed by %v, want exactly one replica: %+v", by, e.Transitions)
	}
	if e.Samples != 6 || e.Verdicts[0].Intervals != 6 {
		t.Fatalf("samples %d, intervals %d (want 6: duration 6s / interval 1s)", e.Samples, e.Verdicts[0].Intervals)
	}
}
