package storetest

import (
	"context"
	"testing"

	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// rawYAML has what a byte-exact store must keep: comments, key order,
// quoting, trailing spaces and no final newline.
const rawYAML = "# team pipeline  \nreceivers:\n  host_metrics: {collection_interval: 10s}\nexporters:\n  debug:\n    verbosity: 'basic'\nservice:\n  pipelines:\n    metrics: {receivers: [host_metrics], exporters: [debug]}"

// testRawConfig: a raw config is stored byte for byte in a version, read
// back the same from every read path, and a rollback version carries it.
func testRawConfig(t *testing.T, f Factory) {
	ctx := context.Background()
	s := openOne(t, f)
	raw := store.DeploymentSpec{Config: rawYAML, Target: store.Target{Hosts: []string{"h1"}}}
	if _, err := s.CreateDeployment(ctx, "own", raw, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddDeploymentVersion(ctx, "own", 1, spec("process-topk-v1", "h1"), 0, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddDeploymentVersion(ctx, "own", 2, raw, 1, nil); err != nil {
		t.Fatal(err)
	}
	d, err := s.GetDeployment(ctx, "own")
	if err != nil || d.Current.Spec.Config != rawYAML || d.Current.Spec.Template != "" || d.Current.RollbackOf != 1 {
		t.Fatalf("current: %+v %v", d.Current, err)
	}
	v2, err := s.GetDeploymentVersion(ctx, "own", 2)
	if err != nil || v2.Spec.Config != "" || v2.Spec.Template != "process-topk-v1" {
		t.Fatalf("version 2: %+v %v", v2, err)
	}
	vs, err := s.ListDeploymentVersions(ctx, "own")
	if err != nil || len(vs) != 3 || vs[0].Spec.Config != rawYAML {
		t.Fatalf("versions: %+v %v", vs, err)
	}
	all, err := s.ListDeployments(ctx)
	if err != nil || len(all) != 1 || all[0].Current.Spec.Config != rawYAML {
		t.Fatalf("list: %+v %v", all, err)
	}
}
