package deployment

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/domainerr"
	"github.com/phoenix-otel/phoenix/opamp-server/store"
	"github.com/phoenix-otel/phoenix/opamp-server/store/sqlite"
)

func sqliteService(t *testing.T) (*Service, store.Store) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), t.TempDir(), "a")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return New(st, time.Minute), st
}

func topkSpec(k any, hosts ...string) store.DeploymentSpec {
	return store.DeploymentSpec{Template: "process-topk-v1", Params: map[string]any{"k": k},
		Destination: store.Destination{Type: "debug"}, Target: store.Target{Hosts: hosts}}
}

func isKind[T error](err error) bool {
	var e T
	return errors.As(err, &e)
}

// A repeated deploy (a retry, or the CLI's "10" after the API's 10) writes
// nothing and says so; every real write refreshes the cache at once and
// runs the after-write hook.
func TestDeployIsIdempotent(t *testing.T) {
	ctx := context.Background()
	s, _ := sqliteService(t)
	writes := 0
	s.SetAfterWrite(func(context.Context) { writes++ })

	o, err := s.Deploy(ctx, "fleet", topkSpec(10, "web-1"))
	if err != nil || o.Unchanged || o.Version.Version != 1 {
		t.Fatalf("first deploy: %+v %v", o, err)
	}
	if writes != 1 || len(s.Snapshot()) != 1 {
		t.Fatalf("after a write: %d hooks run, %d deployments cached", writes, len(s.Snapshot()))
	}
	if d := s.Desired("web-1", nil); d.Deployment != "fleet" || d.Hash == "" {
		t.Fatalf("the cache was not refreshed by the write: %+v", d)
	}
	o, err = s.Deploy(ctx, "fleet", topkSpec("10", "web-1"))
	if err != nil || !o.Unchanged || o.Version.Version != 1 {
		t.Fatalf("the same spec again (k as a string): %+v %v", o, err)
	}
	if writes != 1 {
		t.Fatalf("an unchanged deploy ran the hook")
	}
	_, err = s.Deploy(ctx, "fleet", topkSpec(11, "web-1"))
	if !isKind[*domainerr.Conflict](err) || !strings.Contains(err.Error(), "PUT") {
		t.Fatalf("another spec under an existing name: %v", err)
	}
	if v, err := s.Create(ctx, "fleet", topkSpec(10, "web-1")); err != nil || v.Version != 1 {
		t.Fatalf("Create is Deploy: %+v %v", v, err)
	}
	if _, err := s.Deploy(ctx, "Fleet", topkSpec(10, "web-2")); invalidField(err) != "name" {
		t.Fatalf("bad name: %v", err)
	}
	if _, err := s.Deploy(ctx, "other", topkSpec(-1, "web-2")); invalidField(err) != "params.k" {
		t.Fatalf("bad spec: %v", err)
	}
	_, err = s.Deploy(ctx, "other", topkSpec(5, "web-1"))
	var c *domainerr.Conflict
	if !errors.As(err, &c) || c.Extra["conflicting_deployment"] != "fleet" {
		t.Fatalf("an overlapping target: %v", err)
	}
	if writes != 1 {
		t.Fatalf("refused writes ran the hook: %d", writes)
	}
}

// The secret referrer: a spec given in clear equals the stored one, whose
// secrets are references.
func TestDeployComparesSecretsAsStored(t *testing.T) {
	ctx := context.Background()
	s, _ := sqliteService(t)
	spec := topkSpec(10, "web-1")
	spec.Destination = store.Destination{Type: "otlphttp", Endpoint: "https://example.com", Headers: map[string]string{"Authorization": "ref:1"}}
	if _, err := s.Deploy(ctx, "fleet", spec); err != nil {
		t.Fatal(err)
	}
	clear := spec
	clear.Destination.Headers = map[string]string{"Authorization": "Bearer secret"}
	if o, err := s.Deploy(ctx, "fleet", clear); err == nil || o.Unchanged {
		t.Fatalf("without a referrer the clear secret differs from the stored reference: %+v %v", o, err)
	}
	s.SetSecretReferrer(func(sp store.DeploymentSpec) store.DeploymentSpec {
		sp.Destination.Headers = map[string]string{"Authorization": "ref:1"}
		return sp
	})
	if o, err := s.Deploy(ctx, "fleet", clear); err != nil || !o.Unchanged {
		t.Fatalf("with the referrer: %+v %v", o, err)
	}
	if o, err := s.Revise(ctx, "fleet", 1, clear); err != nil || !o.Unchanged {
		t.Fatalf("revise with the referrer: %+v %v", o, err)
	}
}

func TestReviseAndRollback(t *testing.T) {
	ctx := context.Background()
	s, _ := sqliteService(t)
	writes := 0
	s.SetAfterWrite(func(context.Context) { writes++ })
	if _, err := s.Deploy(ctx, "fleet", topkSpec(10, "web-1")); err != nil {
		t.Fatal(err)
	}
	if o, err := s.Revise(ctx, "fleet", 1, topkSpec("10", "web-1")); err != nil || !o.Unchanged || o.Version.Version != 1 || writes != 1 {
		t.Fatalf("unchanged revise: %+v %v (%d writes)", o, err, writes)
	}
	if v, err := s.Update(ctx, "fleet", 1, topkSpec(20, "web-1")); err != nil || v.Version != 2 || writes != 2 {
		t.Fatalf("update: %+v %v", v, err)
	}
	if d := s.Desired("web-1", nil); d.Version != 2 {
		t.Fatalf("the cache still serves version %d", d.Version)
	}
	if _, err := s.Update(ctx, "fleet", 1, topkSpec(30, "web-1")); !isKind[*domainerr.Conflict](err) || !strings.Contains(err.Error(), "read it again") {
		t.Fatalf("stale expected version: %v", err)
	}
	if _, err := s.Revise(ctx, "fleet", 2, topkSpec(-1, "web-1")); invalidField(err) != "params.k" {
		t.Fatalf("bad spec: %v", err)
	}
	if _, err := s.Revise(ctx, "nope", 1, topkSpec(5, "web-9")); !isKind[*domainerr.NotFound](err) {
		t.Fatalf("revise of a missing deployment: %v", err)
	}

	for _, to := range []int{0, -1} {
		if _, err := s.Rollback(ctx, "fleet", to); invalidField(err) != "to_version" || !strings.Contains(err.Error(), "between 1 and 2") {
			t.Fatalf("rollback to %d: %v", to, err)
		}
	}
	if _, err := s.Rollback(ctx, "fleet", 3); !isKind[*domainerr.NotFound](err) || !strings.Contains(err.Error(), "versions 1 to 2") {
		t.Fatalf("rollback to a missing version: %v", err)
	}
	if _, err := s.Rollback(ctx, "nope", 1); !isKind[*domainerr.NotFound](err) {
		t.Fatalf("rollback of a missing deployment: %v", err)
	}
	v, err := s.Rollback(ctx, "fleet", 1)
	if err != nil || v.Version != 3 || v.RollbackOf != 1 || v.Spec.Params["k"] != float64(10) && v.Spec.Params["k"] != 10 {
		t.Fatalf("rollback: %+v %v", v, err)
	}
	if writes != 3 {
		t.Fatalf("%d writes hooked, want 3", writes)
	}
	if d := s.Desired("web-1", nil); d.Version != 3 {
		t.Fatalf("after the rollback the cache serves version %d", d.Version)
	}
	vs, cur, err := s.Versions(ctx, "fleet")
	if err != nil || cur != 3 || len(vs) != 3 || vs[0].Version != 1 || vs[2].Version != 3 {
		t.Fatalf("versions: %d listed, current %d, %v", len(vs), cur, err)
	}
	if _, _, err := s.Versions(ctx, "nope"); !isKind[*domainerr.NotFound](err) {
		t.Fatalf("versions of a missing deployment: %v", err)
	}
	if v, err := s.Version(ctx, "fleet", 2); err != nil || v.Spec.Params["k"] == nil {
		t.Fatalf("version 2: %+v %v", v, err)
	}
	if _, err := s.Version(ctx, "nope", 1); !isKind[*domainerr.NotFound](err) {
		t.Fatalf("version of a missing deployment: %v", err)
	}

	if err := s.Delete(ctx, "fleet"); err != nil || writes != 4 {
		t.Fatalf("delete: %v (%d writes)", err, writes)
	}
	if d := s.Desired("web-1", nil); d.Deployment != "" || d.Hash != "" {
		t.Fatalf("a deleted deployment is still desired: %+v", d)
	}
	if err := s.Delete(ctx, "fleet"); !isKind[*domainerr.NotFound](err) {
		t.Fatalf("delete twice: %v", err)
	}
	if _, err := s.Get(ctx, "fleet"); !isKind[*domainerr.NotFound](err) {
		t.Fatalf("get after delete: %v", err)
	}
	if writes != 4 {
		t.Fatalf("refused writes ran the hook: %d", writes)
	}
}

func TestStatusByNameAndHostAgent(t *testing.T) {
	ctx := context.Background()
	s, st := sqliteService(t)
	if _, err := s.Deploy(ctx, "fleet", topkSpec(10, "web-1", "web-2")); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, a := range []store.Agent{
		{InstanceUID: "old", HostName: "web-1", LastSeen: now.Add(-time.Hour)},
		{InstanceUID: "new", HostName: "web-1", Connected: true, LastSeen: now, Capabilities: capAcceptsRemoteConfig},
	} {
		if err := st.UpsertAgent(ctx, a, false); err != nil {
			t.Fatal(err)
		}
	}
	d, status, err := s.StatusByName(ctx, "fleet", true)
	if err != nil || d.Name != "fleet" || status.Total != 2 || status.Counts["pending"] != 1 || status.Counts["offline"] != 1 {
		t.Fatalf("status: %+v %v", status, err)
	}
	if _, _, err := s.StatusByName(ctx, "nope", false); !isKind[*domainerr.NotFound](err) {
		t.Fatalf("status of a missing deployment: %v", err)
	}
	a, err := s.HostAgent(ctx, "web-1")
	if err != nil || a.InstanceUID != "new" {
		t.Fatalf("host agent: %+v %v", a, err)
	}
	if hs := s.HostStatus(a); hs.Deployment != "fleet" || hs.Status != "pending" {
		t.Fatalf("host status: %+v", hs)
	}
	if _, err := s.HostAgent(ctx, "web-2"); !isKind[*domainerr.NotFound](err) || !strings.Contains(err.Error(), "GET /api/v1/hosts") {
		t.Fatalf("unknown host: %v", err)
	}
	unknown, err := s.UnknownHosts(ctx, store.Target{Hosts: []string{"web-3", "web-1", "web-2"}})
	if err != nil || strings.Join(unknown, ",") != "web-2,web-3" {
		t.Fatalf("unknown hosts: %v %v", unknown, err)
	}
	if unknown, err := s.UnknownHosts(ctx, store.Target{Selector: map[string]string{"env": "x"}}); err != nil || unknown != nil {
		t.Fatalf("a selector names no host: %v %v", unknown, err)
	}
}

func TestNormalizeAndSameSpec(t *testing.T) {
	raw := store.DeploymentSpec{Config: "receivers: {}\n", Target: store.Target{Hosts: []string{"a"}}}
	if n, err := Normalize(raw); err != nil || n.Config != raw.Config {
		t.Fatalf("a raw config is stored as written: %+v %v", n, err)
	}
	n, err := Normalize(topkSpec("10", "a"))
	if err != nil || n.Params["k"] == "10" {
		t.Fatalf("k not coerced: %+v %v", n.Params, err)
	}
	if _, err := Normalize(store.DeploymentSpec{Template: "nope"}); err == nil {
		t.Fatal("an unknown template normalizes")
	}
	if _, err := Normalize(topkSpec("ten", "a")); invalidField(err) != "params.k" {
		t.Fatalf("a bad parameter: %v", err)
	}
	a := topkSpec(10, "a")
	a.Target.Selector = map[string]string{"x": "1", "y": "2"}
	b := topkSpec("10", "a")
	b.Target.Selector = map[string]string{"y": "2", "x": "1"}
	if !SameSpec(a, b) {
		t.Fatal("the same spec, written differently")
	}
	if SameSpec(a, topkSpec(11, "a")) || SameSpec(a, topkSpec(10, "b")) {
		t.Fatal("different specs compare the same")
	}
	if SameSpec(topkSpec("ten", "a"), topkSpec("ten", "a")) {
		t.Fatal("specs that do not normalize are never the same")
	}
}
