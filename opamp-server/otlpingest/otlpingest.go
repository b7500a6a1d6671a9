// Package otlpingest turns the OTLP/HTTP metrics exports that agents send
// to phoenix-server's own-metrics ingest into stored points: it decodes the
// body (protobuf or JSON, gzip or not, bounded), keeps the Phoenix figures,
// attributes every point to the agent whose credential sent the request,
// and enforces the per-agent series caps (limits.go). Everything here reads
// untrusted bytes: it never panics on them (FuzzDecode) and says what is
// wrong.
package otlpingest

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"

	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// MaxBody bounds an export body, before and after gzip.
const MaxBody = 16 << 20

// Error kinds of Decode, for the HTTP layer.
var (
	ErrTooLarge         = errors.New("body too large")
	ErrUnsupportedMedia = errors.New("unsupported media type")
	ErrMalformed        = errors.New("malformed body")
)

// Decode reads an OTLP/HTTP metrics export request from body.
func Decode(contentType, contentEncoding string, body io.Reader) (pmetricotlp.ExportRequest, error) {
	req := pmetricotlp.NewExportRequest()
	json := strings.HasPrefix(contentType, "application/json")
	if !json && !strings.HasPrefix(contentType, "application/x-protobuf") {
		return req, fmt.Errorf("%w: Content-Type %q: send application/x-protobuf or application/json (OTLP/HTTP)", ErrUnsupportedMedia, contentType)
	}
	r := io.LimitReader(body, MaxBody+1)
	switch {
	case strings.EqualFold(contentEncoding, "gzip"):
		gz, err := gzip.NewReader(r)
		if err != nil {
			return req, fmt.Errorf("%w: Content-Encoding gzip: %v", ErrMalformed, err)
		}
		defer gz.Close()
		r = io.LimitReader(gz, MaxBody+1)
	case contentEncoding != "" && !strings.EqualFold(contentEncoding, "identity"):
		return req, fmt.Errorf("%w: Content-Encoding %q: send gzip or nothing", ErrUnsupportedMedia, contentEncoding)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return req, fmt.Errorf("%w: reading the body: %v", ErrMalformed, err)
	}
	if len(data) > MaxBody {
		return req, fmt.Errorf("%w: OTLP bodies are limited to %d bytes", ErrTooLarge, MaxBody)
	}
	if json {
		err = req.UnmarshalJSON(data)
	} else {
		err = req.UnmarshalProto(data)
	}
	if err != nil {
		return req, fmt.Errorf("%w: the body is not an OTLP metrics export request: %v", ErrMalformed, err)
	}
	return req, nil
}

// Own-metric names kept from the agents' telemetry: the Phoenix processors'
// figures, the collector's process figures, and its exporters' and
// receivers' sent/failed/refused counts (so failing exports show as
// figures, beside the degraded host status). The rest is dropped.
var keptPrefixes = []string{"phoenix.", "phoenix_", "otelcol_process_", "otelcol.process.",
	"otelcol_exporter_sent_", "otelcol_exporter_send_failed_", "otelcol_exporter_enqueue_failed_",
	"otelcol_receiver_accepted_", "otelcol_receiver_refused_", "otelcol_receiver_failed_",
	"otelcol.exporter.sent", "otelcol.exporter.send_failed", "otelcol.receiver.refused", "otelcol.receiver.failed"}

// Attributes that identify a series' pipeline, stage and variant.
const (
	AttrPipeline = "phoenix.pipeline"
	AttrStage    = "phoenix.stage"
	AttrVariant  = "phoenix.variant"
	// AttrInstanceID names the sender in the collector's own telemetry.
	AttrInstanceID = "service.instance.id"
)

// Attributes that are not part of a series' identity.
var droppedAttrs = map[string]bool{AttrPipeline: true, AttrStage: true, AttrVariant: true, "phoenix.estimated": true, "phoenix.experiment.id": true}

func kept(name string) bool {
	for _, p := range keptPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// ErrForeignInstance: a resource names another agent than the one whose
// credential sent the request.
var ErrForeignInstance = errors.New("resource of another agent")

// CheckInstance refuses an export any of whose resources carries a
// service.instance.id other than uid: figures are attributed to the
// credential's agent, and one that claims to be another agent is forging.
func CheckInstance(uid string, md pmetric.Metrics) error {
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		if v, ok := rms.At(i).Resource().Attributes().Get(AttrInstanceID); ok && v.AsString() != uid {
			return fmt.Errorf("%w: resource %d has service.instance.id %q, but the credential belongs to agent %s", ErrForeignInstance, i, v.AsString(), uid)
		}
	}
	return nil
}

// Convert turns the kept metrics of md into points of agent uid.
// Attributes other than pipeline, stage and variant become part of the
// series name (name{k="v"}), so two series never fold into one. It returns
// the points and the number of data points dropped.
func Convert(uid string, md pmetric.Metrics, now time.Time) ([]store.MetricPoint, int) {
	var out []store.MetricPoint
	skipped := 0
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		rm := rms.At(i)
		res := rm.Resource().Attributes()
		resAttr := func(k string) string {
			if v, ok := res.Get(k); ok {
				return v.AsString()
			}
			return ""
		}
		sms := rm.ScopeMetrics()
		for j := 0; j < sms.Len(); j++ {
			ms := sms.At(j).Metrics()
			for k := 0; k < ms.Len(); k++ {
				m := ms.At(k)
				if uid == "" || !kept(m.Name()) {
					skipped += dataPointCount(m)
					continue
				}
				add := func(name string, attrs pcommon.Map, ts pcommon.Timestamp, v float64) {
					p := store.MetricPoint{AgentUID: uid, Name: seriesName(name, attrs), Value: v, Time: ts.AsTime()}
					if ts == 0 {
						p.Time = now
					}
					p.Pipeline, p.Stage, p.Variant = attrOr(attrs, AttrPipeline, resAttr), attrOr(attrs, AttrStage, resAttr), attrOr(attrs, AttrVariant, resAttr)
					out = append(out, p)
				}
				switch m.Type() {
				case pmetric.MetricTypeGauge:
					numberPoints(m.Name(), m.Gauge().DataPoints(), add)
				case pmetric.MetricTypeSum:
					numberPoints(m.Name(), m.Sum().DataPoints(), add)
				case pmetric.MetricTypeHistogram:
					dps := m.Histogram().DataPoints()
					for x := 0; x < dps.Len(); x++ {
						dp := dps.At(x)
						add(m.Name()+".count", dp.Attributes(), dp.Timestamp(), float64(dp.Count()))
						add(m.Name()+".sum", dp.Attributes(), dp.Timestamp(), dp.Sum())
					}
				default:
					skipped += dataPointCount(m)
				}
			}
		}
	}
	return out, skipped
}

func numberPoints(name string, dps pmetric.NumberDataPointSlice, add func(string, pcommon.Map, pcommon.Timestamp, float64)) {
	for x := 0; x < dps.Len(); x++ {
		dp := dps.At(x)
		v := dp.DoubleValue()
		if dp.ValueType() == pmetric.NumberDataPointValueTypeInt {
			v = float64(dp.IntValue())
		}
		add(name, dp.Attributes(), dp.Timestamp(), v)
	}
}

func attrOr(attrs pcommon.Map, key string, res func(string) string) string {
	if v, ok := attrs.Get(key); ok {
		return v.AsString()
	}
	return res(key)
}

func seriesName(name string, attrs pcommon.Map) string {
	var parts []string
	attrs.Range(func(k string, v pcommon.Value) bool {
		if !droppedAttrs[k] {
			parts = append(parts, k+"="+strconv.Quote(v.AsString()))
		}
		return true
	})
	if len(parts) == 0 {
		return name
	}
	sort.Strings(parts)
	return name + "{" + strings.Join(parts, ",") + "}"
}

func dataPointCount(m pmetric.Metric) int {
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		return m.Gauge().DataPoints().Len()
	case pmetric.MetricTypeSum:
		return m.Sum().DataPoints().Len()
	case pmetric.MetricTypeHistogram:
		return m.Histogram().DataPoints().Len()
	case pmetric.MetricTypeExponentialHistogram:
		return m.ExponentialHistogram().DataPoints().Len()
	case pmetric.MetricTypeSummary:
		return m.Summary().DataPoints().Len()
	}
	return 0
}
