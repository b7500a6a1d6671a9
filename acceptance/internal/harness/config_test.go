package harness

import "testing"

// The content hash ignores what the agent injects (its health_check
// extension and service::telemetry), key order and comments, and nothing
// else.
func TestContentHashIgnoresOnlyTheAgentsInjections(t *testing.T) {
	desired := `receivers:
  hostmetrics:
    collection_interval: 10s
exporters:
  debug: {}
service:
  pipelines:
    metrics:
      receivers: [hostmetrics]
      exporters: [debug]
`
	running := `# written by the agent
service:
  telemetry:
    metrics:
      level: none
  extensions: [health_check/phoenix_agent]
  pipelines:
    metrics:
      exporters: [debug]
      receivers: [hostmetrics]
exporters:
  debug: {}
extensions:
  health_check/phoenix_agent:
    endpoint: 127.0.0.1:13133
receivers:
  hostmetrics:
    collection_interval: 10s
`
	hd, err := ContentHash(desired)
	if err != nil {
		t.Fatal(err)
	}
	hr, err := ContentHash(running)
	if err != nil {
		t.Fatal(err)
	}
	if hd != hr {
		t.Errorf("desired and running configs differ only in the agent's injections, yet hash %s vs %s", hd, hr)
	}
	// A user's own extension is content: it changes the hash.
	withExt := desired + "extensions:\n  pprof: {}\n"
	if h, _ := ContentHash(withExt); h == hd {
		t.Error("an extension of the user's does not change the hash")
	}
	other := `receivers:
  hostmetrics:
    collection_interval: 5s
`
	if h, _ := ContentHash(other); h == hd {
		t.Error("another interval hashes the same")
	}
	if _, err := ContentHash("receivers: [unclosed"); err == nil {
		t.Error("a config that is not YAML hashed")
	}
}
