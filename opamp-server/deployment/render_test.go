package deployment

import (
	"context"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/store"
	"github.com/phoenix-otel/phoenix/opamp-server/store/sqlite"
)

// One render serves every host of a deployment version: the hosts get the
// same bytes and hash; a reload with nothing changed renders nothing again;
// a new version drops the old render.
func TestOneRenderPerVersion(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir(), "a")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := New(st, time.Minute)
	spec := store.DeploymentSpec{Template: "process-topk-v1", Params: map[string]any{"k": 10},
		Destination: store.Destination{Type: "debug"}, Target: store.Target{Selector: map[string]string{"fleet": "a"}}}
	if _, err := svc.Create(ctx, "fleet", spec); err != nil {
		t.Fatal(err)
	}
	if err := svc.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	a := svc.Desired("web-1", map[string]string{"fleet": "a", "zone": "1"})
	b := svc.Desired("db-9", map[string]string{"fleet": "a", "zone": "2"})
	if a.Hash == "" || a.Hash != b.Hash || string(a.YAML) != string(b.YAML) {
		t.Fatalf("two hosts of one version got different configs: %q vs %q (%s)", a.Hash, b.Hash, a.Err)
	}
	if n := svc.renders.size(); n != 1 {
		t.Fatalf("%d renders cached for one version", n)
	}
	first := &a.YAML[0]
	if err := svc.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if c := svc.Desired("web-1", map[string]string{"fleet": "a"}); &c.YAML[0] != first {
		t.Fatal("a reload with nothing changed rendered again")
	}
	spec.Params = map[string]any{"k": 11}
	if _, err := svc.Update(ctx, "fleet", 1, spec); err != nil {
		t.Fatal(err)
	}
	if err := svc.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	c := svc.Desired("web-1", map[string]string{"fleet": "a"})
	if c.Version != 2 || c.Hash == a.Hash || svc.renders.size() != 1 {
		t.Fatalf("after version 2: version %d, hash changed %v, %d renders cached", c.Version, c.Hash != a.Hash, svc.renders.size())
	}
}
