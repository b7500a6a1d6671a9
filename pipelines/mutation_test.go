package pipelines

// Tests written for mutation survivors (docs/testing.md "Mutation score"):
// each pins a behaviour that a gremlins mutant changed without any other
// test noticing.

import (
	"strings"
	"testing"
)

// The parts of a ParamError's message are there only when set: the server
// and the CLI print it as is.
func TestParamErrorMessage(t *testing.T) {
	cases := []struct {
		err  ParamError
		want string
	}{
		{ParamError{Param: "n", Reason: "must be an int"}, `parameter "n": must be an int`},
		{ParamError{Template: "topk-v1", Param: "n", Reason: "out of bounds"}, `template topk-v1: parameter "n": out of bounds`},
		{ParamError{Param: "n", Reason: "out of bounds", Accepted: "1..10"}, `parameter "n": out of bounds (accepted: 1..10)`},
	}
	for _, c := range cases {
		if got := c.err.Error(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.err, got, c.want)
		}
	}
}

// An extension file of exactly MaxConfigBytes loads; one byte more is
// refused (the limit is inclusive, like the config's in validate.go).
func TestCatalogDirFileAtTheSizeLimit(t *testing.T) {
	resetExtensions(t)
	pad := func(n int) string {
		body := extGood + "# "
		return body + strings.Repeat("x", n-len(body)-1) + "\n"
	}
	at := pad(MaxConfigBytes)
	if len(at) != MaxConfigBytes {
		t.Fatalf("padded to %d bytes", len(at))
	}
	if err := LoadCatalogDir(extDir(t, map[string]string{"team-drop-metric-v1.yaml": at})); err != nil {
		t.Fatalf("a file of exactly %d bytes: %v", MaxConfigBytes, err)
	}
	err := LoadCatalogDir(extDir(t, map[string]string{"team-drop-metric-v1.yaml": pad(MaxConfigBytes + 1)}))
	if err == nil || !strings.Contains(err.Error(), "over the limit") {
		t.Fatalf("a file of %d bytes: %v, want over the limit", MaxConfigBytes+1, err)
	}
}
