package pipeline

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
)

const goodRaw = `receivers:
  host_metrics:
    scrapers:
      process:
exporters:
  debug:
service:
  pipelines:
    metrics:
      receivers: [host_metrics]
      exporters: [debug]
`

func write(t *testing.T, body string) string {
	p := filepath.Join(t.TempDir(), "my.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// A bad raw config is refused before anything is sent, each problem as
// file:line:column.
func TestDeployFileRefusedLocally(t *testing.T) {
	bad := write(t, strings.Replace(goodRaw, "  debug:\n", "  kafka:\n", 1))
	o := &DeployOptions{File: bad, Name: "own"}
	_, err := o.Request(nil)
	var ce *cmdutil.ExitError
	if !errors.As(err, &ce) || ce.Code != cmdutil.ExitValidation || !strings.Contains(err.Error(), bad+":line 6, column 3 (exporters.kafka): unknown exporter type") {
		t.Fatalf("bad raw config: %v", err)
	}
	o = &DeployOptions{File: write(t, goodRaw), Name: "own", Params: []string{"k=1"}}
	if _, err := o.Request(nil); !errors.As(err, &ce) || ce.Code != cmdutil.ExitUsage {
		t.Fatalf("--file with --param: %v", err)
	}
	o = &DeployOptions{File: filepath.Join(t.TempDir(), "none.yaml"), Name: "own"}
	if _, err := o.Request(nil); !errors.As(err, &ce) || ce.Code != cmdutil.ExitNotFound {
		t.Fatalf("missing file: %v", err)
	}
	o = &DeployOptions{File: "-", Name: "own", Hosts: []string{"h1"}}
	req, err := o.Request(strings.NewReader(goodRaw))
	if err != nil || req.Config != goodRaw || req.Template != "" || req.Target == nil || req.Target.Hosts[0] != "h1" {
		t.Fatalf("stdin: %+v %v", req, err)
	}
}
