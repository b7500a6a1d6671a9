package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// Bad flags fail before anything starts, naming the flag.
func TestBadFlags(t *testing.T) {
	cases := map[string][]string{
		"--tls-cert":                        {"--tls-cert", "cert.pem", "--data-dir", t.TempDir()},
		"--http-addr":                       {"--http-addr", "8080", "--data-dir", t.TempDir()},
		"--log-level":                       {"--log-level", "loud", "--data-dir", t.TempDir()},
		"store DSN":                         {"--store", "mysql://x", "--data-dir", t.TempDir(), "--opamp-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"},
		"--advertise-url":                   {"--advertise-url", "ftp://x", "--data-dir", t.TempDir()},
		"--memory-limit":                    {"--memory-limit", "lots", "--data-dir", t.TempDir()},
		"--pprof-addr":                      {"--pprof-addr", "nohost:port:x", "--data-dir", t.TempDir()},
		"steps must increase":               {"--metric-resolutions", "1m/24h,10s/2h", "--data-dir", t.TempDir()},
		`level 2 "1m": want step/retention`: {"--metric-resolutions", "10s/2h,1m", "--data-dir", t.TempDir()},
		"metric resolution 500ms/1h":        {"--metric-resolutions", "500ms/1h", "--data-dir", t.TempDir()},
	}
	for want, args := range cases {
		cmd := newCommand()
		cmd.SetArgs(args)
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		err := cmd.ExecuteContext(context.Background())
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: err = %v, want one naming %s", args, err, want)
		}
	}
}

func TestRedact(t *testing.T) {
	if got := redact("postgres://u:secret@h:5432/db"); strings.Contains(got, "secret") {
		t.Fatalf("password printed: %s", got)
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"512MiB": 512 << 20, "2GiB": 2 << 30, "300MB": 300e6, "4096": 4096, "64KiB": 64 << 10} {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "MiB", "-1GiB", "0", "1.5GiB", "ten"} {
		if _, err := parseBytes(bad); err == nil {
			t.Errorf("parseBytes(%q) accepted", bad)
		}
	}
}

// The profiler answers on its own listener, and only when asked for.
func TestPprofListener(t *testing.T) {
	stop, addr, err := startPprof("", nil)
	if err != nil || addr != "" {
		t.Fatalf("off by default: %q %v", addr, err)
	}
	stop()
	stop, addr, err = startPprof("127.0.0.1:0", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	resp, err := http.Get("http://" + addr + "/debug/pprof/heap?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "heap profile") {
		t.Fatalf("heap profile: %d %.200s", resp.StatusCode, body)
	}
}

func TestMetricResolutionsFlag(t *testing.T) {
	var got []store.Resolution
	f := &resolutionsFlag{&got}
	if err := f.Set("10s/2h, 1m/24h,15m/336h"); err != nil {
		t.Fatal(err)
	}
	want := []store.Resolution{{Step: 10 * time.Second, Retention: 2 * time.Hour}, {Step: time.Minute, Retention: 24 * time.Hour}, {Step: 15 * time.Minute, Retention: 336 * time.Hour}}
	if fmt.Sprint(got) != fmt.Sprint(want) || f.String() != "10s/2h0m0s,1m0s/24h0m0s,15m0s/336h0m0s" {
		t.Fatalf("got %v (%s)", got, f.String())
	}
}
