package harness

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

func series(name string, ts ...int64) Series {
	s := Series{Labels: map[string]string{"__name__": name}}
	for _, t := range ts {
		s.Samples = append(s.Samples, Sample{T: t, V: 1})
	}
	return s
}

// Samples within the gap of the previous one form one collection; a series
// with two samples in one collection counts once; a later collection starts
// after a longer gap.
func TestScrapesGroupByTimestamp(t *testing.T) {
	in := []Series{
		series("a", 1000, 6000, 11000),
		series("b", 1200, 6100),
		series("c", 1100, 1300, 11400), // twice in the first collection
	}
	got := Scrapes(in, 500*time.Millisecond)
	if len(got) != 3 {
		t.Fatalf("%d collections, want 3: %+v", len(got), got)
	}
	wantN := []int{3, 2, 2}
	wantT := []int64{1000, 6000, 11000}
	for i, sc := range got {
		if len(sc.Series) != wantN[i] || sc.T.UnixMilli() != wantT[i] {
			t.Errorf("collection %d: %d series at %d, want %d at %d", i, len(sc.Series), sc.T.UnixMilli(), wantN[i], wantT[i])
		}
	}
	// A gap of 0 splits every distinct timestamp.
	if n := len(Scrapes(in, 0)); n != 8 {
		t.Errorf("gap 0: %d collections, want 8 (one per distinct time)", n)
	}
	if Scrapes(nil, time.Second) != nil {
		t.Error("no series, some collections")
	}
}

// Two receivers stamp two collections per interval: Intervals adds them.
func TestIntervalsJoinCollectionsOfOneInterval(t *testing.T) {
	a, b := series("a"), series("b")
	at := func(ms int64, ss ...*Series) Scrape { return Scrape{T: time.UnixMilli(ms), Series: ss} }
	got := Intervals([]Scrape{at(0, &a), at(300, &a, &b), at(5000, &b), at(9400, &a), at(10000, &a, &b)}, 5*time.Second)
	want := []Interval{{T: time.UnixMilli(0), Series: 3, Collections: 2}, {T: time.UnixMilli(5000), Series: 2, Collections: 2}, {T: time.UnixMilli(10000), Series: 2, Collections: 1}}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if !got[i].T.Equal(want[i].T) || got[i].Series != want[i].Series || got[i].Collections != want[i].Collections {
			t.Errorf("interval %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestSeriesKeyIsTheSortedLabelSet(t *testing.T) {
	x := Series{Labels: map[string]string{"b": "2", "a": `q"1`}}
	y := Series{Labels: map[string]string{"a": `q"1`, "b": "2"}}
	if x.Key() != y.Key() || x.Key() != `a="q\"1",b="2",` {
		t.Errorf("Key = %q / %q", x.Key(), y.Key())
	}
	if (Series{Labels: map[string]string{"a": "1,b=2"}}).Key() == (Series{Labels: map[string]string{"a": "1", "b": "2"}}).Key() {
		t.Error("label values are not quoted: two label sets share a key")
	}
}

func TestSelectorsAndVersions(t *testing.T) {
	if got := HostSelector(`h"1`); got != `{__name__=~"process_.+",host_name="h\"1"}` {
		t.Errorf("HostSelector = %s: a host name must stay one quoted label value", got)
	}
	if got := promVersion("prometheus, version 2.42.0+ds (branch: debian/sid, revision: 2.42.0+ds-5)\n"); got != "Prometheus 2.42.0+ds" {
		t.Errorf("promVersion = %q", got)
	}
	for yaml, want := range map[string]bool{
		"exporters:\n  prometheusremotewrite:\n    resource_to_telemetry_conversion:\n      enabled: true\n":  true,
		"exporters:\n  prometheusremotewrite:\n    resource_to_telemetry_conversion:\n      enabled: false\n": false,
		"    resource_constant_labels: [\"*\"]\n":                                                             true,
		"    resource_constant_labels: ['*']\n":                                                               true,
		"    resource_constant_labels: [host.name]\n":                                                         false,
		"exporters:\n  prometheusremotewrite:\n    endpoint: x\n":                                             false,
	} {
		if got := rendersIdentity(yaml); got != want {
			t.Errorf("rendersIdentity(%q) = %v, want %v", yaml, got, want)
		}
	}
}

// Against the real Prometheus of the suite (Debian's package): it starts on
// a free loopback port with its remote-write receiver, answers an empty
// count with 0 and a bad query with its own error, and Stop leaves no
// process.
func TestPrometheusStartQueryStop(t *testing.T) {
	bin, err := PrometheusBinary()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p, err := StartPrometheus(ctx, t.TempDir(), bin)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop(10 * time.Second)
	if !strings.HasPrefix(p.Version, "Prometheus ") || !strings.HasPrefix(p.WriteURL(), "http://127.0.0.1:") {
		t.Errorf("version %q, write URL %q", p.Version, p.WriteURL())
	}
	if n, err := p.Count(ctx, HostSelector("nobody")); err != nil || n != 0 {
		t.Errorf("Count of nothing = %d, %v", n, err)
	}
	if _, err := p.Raw(ctx, `{__name__=~"process_.+"`, time.Minute, time.Now()); err == nil || !strings.Contains(err.Error(), "prometheus query") {
		t.Errorf("a malformed selector: %v, want Prometheus's parse error", err)
	}
	series, err := p.Raw(ctx, HostSelector("nobody"), time.Minute, time.Now())
	if err != nil || len(series) != 0 {
		t.Errorf("Raw of nothing = %v, %v", series, err)
	}
	p.Stop(10 * time.Second)
	if !p.Exited() || !gone(p.PID()) {
		t.Errorf("prometheus (pid %d) still running after Stop", p.PID())
	}
}
