package loadsim

import (
	"context"
	"testing"

	"github.com/phoenix-otel/phoenix/pipelines"
)

// Overlay runs in the server's desired-state function, on every message of
// every agent: the common cases must not render.

func BenchmarkOverlayNoJob(b *testing.B) {
	f := newFixture(&testing.T{})
	base := baseConfigB(b)
	b.ReportAllocs()
	for b.Loop() {
		if f.m.Overlay("web-1", &base) != &base {
			b.Fatal("changed")
		}
	}
}

func BenchmarkOverlayCached(b *testing.B) {
	f := newFixture(&testing.T{})
	base := baseConfigB(b)
	if _, err := f.m.Create(context.Background(), Request{TargetHost: "web-1", Profile: "realistic"}); err != nil {
		b.Fatal(err)
	}
	f.m.Overlay("web-1", &base)
	b.ReportAllocs()
	for b.Loop() {
		f.m.Overlay("web-1", &base)
	}
}

// BenchmarkOverlayRender is a cache miss: WithLoadSim on a fresh deployment
// config (once per job and deployment version).
func BenchmarkOverlayRender(b *testing.B) {
	base := baseConfigB(b)
	sim := pipelines.LoadSim{Profile: "realistic"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := pipelines.WithLoadSim(base, sim); err != nil {
			b.Fatal(err)
		}
	}
}

func baseConfigB(b *testing.B) pipelines.Rendered {
	r, err := pipelines.Render(pipelines.Spec{Template: pipelines.TemplateTopK, Destination: pipelines.Destination{Type: pipelines.DestDebug}},
		pipelines.Context{HostName: "web-1", DeploymentID: "web", DeploymentVersion: 1})
	if err != nil {
		b.Fatal(err)
	}
	return r
}
