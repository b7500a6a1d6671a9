package topkprocessor

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/phoenix-otel/phoenix/components/internal/processmetrics"
)

// selectTop must give exactly the first n of a full sort, ties included.
func TestSelectTopMatchesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 500; trial++ {
		size := rng.IntN(200)
		cands := make([]*entry, size)
		for i := range cands {
			e := &entry{ID: processmetrics.Identity(rng.Uint64())}
			e.Ext.score = float64(rng.IntN(20)) // many ties
			cands[i] = e
		}
		n := 1 + rng.IntN(40)
		got := selectTop(nil, slices.Clone(cands), n)
		want := slices.Clone(cands)
		slices.SortFunc(want, byScore)
		want = want[:min(n, len(want))]
		if !slices.Equal(got, want) {
			t.Fatalf("trial %d (size %d, n %d): selection differs from sort", trial, size, n)
		}
	}
}
