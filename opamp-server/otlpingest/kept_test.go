package otlpingest

import "testing"

// The collector's export and receive failure figures are kept; its other
// internal figures are not.
func TestExporterAndReceiverFailureFiguresAreKept(t *testing.T) {
	for _, n := range []string{"otelcol_exporter_send_failed_metric_points", "otelcol_exporter_sent_metric_points",
		"otelcol_exporter_enqueue_failed_metric_points", "otelcol_receiver_refused_metric_points", "otelcol_receiver_failed_metric_points",
		"otelcol_process_cpu_seconds", "phoenix.cardinality.series"} {
		if !kept(n) {
			t.Errorf("%s is dropped", n)
		}
	}
	for _, n := range []string{"otelcol_exporter_queue_size", "otelcol_processor_batch_batch_send_size", "http.server.request.duration"} {
		if kept(n) {
			t.Errorf("%s is kept", n)
		}
	}
}
