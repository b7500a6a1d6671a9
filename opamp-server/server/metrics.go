package server

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the server's own figures, served on /metrics.
type metrics struct {
	reg              *prometheus.Registry
	agentsConnected  prometheus.Gauge
	opampMessages    prometheus.Counter
	fullStateReqs    prometheus.Counter
	configsPushed    prometheus.Counter
	configsApplied   prometheus.Counter
	configsFailed    prometheus.Counter
	applyLatency     prometheus.Histogram
	ownMetricsOffers prometheus.Counter
	ingestPoints     *prometheus.CounterVec
	httpRequests     *prometheus.CounterVec
	streamClients    prometheus.Gauge
	streamDropped    prometheus.Counter
	authFailures     *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.agentsConnected = prometheus.NewGauge(prometheus.GaugeOpts{Name: "phoenix_server_agents_connected", Help: "Agents connected to this replica over OpAMP."})
	m.opampMessages = prometheus.NewCounter(prometheus.CounterOpts{Name: "phoenix_server_opamp_messages_total", Help: "AgentToServer messages received."})
	m.fullStateReqs = prometheus.NewCounter(prometheus.CounterOpts{Name: "phoenix_server_full_state_requests_total", Help: "Times an agent was asked for its full state (sequence gap or unknown agent)."})
	m.configsPushed = prometheus.NewCounter(prometheus.CounterOpts{Name: "phoenix_server_configs_pushed_total", Help: "Remote configs sent to agents."})
	m.configsApplied = prometheus.NewCounter(prometheus.CounterOpts{Name: "phoenix_server_configs_applied_total", Help: "Remote configs agents reported APPLIED."})
	m.configsFailed = prometheus.NewCounter(prometheus.CounterOpts{Name: "phoenix_server_configs_failed_total", Help: "Remote configs agents reported FAILED."})
	m.applyLatency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "phoenix_server_config_apply_seconds", Help: "Time from pushing a config to the agent reporting it APPLIED.",
		Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120},
	})
	m.ownMetricsOffers = prometheus.NewCounter(prometheus.CounterOpts{Name: "phoenix_server_own_metrics_offers_total", Help: "own_metrics connection settings offered to agents."})
	m.ingestPoints = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "phoenix_server_ingest_points_total", Help: "Own-metric data points received over OTLP, by outcome."}, []string{"outcome"})
	m.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "phoenix_server_http_requests_total", Help: "REST API requests by route and status code."}, []string{"route", "code"})
	m.streamClients = prometheus.NewGauge(prometheus.GaugeOpts{Name: "phoenix_server_stream_clients", Help: "Open /api/v1/stream WebSockets."})
	m.streamDropped = prometheus.NewCounter(prometheus.CounterOpts{Name: "phoenix_server_stream_events_dropped_total", Help: "Events dropped because a stream client was too slow."})
	m.authFailures = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "phoenix_server_auth_failures_total", Help: "Requests refused for a missing or bad token."}, []string{"endpoint"})
	m.reg.MustRegister(m.agentsConnected, m.opampMessages, m.fullStateReqs, m.configsPushed, m.configsApplied, m.configsFailed,
		m.applyLatency, m.ownMetricsOffers, m.ingestPoints, m.httpRequests, m.streamClients, m.streamDropped, m.authFailures,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
