package otlpingest

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

// One agent's request as phoenix-agent's collector sends it: 40 kept
// series and one dropped metric, protobuf. Decode+Convert is the ingest
// without caps; Admit is what the caps add to it (run side by side:
// go test -run '^$' -bench . ./opamp-server/otlpingest/).
func BenchmarkIngestDecodeConvert(b *testing.B) {
	body := protoBody(b, export("uid-1", 40))
	b.ReportAllocs()
	for b.Loop() {
		req, err := Decode("application/x-protobuf", "", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		if pts, _ := Convert("uid-1", req.Metrics(), time.Now()); len(pts) != 40 {
			b.Fatal(len(pts))
		}
	}
}

// The caps on the same request: 40 known series of an agent that holds
// 1,000, among 1,000 agents.
func BenchmarkIngestCapAdmit(b *testing.B) {
	req, err := Decode("application/x-protobuf", "", bytes.NewReader(protoBody(b, export("uid-1", 40))))
	if err != nil {
		b.Fatal(err)
	}
	pts, _ := Convert("uid-1", req.Metrics(), time.Now())
	l := NewLimiter(Limits{})
	now := time.Now()
	for i := range 1000 {
		uid := fmt.Sprint("uid-", i)
		for j := 0; j < 1000; j += 40 {
			if err := l.Admit(uid, points(fmt.Sprint("s", j, "-"), 40), now); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := l.Admit("uid-1", pts, now); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := l.Admit("uid-1", pts, now); err != nil {
			b.Fatal(err)
		}
	}
}
