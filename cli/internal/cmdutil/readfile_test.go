package cmdutil

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/phoenix-otel/phoenix/pipelines"
)

func TestReadBoundedRefusesLargeInput(t *testing.T) {
	big := bytes.Repeat([]byte("x"), pipelines.MaxConfigBytes+1)
	_, err := readBounded(bytes.NewReader(big), "big.yaml")
	var ce *ExitError
	if !errors.As(err, &ce) || ce.Code != ExitValidation || !strings.Contains(err.Error(), "over the limit of 1048576 bytes") {
		t.Fatalf("oversized input: %v", err)
	}
	if b, err := readBounded(bytes.NewReader(big[:pipelines.MaxConfigBytes]), "ok.yaml"); err != nil || len(b) != pipelines.MaxConfigBytes {
		t.Fatalf("input at the limit: %d bytes, %v", len(b), err)
	}
}
