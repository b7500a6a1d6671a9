package agent

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/open-telemetry/opamp-go/protobufs"
)

// exportFailure is the last export failure the collector logged.
type exportFailure struct {
	At       time.Time
	Exporter string // component id, e.g. otlp_http/backend
	Error    string
}

// exportFailureHealthKey is the ComponentHealthMap key of an exporter, in the
// form the collector's own opamp extension uses ("exporter:<id>"), so the
// server reads phoenix-agent and third-party agents alike.
func exportFailureHealthKey(id string) string { return "exporter:" + id }

// lastExportFailure finds the newest export failure in the collector's log
// tail: the exporter helper's "Exporting failed." lines (retries, dropped and
// rejected data), with the time, the exporter and the error from the line's
// JSON fields.
func lastExportFailure(t *logTail) (exportFailure, bool) {
	line := t.lastMatching(func(l string) bool { return strings.Contains(l, "\tExporting failed.") })
	if line == "" {
		return exportFailure{}, false
	}
	return parseExportFailure(line)
}

// parseExportFailure reads a console-encoded collector log line:
// time \t level \t caller \t message \t {json fields}.
func parseExportFailure(line string) (exportFailure, bool) {
	parts := strings.SplitN(line, "\t", 5)
	if len(parts) < 5 {
		return exportFailure{}, false
	}
	at, err := time.Parse(time.RFC3339Nano, parts[0])
	if err != nil {
		return exportFailure{}, false
	}
	var fields struct {
		ID    string `json:"otelcol.component.id"`
		Name  string `json:"name"` // older collectors
		Error string `json:"error"`
	}
	if err := json.Unmarshal([]byte(parts[4]), &fields); err != nil {
		return exportFailure{}, false
	}
	id := fields.ID
	if id == "" {
		id = fields.Name
	}
	if id == "" || fields.Error == "" {
		return exportFailure{}, false
	}
	const maxErr = 1 << 10 // the error text goes to the server: keep it bounded
	if len(fields.Error) > maxErr {
		fields.Error = fields.Error[:maxErr] + "…"
	}
	return exportFailure{At: at, Exporter: id, Error: fields.Error}, true
}

// exportHealth is the exporter entry of the reported health while exports
// fail (nil when none failed within window: the collector logs failures and
// not successes, so recovery is the absence of failures for that long).
func exportHealth(p *collectorProc, now time.Time, window time.Duration) (string, *protobufs.ComponentHealth) {
	if p == nil {
		return "", nil
	}
	f, ok := lastExportFailure(p.log)
	if !ok || now.Sub(f.At) > window || f.At.Before(p.started.Add(-time.Second)) {
		return "", nil
	}
	return exportFailureHealthKey(f.Exporter), &protobufs.ComponentHealth{
		Healthy:            false,
		Status:             "export failing",
		LastError:          fmt.Sprintf("%s: %s", f.Exporter, f.Error),
		StatusTimeUnixNano: uint64(f.At.UnixNano()),
	}
}

// healthKey is what makes two reported healths different enough to send.
func healthKey(h *protobufs.ComponentHealth) string {
	if h == nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%v|%s|%s|%d", h.GetHealthy(), h.GetStatus(), h.GetLastError(), h.GetStartTimeUnixNano())
	for _, k := range sortedHealthKeys(h.GetComponentHealthMap()) {
		c := h.GetComponentHealthMap()[k]
		fmt.Fprintf(&b, "|%s=%v/%s/%s", k, c.GetHealthy(), c.GetStatus(), c.GetLastError())
	}
	return b.String()
}

func sortedHealthKeys(m map[string]*protobufs.ComponentHealth) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}
