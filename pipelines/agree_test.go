package pipelines

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/phoenix-otel/phoenix/internal/testutil"
)

// ValidateYAML and the real phoenix-otelcol agree on the Phoenix
// components' settings: what one refuses the other refuses, and settings
// one accepts the other accepts.
func TestValidateYAMLAgreesWithTheBinaryOnPhoenixSettings(t *testing.T) {
	bin := testutil.OtelcolBinary(t)
	base := "receivers:\n  loadgen:\nprocessors:\n  %s\nexporters:\n  nop:\nservice:\n  pipelines:\n    metrics:\n      receivers: [loadgen]\n      processors: [%s]\n      exporters: [nop]\n"
	cases := []struct {
		id, settings string
		valid        bool
	}{
		{"topk", "topk: {top_k: -5, bogus_field: 1}", false},
		{"topk", "topk: {top_k: -5}", false},
		{"topk", "topk: {bogus_field: 1}", false},
		{"topk", "topk: {top_k: 5}", true},
		{"cardinality", "cardinality: {exact_limit: -1}", false},
		{"cardinality", "cardinality: {}", false},
		{"cardinality", "cardinality: {pipeline: p, stage: input}", true},
		{"adaptive_filter", "adaptive_filter: {no_such: true}", false},
	}
	for _, c := range cases {
		cfg := strings.NewReplacer("%s\nexporters", c.settings+"\nexporters", "[%s]", "["+c.id+"]").Replace(base)
		local := len(ValidateYAML([]byte(cfg))) == 0
		err := ValidateWithBinary(context.Background(), bin, []byte(cfg))
		var be *BinaryValidationError
		if err != nil && !errors.As(err, &be) {
			t.Fatal(err)
		}
		binary := err == nil
		if local != c.valid || binary != c.valid {
			t.Errorf("%s: local valid=%v, phoenix-otelcol valid=%v, want %v (%v)", c.settings, local, binary, c.valid, err)
		}
	}
}
