package acceptance

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phoenix-otel/phoenix/acceptance/internal/harness"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

// invalidCase is one bad input and what its error must name.
type invalidCase struct {
	what  string
	args  []string
	names []string // every one must appear in the output
}

// AT-P06: `pipeline validate` and `pipeline deploy` refuse invalid YAML and
// invalid parameters with a non-zero exit and an error naming the line or
// the field; a refused deploy changes nothing on the server or the host.
func atP06InvalidInputNamesLineOrField(t *testing.T) {
	a := begin(t, "AT-P06",
		"`phoenix pipeline validate` and `pipeline deploy` with an invalid YAML or parameter exit non-zero with a clear error that names the line or the field",
		"every case: exit 4 and the error names file:line (YAML) or the parameter/field; a refused deploy stores no version and the host's config hash is unchanged", false)
	td := func(f string) string { return filepath.Join("acceptance", "testdata", f) }
	host := a.host("h")
	ag := a.agent(host, harness.AgentOptions{})
	a.deleteAtEnd("at-p06")
	a.must("pipeline", "deploy", "process-topk-v1", "--name", "at-p06", "--host", host, "--param", "collection_interval=10s", "--watch", "--timeout", "3m")
	var before api.DeploymentStatus
	a.Require("pipeline status", a.cli.JSON(a.ctx, &before, "pipeline", "status", "at-p06"))
	_, cfgBefore, err := ag.Collector()
	a.Require("running collector", err)

	badK := "k=abc"
	if a.fault("the `k=abc` case replaced by a valid value, k=5") {
		badK = "k=5"
	}
	deploy := func(extra ...string) []string {
		return append([]string{"pipeline", "deploy", "process-topk-v1", "--name", "at-p06"}, extra...)
	}
	cases := []invalidCase{
		{"YAML syntax error (local)", []string{"pipeline", "validate", td("bad-syntax.yaml")}, []string{"bad-syntax.yaml:9:"}},
		{"YAML syntax error (--remote, the server)", []string{"pipeline", "validate", "--remote", td("bad-syntax.yaml")}, []string{"bad-syntax.yaml:9:"}},
		{"undefined processor in a pipeline", []string{"pipeline", "validate", td("bad-reference.yaml")}, []string{"bad-reference.yaml:16:", "service.pipelines.metrics.processors", "topk/missing"}},
		{"unknown field (the collector's own validate)", []string{"pipeline", "validate", "--otelcol", relPath(s.bins.Otelcol), td("bad-field.yaml")}, []string{"send_batch_sise"}},
		{"parameter of the wrong type", deploy("--param", badK), []string{`parameter "k"`, "integer"}},
		{"parameter out of bounds", deploy("--param", "k=0"), []string{`parameter "k"`, "from 1 to 10000"}},
		{"unknown parameter", deploy("--param", "nosuch=1"), []string{`parameter "nosuch"`, "unknown parameter"}},
		{"bad duration", deploy("--param", "collection_interval=10x"), []string{`parameter "collection_interval"`, "duration"}},
		{"bad destination", deploy("--destination", "otlphttp=ftp://backend:4318"), []string{`"destination.endpoint"`, "scheme"}},
	}
	var passed []string
	for _, c := range cases {
		r := a.cli.Run(a.ctx, c.args...)
		out := r.Stdout + r.Stderr
		if r.Code == 0 {
			a.Failf("%s: `phoenix %s` exited 0:\n%s", c.what, strings.Join(c.args, " "), out)
		}
		if r.Code != 4 {
			a.Failf("%s: exit %d, want 4 (validation failed):\n%s", c.what, r.Code, out)
		}
		for _, n := range c.names {
			if !strings.Contains(out, n) {
				a.Failf("%s: the error does not name %q:\n%s", c.what, n, out)
			}
		}
		passed = append(passed, fmt.Sprintf("%s -> %s", c.what, strings.Join(c.names, " ")))
	}
	// Nothing changed: still version 1, same hash reported, same collector
	// config running.
	var after api.DeploymentStatus
	a.Require("pipeline status", a.cli.JSON(a.ctx, &after, "pipeline", "status", "at-p06"))
	if after.Version != 1 || len(after.Hosts) != 1 || after.Hosts[0].ReportedHash != before.Hosts[0].ReportedHash {
		a.Failf("after the refused deploys: version %d, hosts %+v; before: %+v", after.Version, after.Hosts, before.Hosts)
	}
	_, cfgAfter, err := ag.Collector()
	a.Require("running collector", err)
	if cfgAfter != cfgBefore {
		a.Failf("the host's collector config changed after refused deploys")
	}
	a.Figure("cases", float64(len(cases)))
	a.Measured("%d/%d invalid inputs refused with exit 4, each naming its line or field (%s); afterwards still version 1, the host's config hash and running config unchanged",
		len(passed), len(cases), strings.Join(passed, "; "))
}

// relPath names a file under the repository root relative to it, as the
// CLI (which runs there) is given it.
func relPath(p string) string {
	if r, err := filepath.Rel(s.root, p); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return p
}
