package testutil

import (
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
)

// OTLPSink is a real OTLP/HTTP metrics endpoint on loopback that keeps every
// batch it receives. Point an `otlp_http` exporter's endpoint at Endpoint().
type OTLPSink struct {
	srv *http.Server
	url string

	mu      sync.Mutex
	batches []pmetric.Metrics
	arrived chan struct{}
}

// NewOTLPSink starts the sink; it is shut down when the test ends.
func NewOTLPSink(t testing.TB) *OTLPSink {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &OTLPSink{url: "http://" + l.Addr().String(), arrived: make(chan struct{}, 1)}
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/metrics", s.handle)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.srv.Serve(l) }()
	t.Cleanup(func() { _ = s.srv.Close() })
	return s
}

func (s *OTLPSink) handle(w http.ResponseWriter, r *http.Request) {
	var src io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		// The otlp_http exporter compresses with gzip by default.
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		defer zr.Close()
		src = zr
	}
	body, err := io.ReadAll(src)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req := pmetricotlp.NewExportRequest()
	switch r.Header.Get("Content-Type") {
	case "application/json":
		err = req.UnmarshalJSON(body)
	default:
		err = req.UnmarshalProto(body)
	}
	if err != nil {
		http.Error(w, fmt.Sprintf("bad OTLP: %v", err), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.batches = append(s.batches, req.Metrics())
	s.mu.Unlock()
	select {
	case s.arrived <- struct{}{}:
	default:
	}
	out, _ := pmetricotlp.NewExportResponse().MarshalProto()
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

// Endpoint is the base URL for an otlp_http exporter (it appends /v1/metrics).
func (s *OTLPSink) Endpoint() string { return s.url }

// Metrics returns a copy of the list of batches received so far.
func (s *OTLPSink) Metrics() []pmetric.Metrics {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]pmetric.Metrics(nil), s.batches...)
}

// Reset forgets the batches received so far.
func (s *OTLPSink) Reset() {
	s.mu.Lock()
	s.batches = nil
	s.mu.Unlock()
}

// WaitFor polls cond with the batches received so far until it returns true,
// failing the test after timeout. The timeout bounds a hung collector; it is
// not a performance assertion.
func (s *OTLPSink) WaitFor(t testing.TB, timeout time.Duration, cond func([]pmetric.Metrics) bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if cond(s.Metrics()) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("OTLP sink: condition not met after %s (%d batches received)", timeout, len(s.Metrics()))
		}
		select {
		case <-s.arrived:
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// ScrapeCounter counts the distinct scrapes (data-point timestamps) per
// host.name of the batches a sink received, reading each batch once. Give
// WaitFor a condition built on it rather than one that regroups every batch
// on each call: that is quadratic in the batches, and under -race on a loaded
// machine one such call outlasted a package's 30-minute test timeout.
type ScrapeCounter struct {
	read int
	ts   map[string]map[pcommon.Timestamp]struct{}
}

// Add reads the batches it has not read yet (batches grows, as a sink's do).
func (c *ScrapeCounter) Add(batches []pmetric.Metrics) {
	if c.ts == nil {
		c.ts = map[string]map[pcommon.Timestamp]struct{}{}
	}
	for _, md := range batches[min(c.read, len(batches)):] {
		rms := md.ResourceMetrics()
		for i := 0; i < rms.Len(); i++ {
			ts, ok := firstTimestamp(rms.At(i))
			if !ok {
				continue
			}
			host := ""
			if v, ok := rms.At(i).Resource().Attributes().Get("host.name"); ok {
				host = v.AsString()
			}
			if c.ts[host] == nil {
				c.ts[host] = map[pcommon.Timestamp]struct{}{}
			}
			c.ts[host][ts] = struct{}{}
		}
	}
	c.read = len(batches)
}

// Scrapes is how many distinct scrapes of host were read.
func (c *ScrapeCounter) Scrapes(host string) int { return len(c.ts[host]) }

// firstTimestamp is the timestamp of a resource's first gauge or sum data
// point (a scrape stamps all its points alike).
func firstTimestamp(rm pmetric.ResourceMetrics) (pcommon.Timestamp, bool) {
	sms := rm.ScopeMetrics()
	for i := 0; i < sms.Len(); i++ {
		ms := sms.At(i).Metrics()
		for j := 0; j < ms.Len(); j++ {
			var dps pmetric.NumberDataPointSlice
			switch m := ms.At(j); m.Type() {
			case pmetric.MetricTypeGauge:
				dps = m.Gauge().DataPoints()
			case pmetric.MetricTypeSum:
				dps = m.Sum().DataPoints()
			default:
				continue
			}
			if dps.Len() > 0 {
				return dps.At(0).Timestamp(), true
			}
		}
	}
	return 0, false
}
