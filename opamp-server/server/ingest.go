package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"

	"github.com/phoenix-otel/phoenix/opamp-server/api"
	"github.com/phoenix-otel/phoenix/opamp-server/identity"
	"github.com/phoenix-otel/phoenix/opamp-server/otlpingest"
	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// ingest is the OTLP/HTTP metrics receiver (/v1/metrics) the own_metrics
// offer points agents at. It takes protobuf or JSON, gzip or not, and only
// an enrolled agent's own credential: the figures are that agent's, whatever
// the request says. An X-Phoenix-Agent-Id header or a resource
// service.instance.id naming another agent is refused (403), and the
// per-agent series caps answer 413 (one request) or 429 (the agent's total).
func (s *Server) ingest(w http.ResponseWriter, r *http.Request) error {
	p, err := s.identity.Authenticate(r.Context(), bearer(r))
	if err != nil || p.Enrolling() {
		s.metrics.authFailures.WithLabelValues("otlp").Inc()
		w.Header().Set("WWW-Authenticate", `Bearer realm="phoenix-otlp"`)
		detail := "OTLP ingest needs 'Authorization: Bearer <the agent's own credential>', as offered in own_metrics"
		switch {
		case err == nil:
			detail = "the enrollment token only enrols an agent; OTLP ingest needs the agent's own credential, as offered in own_metrics"
		case errors.Is(err, identity.ErrRevoked):
			detail = "this agent's credential was revoked"
		}
		return &apiError{Status: http.StatusUnauthorized, Title: "Unauthorized", Detail: detail}
	}
	uid := p.UID
	if h := r.Header.Get(HeaderAgentID); h != "" && h != uid {
		return &apiError{Status: http.StatusForbidden, Title: "Forbidden", Field: HeaderAgentID,
			Detail: fmt.Sprintf("%s %q names another agent than the credential's (%s): figures are attributed to the credential's agent only", HeaderAgentID, h, uid)}
	}
	req, err := otlpingest.Decode(r.Header.Get("Content-Type"), r.Header.Get("Content-Encoding"), r.Body)
	switch {
	case errors.Is(err, otlpingest.ErrTooLarge):
		return &apiError{Status: http.StatusRequestEntityTooLarge, Title: "Body too large", Detail: err.Error()}
	case errors.Is(err, otlpingest.ErrUnsupportedMedia):
		return &apiError{Status: http.StatusUnsupportedMediaType, Title: "Unsupported media type", Detail: err.Error()}
	case err != nil:
		return badRequest(err.Error())
	}
	if err := otlpingest.CheckInstance(uid, req.Metrics()); err != nil {
		return &apiError{Status: http.StatusForbidden, Title: "Forbidden", Field: "resource.service.instance.id", Detail: err.Error()}
	}
	points, skipped := otlpingest.Convert(uid, req.Metrics(), time.Now())
	if err := s.ingestLimits.Admit(uid, points, time.Now()); err != nil {
		var le *otlpingest.LimitError
		if errors.As(err, &le) && le.Scope == "agent" {
			w.Header().Set("Retry-After", strconv.Itoa(int(le.ResetIn.Seconds())+1))
			return &apiError{Status: http.StatusTooManyRequests, Title: "Series cap reached", Detail: err.Error()}
		}
		return &apiError{Status: http.StatusRequestEntityTooLarge, Title: "Too many series in one request", Detail: err.Error()}
	}
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
	ct := r.Header.Get("Content-Type")
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
		s.hub.publish(Event{Type: EventMetricsUpdated, AgentUID: uid, Data: api.MetricsUpdated{AgentUID: uid, Names: sortedKeys(names)}})
	}
}

// convert is otlpingest.Convert (kept for the server's benchmark).
func (s *Server) convert(uid string, md pmetric.Metrics) ([]store.MetricPoint, int) {
	return otlpingest.Convert(uid, md, time.Now())
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
	out := api.MetricSeries{StepSeconds: int64(mq.Step / time.Second), Buckets: make([]api.MetricBucket, len(buckets))}
	for i, b := range buckets {
		out.Buckets[i] = api.MetricBucket{AgentUID: b.AgentUID, Name: b.Name, Pipeline: b.Pipeline, Stage: b.Stage, Variant: b.Variant,
			StepSeconds: b.Step, Start: b.Start, Last: b.Last, Min: b.Min, Max: b.Max, Sum: b.Sum, Count: b.Count}
	}
	writeJSON(w, 200, out)
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
