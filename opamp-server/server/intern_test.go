package server

import (
	"strings"
	"testing"
	"unsafe"
)

func TestConfigInternerSharesOneCopy(t *testing.T) {
	var c configInterner
	a := c.intern("h1", strings.Repeat("x", 5000))
	b := c.intern("h1", strings.Repeat("x", 5000)) // another agent's report: new bytes
	if unsafe.StringData(a) != unsafe.StringData(b) {
		t.Fatal("two reports of one hash hold two copies")
	}
	if d := c.intern("h2", "other"); d != "other" {
		t.Fatalf("another hash: %q", d)
	}
	for i := range maxInterned + 1 {
		c.intern(strings.Repeat("k", i+1), "v")
	}
	if len(c.m) > maxInterned {
		t.Fatalf("%d entries kept, max %d", len(c.m), maxInterned)
	}
}
