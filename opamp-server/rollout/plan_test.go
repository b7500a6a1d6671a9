package rollout

import (
	"reflect"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

func TestPlanDefaults(t *testing.T) {
	p := Resolve(nil)
	if p.FirstBatch != 3 || p.Factor != 5 || p.Soak != 30*time.Second || p.Strategy != "staged" {
		t.Fatalf("defaults %+v", p)
	}
	for _, c := range []struct {
		total int
		want  []int
	}{
		{1, []int{1}},
		{3, []int{3}},
		{20, []int{3, 15, 2}},
		{500, []int{3, 15, 75, 100, 100, 100, 100, 7}},
		{10000, []int{3, 15, 75, 375, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 532}},
	} {
		got := p.Plan(c.total)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("plan(%d) = %v, want %v", c.total, got, c.want)
		}
		sum := 0
		for _, n := range got {
			sum += n
		}
		if sum != c.total {
			t.Errorf("plan(%d) sums to %d", c.total, sum)
		}
	}
}

func TestPlanPolicy(t *testing.T) {
	p := Resolve(&store.RolloutPolicy{FirstBatch: 2, Factor: 2, MaxBatch: 5, Soak: "1s"})
	if got, want := p.Plan(20), []int{2, 4, 5, 5, 4}; !reflect.DeepEqual(got, want) {
		t.Fatalf("plan %v, want %v", got, want)
	}
	if p.Soak != time.Second {
		t.Fatalf("soak %v", p.Soak)
	}
	// A factor of 1 is fixed-size batches; a huge factor never overflows.
	if got := Resolve(&store.RolloutPolicy{FirstBatch: 10, Factor: 1}).Plan(25); !reflect.DeepEqual(got, []int{10, 10, 5}) {
		t.Fatalf("factor 1: %v", got)
	}
	if n := Resolve(&store.RolloutPolicy{FirstBatch: 1 << 20, Factor: 100}).BatchSize(40, 1<<30); n <= 0 {
		t.Fatalf("overflow: %d", n)
	}
}
