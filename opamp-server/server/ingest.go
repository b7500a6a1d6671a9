package server

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"

	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

const maxOTLPBody = 16 << 20

// Own-metric names kept from the agents' telemetry: the Phoenix processors'
// figures and the collector's process figures. The rest is dropped.
var keptPrefixes = []string{"phoenix.", "phoenix_", "otelcol_process_", "otelcol.process."}

// Attributes that identify a series' pipeline, stage and variant.
const (
	attrPipeline = "phoenix.pipeline"
	attrStage    = "phoenix.stage"
	attrVariant  = "phoenix.variant"
)

// Attributes that are not part of a series' identity.
var droppedAttrs = map[string]bool{attrPipeline: true, attrStage: true, attrVariant: true, "phoenix.estimated": true, "phoenix.experiment.id": true}

func kept(name string) bool {
	for _, p := range keptPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// ingest is the OTLP/HTTP metrics receiver (/v1/metrics) the own_metrics
// offer points agents at. It takes protobuf or JSON, gzip or not, the
// enrollment token, and attributes the figures to the agent named by the
// X-Phoenix-Agent-Id header (the offer sets it) or by service.instance.id.
func (s *Server) ingest(w http.ResponseWriter, r *http.Request) error {
	tok := bearer(r)
	if !tokenEqual(tok, s.enrollToken) && !tokenEqual(tok, s.apiToken) {
		s.metrics.authFailures.WithLabelValues("otlp").Inc()
		w.Header().Set("WWW-Authenticate", `Bearer realm="phoenix-otlp"`)
		return &apiError{Status: http.StatusUnauthorized, Title: "Unauthorized", Detail: "OTLP ingest needs 'Authorization: Bearer <enrollment token>', as offered in own_metrics"}
	}
	var body io.Reader = io.LimitReader(r.Body, maxOTLPBody+1)
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		gz, err := gzip.NewReader(body)
		if err != nil {
			return badRequest("Content-Encoding gzip: " + err.Error())
		}
		defer gz.Close()
		body = io.LimitReader(gz, maxOTLPBody+1)
	}
	data, err := io.ReadAll(body)
	if err != nil {
		return badRequest("reading the OTLP body: " + err.Error())
	}
	if len(data) > maxOTLPBody {
		return &apiError{Status: http.StatusRequestEntityTooLarge, Title: "Body too large", Detail: fmt.Sprintf("OTLP bodies are limited to %d bytes", maxOTLPBody)}
	}
	req := pmetricotlp.NewExportRequest()
	ct := r.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "application/x-protobuf"):
		err = req.UnmarshalProto(data)
	case strings.HasPrefix(ct, "application/json"):
		err = req.UnmarshalJSON(data)
	default:
		return &apiError{Status: http.StatusUnsupportedMediaType, Title: "Unsupported media type", Detail: fmt.Sprintf("Content-Type %q: send application/x-protobuf or application/json (OTLP/HTTP)", ct)}
	}
	if err != nil {
		return badRequest("the body is not an OTLP metrics export request: " + err.Error())
	}
	points, skipped := s.convert(r.Header.Get(HeaderAgentID), req.Metrics())
	if len(points) > 0 {
		if err := s.store.WriteMetrics(r.Context(), points, s.cfg.MetricResolutions); err != nil {
			s.metrics.ingestPoints.WithLabelValues("error").Add(float64(len(points)))
			return &apiError{Status: http.StatusServiceUnavailable, Title: "Store unavailable", Detail: "storing metrics: " + err.Error()}
		}
		s.metrics.ingestPoints.WithLabelValues("stored").Add(float64(len(points)))
		s.publishMetrics(points)
	}
	s.metrics.ingestPoints.WithLabelValues("skipped").Add(float64(skipped))
	resp := pmetricotlp.NewExportResponse()
	var out []byte
	if strings.HasPrefix(ct, "application/json") {
		out, _ = resp.MarshalJSON()
	} else {
		out, _ = resp.MarshalProto()
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
	return nil
}

func (s *Server) publishMetrics(points []store.MetricPoint) {
	if s.hub.count() == 0 {
		return
	}
	per := map[string]map[string]bool{}
	for _, p := range points {
		if per[p.AgentUID] == nil {
			per[p.AgentUID] = map[string]bool{}
		}
		per[p.AgentUID][p.Name] = true
	}
	for uid, names := range per {
		s.hub.publish(Event{Type: EventMetricsUpdated, AgentUID: uid, Data: map[string]any{"agent_uid": uid, "names": sortedKeys(names)}})
	}
}

// convert turns kept metrics into points. Attributes other than pipeline,
// stage and variant become part of the series name (name{k="v"}), so two
// series never fold into one.
func (s *Server) convert(agentHeader string, md pmetric.Metrics) ([]store.MetricPoint, int) {
	var out []store.MetricPoint
	skipped := 0
	now := time.Now()
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		rm := rms.At(i)
		res := rm.Resource().Attributes()
		uid := agentHeader
		if uid == "" {
			if v, ok := res.Get("service.instance.id"); ok {
				uid = v.AsString()
			}
		}
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
					p.Pipeline, p.Stage, p.Variant = attrOr(attrs, attrPipeline, resAttr), attrOr(attrs, attrStage, resAttr), attrOr(attrs, attrVariant, resAttr)
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

// querySeries serves stored own-metric buckets. Query: agent or host, name,
// pipeline, stage, variant, step (a resolution, default the finest), since
// (a duration back from now, default 1h), limit.
func (s *Server) querySeries(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	mq := store.MetricQuery{AgentUID: q.Get("agent"), Name: q.Get("name"), Pipeline: q.Get("pipeline"), Stage: q.Get("stage"), Variant: q.Get("variant")}
	if h := q.Get("host"); h != "" {
		a, err := s.hostAgent(r.Context(), h)
		if err != nil {
			return err
		}
		mq.AgentUID = a.InstanceUID
	}
	mq.Step = s.cfg.MetricResolutions[0].Step
	if st := q.Get("step"); st != "" {
		d, err := time.ParseDuration(st)
		if err != nil {
			return badRequest(fmt.Sprintf("step %q: want a duration such as 1m", st))
		}
		ok := false
		var steps []string
		for _, res := range s.cfg.MetricResolutions {
			steps = append(steps, res.Step.String())
			ok = ok || res.Step == d
		}
		if !ok {
			return badRequest(fmt.Sprintf("step %s is not stored; the resolutions are %s", d, strings.Join(steps, ", ")))
		}
		mq.Step = d
	}
	since := time.Hour
	if sv := q.Get("since"); sv != "" {
		d, err := time.ParseDuration(sv)
		if err != nil || d <= 0 {
			return badRequest(fmt.Sprintf("since %q: want a positive duration such as 15m", sv))
		}
		since = d
	}
	mq.Since = time.Now().Add(-since)
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			return badRequest(fmt.Sprintf("limit %q must be a positive integer", l))
		}
		mq.Limit = n
	}
	buckets, err := s.store.QueryMetrics(r.Context(), mq)
	if err != nil {
		return err
	}
	if buckets == nil {
		buckets = []store.MetricBucket{}
	}
	writeJSON(w, 200, map[string]any{"step_seconds": int64(mq.Step / time.Second), "buckets": buckets})
	return nil
}

// retentionLoop drops own-metric buckets past their retention.
func (s *Server) retentionLoop(ctx context.Context) {
	t := time.NewTicker(5 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := s.store.PruneMetrics(ctx, time.Now(), s.cfg.MetricResolutions); err != nil {
				s.log.Warn("prune own metrics", "err", err)
			} else if n > 0 {
				s.log.Debug("pruned own metrics", "buckets", n)
			}
		}
	}
}
