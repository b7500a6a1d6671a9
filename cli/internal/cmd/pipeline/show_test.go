package pipeline_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/phoenix-otel/phoenix/cli/internal/commands"
	"github.com/phoenix-otel/phoenix/pipelines"
)

// pipeline show renders with the catalog built into the CLI: no server
// needed (here the configured one does not exist); --remote asks it.
func TestPipelineShowRendersWithoutAServer(t *testing.T) {
	run := func(args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		args = append([]string{"--server", "http://127.0.0.1:1"}, args...)
		code := commands.Main(context.Background(), args, commands.Streams{In: strings.NewReader(""), Out: &out, Err: &errb},
			func(k string) string { return map[string]string{"HOME": t.TempDir()}[k] })
		return out.String(), errb.String(), code
	}
	out, errs, code := run("pipeline", "show", "process-topk-v1", "--param", "k=7", "--destination", "prometheusremotewrite=http://prom:9090/api/v1/write", "--host-name", "web-1")
	want, err := pipelines.Render(pipelines.Spec{Template: "process-topk-v1", Params: map[string]any{"k": "7"},
		Destination: pipelines.Destination{Type: "prometheusremotewrite", Endpoint: "http://prom:9090/api/v1/write"}}, pipelines.Context{HostName: "web-1"})
	if err != nil {
		t.Fatal(err)
	}
	if code != 0 || out != string(want.YAML) {
		t.Fatalf("exit %d, stderr %s\nout:\n%s", code, errs, out)
	}
	if _, errs, code = run("pipeline", "show", "process-topk-v1", "--param", "k=0"); code != commands.ExitValidation || !strings.Contains(errs, `parameter "k"`) {
		t.Errorf("bad parameter: exit %d, %s", code, errs)
	}
	if _, errs, code = run("pipeline", "show", "process-nope"); code != commands.ExitNotFound || !strings.Contains(errs, "process-topk-v1") {
		t.Errorf("unknown template: exit %d, %s", code, errs)
	}
	if _, errs, code = run("pipeline", "show", "process-topk-v1", "--remote"); code == 0 {
		t.Errorf("--remote with no server must fail, got exit 0: %s", errs)
	}
}
