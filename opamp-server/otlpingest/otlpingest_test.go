package otlpingest

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"

	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// export builds a request of n kept gauges (and one dropped metric) from
// a resource naming instance (none when "").
func export(instance string, n int) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	if instance != "" {
		rm.Resource().Attributes().PutStr(AttrInstanceID, instance)
	}
	sm := rm.ScopeMetrics().AppendEmpty()
	for i := range n {
		m := sm.Metrics().AppendEmpty()
		m.SetName("phoenix.cardinality.series")
		dp := m.SetEmptyGauge().DataPoints().AppendEmpty()
		dp.SetIntValue(int64(i))
		dp.SetTimestamp(pcommon.NewTimestampFromTime(time.Unix(1700000000, 0)))
		dp.Attributes().PutStr(AttrPipeline, "metrics/process")
		dp.Attributes().PutStr("series", fmt.Sprint(i))
	}
	sm.Metrics().AppendEmpty().SetName("otelcol_processor_batch_batch_send_size")
	sm.Metrics().At(n).SetEmptySum().DataPoints().AppendEmpty().SetIntValue(1)
	return md
}

func protoBody(t testing.TB, md pmetric.Metrics) []byte {
	b, err := pmetricotlp.NewExportRequestFromMetrics(md).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func TestDecode(t *testing.T) {
	md := export("a", 3)
	pb := protoBody(t, md)
	jb, _ := pmetricotlp.NewExportRequestFromMetrics(md).MarshalJSON()
	for _, c := range []struct {
		ct, ce string
		body   []byte
	}{{"application/x-protobuf", "", pb}, {"application/json", "", jb}, {"application/x-protobuf", "gzip", gz(pb)}, {"application/json; charset=utf-8", "GZIP", gz(jb)}} {
		req, err := Decode(c.ct, c.ce, bytes.NewReader(c.body))
		if err != nil {
			t.Fatalf("%s %s: %v", c.ct, c.ce, err)
		}
		if n := req.Metrics().DataPointCount(); n != 4 {
			t.Fatalf("%s %s: %d data points, want 4", c.ct, c.ce, n)
		}
	}
	for _, c := range []struct {
		ct, ce string
		body   []byte
		want   error
		says   string
	}{
		{"text/plain", "", pb, ErrUnsupportedMedia, "text/plain"},
		{"application/x-protobuf", "br", pb, ErrUnsupportedMedia, "br"},
		{"application/x-protobuf", "gzip", pb, ErrMalformed, "gzip"},
		{"application/x-protobuf", "", []byte{0xff, 0xff, 0xff}, ErrMalformed, "not an OTLP"},
		{"application/json", "", []byte(`{"resourceMetrics": 7}`), ErrMalformed, "not an OTLP"},
		{"application/x-protobuf", "", make([]byte, MaxBody+1), ErrTooLarge, "limited"},
		{"application/x-protobuf", "gzip", gz(make([]byte, MaxBody+1)), ErrTooLarge, "limited"},
	} {
		_, err := Decode(c.ct, c.ce, bytes.NewReader(c.body))
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s %s (%d bytes): %v, want %v saying %q", c.ct, c.ce, len(c.body), err, c.want, c.says)
		}
	}
}

func TestConvertAttributesToTheCredentialsAgent(t *testing.T) {
	md := export("", 3)
	pts, skipped := Convert("uid-1", md, time.Now())
	if len(pts) != 3 || skipped != 1 {
		t.Fatalf("%d points, %d skipped", len(pts), skipped)
	}
	for _, p := range pts {
		if p.AgentUID != "uid-1" || p.Pipeline != "metrics/process" || !strings.HasPrefix(p.Name, `phoenix.cardinality.series{series="`) {
			t.Fatalf("point %+v", p)
		}
	}
}

func TestCheckInstance(t *testing.T) {
	if err := CheckInstance("uid-1", export("uid-1", 1)); err != nil {
		t.Fatal(err)
	}
	if err := CheckInstance("uid-1", export("", 1)); err != nil {
		t.Fatal(err)
	}
	md := export("uid-1", 1)
	md.ResourceMetrics().AppendEmpty().Resource().Attributes().PutStr(AttrInstanceID, "uid-2")
	if err := CheckInstance("uid-1", md); !errors.Is(err, ErrForeignInstance) || !strings.Contains(err.Error(), `"uid-2"`) {
		t.Fatalf("a resource of another agent: %v", err)
	}
}

func points(prefix string, n int) []store.MetricPoint {
	out := make([]store.MetricPoint, n)
	for i := range out {
		out[i] = store.MetricPoint{Name: fmt.Sprintf("%s%d", prefix, i), Pipeline: "p"}
	}
	return out
}

func TestLimiter(t *testing.T) {
	now := time.Now()
	l := NewLimiter(Limits{MaxSeriesPerRequest: 10, MaxSeriesPerAgent: 25, Window: time.Hour})
	var le *LimitError
	if err := l.Admit("a", points("s", 11), now); !errors.As(err, &le) || le.Scope != "request" || le.Series != 11 || le.Limit != 10 {
		t.Fatalf("11 series in one request: %v", err)
	}
	// The same series again and again count once.
	for range 5 {
		if err := l.Admit("a", append(points("s", 10), points("s", 10)...), now); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Admit("a", points("t", 10), now); err != nil {
		t.Fatal(err)
	}
	// 20 known + 10 new > 25: refused, and nothing of it counted.
	err := l.Admit("a", points("u", 10), now)
	if !errors.As(err, &le) || le.Scope != "agent" || le.Series != 30 || le.Limit != 25 || !strings.Contains(err.Error(), "--ingest-max-series-per-agent") {
		t.Fatalf("past the agent cap: %v", err)
	}
	if err := l.Admit("a", points("u", 5), now); err != nil {
		t.Fatalf("5 new series fit (25): %v", err)
	}
	if err := l.Admit("a", points("s", 10), now); err != nil {
		t.Fatalf("known series past the cap are still taken: %v", err)
	}
	if err := l.Admit("a", points("v", 1), now); err == nil {
		t.Fatal("a 26th series was taken")
	}
	// Another agent has its own count; the window starts again.
	if err := l.Admit("b", points("v", 10), now); err != nil {
		t.Fatal(err)
	}
	if err := l.Admit("a", points("v", 10), now.Add(time.Hour)); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

// FuzzDecode feeds arbitrary bodies to the decoder and what it accepts to
// the converter, the instance check and the limiter: none may panic, and an
// accepted body's points all belong to the credential's agent.
func FuzzDecode(f *testing.F) {
	pb := protoBody(f, export("uid-1", 3))
	jb, _ := pmetricotlp.NewExportRequestFromMetrics(export("", 2)).MarshalJSON()
	f.Add(pb, false, false)
	f.Add(jb, true, false)
	f.Add(gz(pb), false, true)
	f.Add([]byte(`{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"phoenix.x","histogram":{"dataPoints":[{"count":"3","sum":1.5}]}}]}]}]}`), true, false)
	f.Add([]byte{0x0a, 0x80, 0x80, 0x80, 0x80, 0x10}, false, false)
	l := NewLimiter(Limits{MaxSeriesPerRequest: 50, MaxSeriesPerAgent: 200})
	f.Fuzz(func(t *testing.T, body []byte, json, gzipped bool) {
		ct := "application/x-protobuf"
		if json {
			ct = "application/json"
		}
		ce := ""
		if gzipped {
			ce = "gzip"
		}
		req, err := Decode(ct, ce, bytes.NewReader(body))
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		_ = CheckInstance("uid-1", req.Metrics())
		pts, skipped := Convert("uid-1", req.Metrics(), time.Now())
		if skipped < 0 || len(pts) > 2*req.Metrics().DataPointCount() {
			t.Fatalf("%d points, %d skipped from %d data points", len(pts), skipped, req.Metrics().DataPointCount())
		}
		for _, p := range pts {
			if p.AgentUID != "uid-1" {
				t.Fatalf("point attributed to %q", p.AgentUID)
			}
		}
		_ = l.Admit("uid-1", pts, time.Now())
	})
}
