package main

import (
	"strings"
	"testing"
)

func TestParseArches(t *testing.T) {
	for in, want := range map[string]string{"amd64 arm64": "amd64,arm64", "amd64": "amd64", "arm64,amd64": "arm64,amd64"} {
		got, err := parseArches(in)
		if err != nil || strings.Join(got, ",") != want {
			t.Errorf("parseArches(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "  ", "386", "amd64 riscv64"} {
		if _, err := parseArches(bad); err == nil || !strings.Contains(err.Error(), "-arches") {
			t.Errorf("parseArches(%q) = %v, want an error naming -arches", bad, err)
		}
	}
}
