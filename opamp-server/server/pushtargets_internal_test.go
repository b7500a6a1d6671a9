package server

import (
	"testing"

	"github.com/phoenix-otel/phoenix/opamp-server/deployment"
	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// The round of a change of deployment "web" visits the hosts it owns, lists
// as a conflict, or targets now, plus any session whose route is unknown or
// being recomputed; no other.
func TestAffectedSessions(t *testing.T) {
	routed := func(host string, labels map[string]string, dep string, conflicts ...string) *session {
		s := &session{}
		s.targets.setRoute(host, labels, deployment.Desired{Deployment: dep, Conflicts: conflicts})
		return s
	}
	busy := routed("busy", nil, "db")
	busy.targets.reconciling.Store(true)
	sessions := map[string]*session{
		"owned":        routed("owned", map[string]string{"role": "old"}, "web"),
		"conflict":     routed("conflict", nil, "db", "a", "web"),
		"by selector":  routed("sel", map[string]string{"role": "web"}, ""),
		"by host name": routed("web-7", nil, "db"),
		"other":        routed("other", map[string]string{"role": "db"}, "db", "api"),
		"unrouted":     {},
		"reconciling":  busy,
	}
	target := &store.Target{Hosts: []string{"web-7"}, Selector: map[string]string{"role": "web"}}
	for _, tc := range []struct {
		name   string
		filter func(*session) bool
		want   map[string]bool
	}{
		{"web changed", affected("web", target), map[string]bool{"owned": true, "conflict": true, "by selector": true, "by host name": true, "unrouted": true, "reconciling": true}},
		{"web deleted", affected("web", nil), map[string]bool{"owned": true, "conflict": true, "unrouted": true, "reconciling": true}},
		{"resync", (&fleet{}).affectedBy(""), map[string]bool{"owned": true, "conflict": true, "by selector": true, "by host name": true, "other": true, "unrouted": true, "reconciling": true}},
	} {
		for name, s := range sessions {
			if got := tc.filter(s); got != tc.want[name] {
				t.Errorf("%s: session %q affected = %v, want %v", tc.name, name, got, tc.want[name])
			}
		}
	}
	// onHost: the host's sessions, and the unknown ones.
	for name, s := range sessions {
		want := name == "by host name" || name == "unrouted" || name == "reconciling"
		if got := onHost("web-7")(s); got != want {
			t.Errorf("onHost(web-7): session %q = %v, want %v", name, got, want)
		}
	}
}

// A route is replaced only when an input changed: reconcile runs on every
// agent message, and an unchanged route must not allocate.
func TestRouteKeptWhenUnchanged(t *testing.T) {
	var p pushTargets
	labels := map[string]string{"role": "web"}
	d := deployment.Desired{Deployment: "web", Conflicts: []string{"a"}}
	p.setRoute("h", labels, d)
	first := p.route.Load()
	p.setRoute("h", map[string]string{"role": "web"}, deployment.Desired{Deployment: "web", Conflicts: []string{"a"}})
	if p.route.Load() != first {
		t.Fatal("an equal route was replaced")
	}
	for _, change := range []func(){
		func() { p.setRoute("h2", labels, d) },
		func() { p.setRoute("h", map[string]string{"role": "db"}, d) },
		func() { p.setRoute("h", labels, deployment.Desired{Deployment: "db", Conflicts: []string{"a"}}) },
		func() { p.setRoute("h", labels, deployment.Desired{Deployment: "web"}) },
	} {
		before := p.route.Load()
		change()
		if p.route.Load() == before {
			t.Fatalf("a changed input kept the route %+v", *before)
		}
		p.setRoute("h", labels, d)
	}
	if n := testing.AllocsPerRun(100, func() { p.setRoute("h", labels, d) }); n != 0 {
		t.Fatalf("an unchanged route allocates %v times", n)
	}
}
