package commands_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/phoenix-otel/phoenix/cli/internal/commands"
	"github.com/phoenix-otel/phoenix/internal/buildinfo"
	"github.com/phoenix-otel/phoenix/internal/testutil"
	"github.com/phoenix-otel/phoenix/opamp-server/agentsim"
	"github.com/phoenix-otel/phoenix/pipelines"
)

func TestUsageErrorsExit2(t *testing.T) {
	e := newEnv(t)
	for _, args := range [][]string{
		{"bogus"},
		{"pipeline", "bogus"},
		{"pipeline", "list", "--bogus"},
		{"pipeline", "show"},
		{"pipeline", "show", "a", "b"},
		{"pipeline", "list", "-o", "xml"},
		{"pipeline", "deploy", "process-topk-v1"},                // no --name
		{"pipeline", "deploy", "process-topk-v1", "--name", "x"}, // no target
		{"pipeline", "deploy", "process-topk-v1", "--name", "x", "--param", "k"}, // not k=v
		{"pipeline", "rollback", "web"},                                          // no --to-version
		{"pipeline", "get-active-config"},
		{"loadsim", "start", "--profile", "realistic"}, // no --target-host
		{"loadsim", "stop"},
		{"loadsim", "stop", "ls-1", "--all"},
		{"agent", "show"},
	} {
		r := e.run(args...)
		if r.code != commands.ExitUsage {
			t.Errorf("phoenix %s: want exit 2, got %s", strings.Join(args, " "), r)
			continue
		}
		if !strings.HasPrefix(r.err, "Error: ") || !strings.Contains(r.err, "--help' for usage") {
			t.Errorf("phoenix %s: usage error without the message and the help pointer:\n%s", strings.Join(args, " "), r.err)
		}
	}
	// A bare group prints its help and succeeds, as kubectl does.
	if r := e.must(0, "pipeline"); !strings.Contains(r.out, "list-deployments") {
		t.Fatalf("group help:\n%s", r.out)
	}
}

func TestVersion(t *testing.T) {
	e := newEnv(t)
	r := e.must(0, "version")
	if !strings.Contains(r.out, "client:") || !strings.Contains(r.out, buildinfo.String()) || !strings.Contains(r.out, "server:") {
		t.Fatalf("version:\n%s", r)
	}
	var v struct {
		Client, Server map[string]string
	}
	r = e.must(0, "version", "-o", "json")
	if err := json.Unmarshal([]byte(r.out), &v); err != nil || v.Client["version"] != buildinfo.Version || v.Server["version"] != buildinfo.Version {
		t.Fatalf("version -o json: %v\n%s", err, r.out)
	}
	// No server: the client's version still prints.
	e.vars["PHOENIX_SERVER"] = "http://127.0.0.1:1"
	if r := e.must(0, "version"); !strings.Contains(r.out, "server:   unknown") {
		t.Fatalf("version without a server:\n%s", r.out)
	}
	if r := e.must(0, "version", "--client"); strings.Contains(r.out, "server") {
		t.Fatalf("version --client asked the server:\n%s", r.out)
	}
}

func TestConfigPrecedenceAndTokens(t *testing.T) {
	e := newEnv(t)
	url, tok := e.vars["PHOENIX_SERVER"], e.vars["PHOENIX_TOKEN"]
	delete(e.vars, "PHOENIX_SERVER")
	delete(e.vars, "PHOENIX_TOKEN")

	// Nothing set: the default server, which is not there.
	r := e.must(1, "pipeline", "list")
	if !strings.Contains(r.err, "cannot reach phoenix-server at http://127.0.0.1:8080") || !strings.Contains(r.err, "Hint: is phoenix-server running") {
		t.Fatalf("no server:\n%s", r)
	}
	// The config file.
	e.must(0, "config", "set-server", url+"/")
	e.must(0, "config", "set-token", "wrong-token")
	st, err := os.Stat(e.vars["PHOENIX_CONFIG"])
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("config file %v mode %v, want 0600", err, st)
	}
	r = e.must(1, "pipeline", "list")
	if !strings.Contains(r.err, "bad bearer token") || !strings.Contains(r.err, "refused the API token") {
		t.Fatalf("wrong token from the file:\n%s", r)
	}
	// The environment beats the file.
	e.vars["PHOENIX_TOKEN"] = tok
	e.must(0, "pipeline", "list")
	// The flag beats the environment.
	e.must(1, "pipeline", "list", "--token", "flag-token")
	e.must(0, "pipeline", "list", "--token", tok, "--server", url)
	if r := e.must(2, "pipeline", "list", "--server", "ftp://x"); !strings.Contains(r.err, `"ftp://x" is not an http:// or https:// URL`) {
		t.Fatalf("bad --server:\n%s", r)
	}
	// view names each source and masks the token.
	r = e.must(0, "config", "view")
	for _, want := range []string{"server", url, "config file", "token", "env", "phx_****"} {
		if !strings.Contains(r.out, want) {
			t.Fatalf("config view lacks %q:\n%s", want, r.out)
		}
	}
	if strings.Contains(r.out, tok) {
		t.Fatal("config view printed the token")
	}
	// With no flag, env or file token, a local server's token file is read.
	delete(e.vars, "PHOENIX_TOKEN")
	e.must(0, "config", "set-token", "")
	e.vars["PHOENIX_DATA_DIR"] = filepath.Join(e.dir, "data") // the server's data dir
	e.must(0, "pipeline", "list")
	r = e.must(0, "config", "view", "-o", "json")
	var s struct {
		Token struct{ Source, Path string }
	}
	if err := json.Unmarshal([]byte(r.out), &s); err != nil || s.Token.Source != "local server token file" || !strings.HasSuffix(s.Token.Path, filepath.Join("data", "api-token")) {
		t.Fatalf("token source: %v %+v", err, s)
	}
	// A broken config file is named.
	os.WriteFile(e.vars["PHOENIX_CONFIG"], []byte("servr: x\n"), 0o600)
	if r := e.must(1, "pipeline", "list"); !strings.Contains(r.err, "config file") || !strings.Contains(r.err, "servr") {
		t.Fatalf("broken config file:\n%s", r)
	}
}

func TestPipelineListAndShow(t *testing.T) {
	e := newEnv(t)
	r := e.must(0, "pipeline", "list")
	golden(t, "pipeline-list.txt", r.out)

	r = e.must(0, "pipeline", "list", "-o", "json")
	var cat struct {
		Templates []struct{ Name string }
	}
	if err := json.Unmarshal([]byte(r.out), &cat); err != nil || len(cat.Templates) != len(pipelines.Names()) {
		t.Fatalf("list -o json: %v\n%s", err, r.out)
	}
	r = e.must(0, "pipeline", "list", "-o", "yaml")
	var y map[string]any
	if err := yaml.Unmarshal([]byte(r.out), &y); err != nil || y["templates"] == nil {
		t.Fatalf("list -o yaml: %v\n%s", err, r.out)
	}

	// show prints exactly what the catalog renders with those parameters.
	r = e.must(0, "pipeline", "show", "process-topk-v1", "--param", "k=20", "--destination", "otlphttp=http://gateway:4318", "--host-name", "web-1")
	want, err := pipelines.Render(pipelines.Spec{Template: "process-topk-v1", Params: map[string]any{"k": "20"},
		Destination: pipelines.Destination{Type: "otlphttp", Endpoint: "http://gateway:4318"}}, pipelines.Context{HostName: "web-1"})
	if err != nil {
		t.Fatal(err)
	}
	if r.out != string(want.YAML) {
		t.Fatalf("show differs from the catalog's render:\n%s", r.out)
	}
	r = e.must(0, "pipeline", "show", "process-topk-v1", "--params")
	golden(t, "pipeline-show-params.txt", r.out)

	r = e.must(4, "pipeline", "show", "process-topk-v1", "--param", "k=0")
	if !strings.Contains(r.err, `parameter "k"`) || !strings.Contains(r.err, "1") {
		t.Fatalf("bad param:\n%s", r)
	}
	r = e.must(3, "pipeline", "show", "process-nope")
	if !strings.Contains(r.err, `"process-nope"`) || !strings.Contains(r.err, "process-topk-v1") || !strings.Contains(r.err, "phoenix pipeline list") {
		t.Fatalf("unknown template:\n%s", r)
	}
}

const badYAML = `receivers:
  otlp:
    protocols:
      grpc:
processors:
  batch:
exporters:
  debug:
service:
  pipelines:
    metrics:
      receivers: [otlp]
      processors: [batch, nosuch]
      exporters: [debug]
`

func TestPipelineValidate(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte(badYAML), 0o644)
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte(strings.Replace(badYAML, ", nosuch", "", 1)), 0o644)
	broken := filepath.Join(dir, "broken.yaml")
	os.WriteFile(broken, []byte("receivers:\n  otlp: {\n"), 0o644)

	for _, remote := range []bool{false, true} {
		args := func(a ...string) []string {
			if remote {
				a = append(a, "--remote")
			}
			return a
		}
		if r := e.must(0, args("pipeline", "validate", good)...); r.out != good+": valid\n" {
			t.Fatalf("valid file (remote=%v):\n%s", remote, r)
		}
		r := e.must(4, args("pipeline", "validate", bad)...)
		// file:line:column: path: reason
		if !regexp.MustCompile(regexp.QuoteMeta(bad) + `:13:\d+: .*nosuch`).MatchString(r.out) {
			t.Fatalf("invalid file (remote=%v): no line, column and reason:\n%s", remote, r)
		}
		if !strings.Contains(r.err, "is not a valid collector config: 1 problem(s)") {
			t.Fatalf("invalid file (remote=%v): stderr:\n%s", remote, r)
		}
		r = e.must(4, args("pipeline", "validate", broken)...)
		if !regexp.MustCompile(regexp.QuoteMeta(broken) + `:\d+:\d+: `).MatchString(r.out) {
			t.Fatalf("YAML syntax error (remote=%v):\n%s", remote, r)
		}
	}
	r := e.must(4, "pipeline", "validate", bad, "-o", "json")
	var v struct {
		Valid    bool
		Problems []struct {
			Line, Column int
			Message      string
		}
	}
	if err := json.Unmarshal([]byte(r.out), &v); err != nil || v.Valid || len(v.Problems) != 1 || v.Problems[0].Line != 13 {
		t.Fatalf("validate -o json: %v\n%s", err, r.out)
	}
	// stdin, and no server needed for the local check.
	e.vars["PHOENIX_SERVER"] = "http://127.0.0.1:1"
	if r := e.runIn(badYAML, "pipeline", "validate", "-"); r.code != 4 || !strings.Contains(r.out, "-:13:") {
		t.Fatalf("validate - (no server):\n%s", r)
	}
	e.must(3, "pipeline", "validate", filepath.Join(dir, "missing.yaml"))
}

func TestValidateWithTheCollector(t *testing.T) {
	bin := testutil.OtelcolBinary(t)
	e := newEnv(t)
	// Structurally fine, but the collector refuses the unknown field.
	cfg := strings.Replace(strings.Replace(badYAML, ", nosuch", "", 1), "  batch:\n", "  batch:\n    timeoutz: 1s\n", 1)
	f := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(f, []byte(cfg), 0o644)
	e.must(0, "pipeline", "validate", f)
	r := e.must(4, "pipeline", "validate", f, "--otelcol", bin)
	if !strings.Contains(r.out, "the collector refuses it") || !strings.Contains(r.out, "timeoutz") {
		t.Fatalf("collector validate:\n%s", r)
	}
}

func deploymentVersion(t *testing.T, e *env, name string) int {
	t.Helper()
	r := e.must(0, "pipeline", "list-deployments", "-o", "json")
	var resp struct {
		Deployments []struct {
			Name    string
			Version int
		}
	}
	if err := json.Unmarshal([]byte(r.out), &resp); err != nil {
		t.Fatal(err)
	}
	for _, d := range resp.Deployments {
		if d.Name == name {
			return d.Version
		}
	}
	return 0
}

func TestDeployLifecycle(t *testing.T) {
	e := newEnv(t)
	a := e.agent("web-1", map[string]string{"role": "web"})
	e.agent("db-1", nil)
	eventually(t, "agents known", func() (bool, string) {
		r := e.run("agent", "list")
		return strings.Contains(r.out, "web-1") && strings.Contains(r.out, "db-1"), r.out
	})
	if r := e.must(0, "pipeline", "list-deployments"); r.out != "no deployments\n" {
		t.Fatalf("empty list:\n%s", r.out)
	}

	// Deploy and follow it until applied.
	r := e.must(0, "pipeline", "deploy", "process-topk-v1", "--name", "web", "--host", "web-1", "--param", "k=5", "--destination", "debug", "--watch", "--timeout", "60s")
	if !strings.Contains(r.out, "deployment web created: version 1, template process-topk-v1, target web-1") ||
		!regexp.MustCompile(`deployment web version 1: applied`).MatchString(r.out) || !strings.Contains(r.out, "web-1: applied") {
		t.Fatalf("deploy --watch:\n%s", r)
	}
	v1 := a.Received()
	if len(v1) != 1 || !strings.Contains(string(v1[0].Body), "k: 5") && !strings.Contains(string(v1[0].Body), "top_k: 5") {
		t.Fatalf("agent received %d configs", len(v1))
	}

	r = e.must(0, "pipeline", "status", "web")
	if !strings.Contains(r.out, "deployment web version 1: applied (1 host(s): 1 applied") || !regexp.MustCompile(`web-1\s+web\s+1\s+applied`).MatchString(r.out) {
		t.Fatalf("status:\n%s", r.out)
	}
	r = e.must(0, "pipeline", "status", "--target-host", "db-1")
	if !regexp.MustCompile(`db-1\s+none`).MatchString(r.out) {
		t.Fatalf("status of a host without deployment:\n%s", r.out)
	}
	r = e.must(0, "pipeline", "status")
	if !strings.Contains(r.out, "web-1") || !strings.Contains(r.out, "db-1") {
		t.Fatalf("status of every host:\n%s", r.out)
	}
	r = e.must(0, "pipeline", "list-deployments")
	if !regexp.MustCompile(`web\s+process-topk-v1\s+1\s+applied\s+1/1\s+web-1`).MatchString(r.out) {
		t.Fatalf("list-deployments:\n%s", r.out)
	}
	e.must(0, "pipeline", "list-deployments", "--status", "applied")
	if r := e.must(0, "pipeline", "list-deployments", "--status", "failed"); r.out != "no deployments\n" {
		t.Fatalf("--status failed:\n%s", r.out)
	}

	// get-active-config prints what the agent reports it runs.
	r = e.must(0, "pipeline", "get-active-config", "--target-host", "web-1")
	if r.out != string(a.Effective()) || r.out == "" {
		t.Fatalf("active config differs from the agent's effective config:\n%s", r.out)
	}
	if r2 := e.must(0, "pipeline", "get-active-config", "web"); r2.out != r.out {
		t.Fatal("get-active-config <deployment> differs from --target-host for its only host")
	}
	if r := e.must(0, "pipeline", "get-active-config", "--target-host", "web-1", "--desired"); r.out != string(v1[0].Body) {
		t.Fatal("--desired differs from the pushed config")
	}
	e.must(3, "pipeline", "get-active-config", "--target-host", "nope")

	// A second version, then roll back to the first.
	r = e.must(0, "pipeline", "deploy", "process-topk-v1", "--name", "web", "--param", "k=7", "--watch", "--timeout", "60s")
	if !strings.Contains(r.out, "deployment web updated: version 2") || !strings.Contains(r.out, "version 2: applied") {
		t.Fatalf("update:\n%s", r)
	}
	r = e.must(0, "pipeline", "versions", "web")
	if !regexp.MustCompile(`(?m)^1\s+process-topk-v1\s+k=5\s+debug\s+web-1`).MatchString(r.out) || !regexp.MustCompile(`(?m)^2\s+.*k=7.*current$`).MatchString(r.out) {
		t.Fatalf("versions:\n%s", r.out)
	}
	r = e.must(0, "pipeline", "rollback", "web", "--to-version", "1", "--watch", "--timeout", "60s")
	if !strings.Contains(r.out, "deployment web rolled back to version 1: now version 3") || !strings.Contains(r.out, "version 3: applied") {
		t.Fatalf("rollback:\n%s", r)
	}
	rec := a.Received()
	if last := rec[len(rec)-1]; stripHeader(last.Body) != stripHeader(v1[0].Body) {
		t.Fatalf("after rollback the agent runs a config different from version 1:\n%s\n---\n%s", last.Body, v1[0].Body)
	}
	if r := e.must(3, "pipeline", "rollback", "web", "--to-version", "9"); !strings.Contains(r.err, "no version 9") {
		t.Fatalf("rollback to a missing version:\n%s", r)
	}
	e.must(3, "pipeline", "rollback", "nope", "--to-version", "1")

	// Delete asks first; "n" keeps it.
	r = e.runIn("n\n", "pipeline", "delete", "web")
	if r.code != 1 || !strings.Contains(r.err, "Delete deployment web (version 3, 1 host(s))?") || !strings.Contains(r.err, "was not deleted") {
		t.Fatalf("delete answered n:\n%s", r)
	}
	if deploymentVersion(t, e, "web") != 3 {
		t.Fatal("delete without confirmation deleted")
	}
	r = e.runIn("y\n", "pipeline", "delete", "web", "--watch", "--timeout", "60s")
	if r.code != 0 || !strings.Contains(r.out, "deployment web deleted") || !strings.Contains(r.out, "host web-1: minimal config (no deployment)") {
		t.Fatalf("delete:\n%s", r)
	}
	e.must(3, "pipeline", "status", "web")
	e.must(3, "pipeline", "delete", "web", "--yes")
}

// stripHeader drops the comment lines (the header names the version).
func stripHeader(b []byte) string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestDeployInvalidChangesNothing(t *testing.T) {
	e := newEnv(t)
	e.agent("web-1", nil)
	e.agent("web-2", nil)

	// A bad parameter of a new deployment: exit 4, nothing stored.
	r := e.must(4, "pipeline", "deploy", "process-topk-v1", "--name", "web", "--host", "web-1", "--param", "k=-5")
	if !strings.Contains(r.err, `parameter "k"`) || !strings.Contains(r.err, "Error: ") {
		t.Fatalf("bad param:\n%s", r)
	}
	for _, args := range [][]string{
		{"--param", "ranking=loudest"},
		{"--param", "nosuch=1"},
		{"--destination", "otlphttp"}, // no endpoint
		{"--destination", "carrier-pigeon=x"},
	} {
		r := e.must(4, append([]string{"pipeline", "deploy", "process-topk-v1", "--name", "web", "--host", "web-1"}, args...)...)
		if !strings.Contains(r.err, "Error: ") {
			t.Fatalf("%v:\n%s", args, r)
		}
	}
	e.must(4, "pipeline", "deploy", "process-nope", "--name", "web", "--host", "web-1")
	e.must(4, "pipeline", "deploy", "process-topk-v1", "--name", "Bad_Name", "--host", "web-1")
	if r := e.must(0, "pipeline", "list-deployments"); r.out != "no deployments\n" {
		t.Fatalf("a refused deploy stored something:\n%s", r.out)
	}

	// A bad parameter of a new version: exit 4, the version is unchanged
	// and the agent gets nothing new.
	e.must(0, "pipeline", "deploy", "process-topk-v1", "--name", "web", "--host", "web-1", "--watch", "--timeout", "60s")
	before := e.must(0, "pipeline", "status", "web", "-o", "json").out
	r = e.must(4, "pipeline", "deploy", "process-topk-v1", "--name", "web", "--param", "k=100000")
	if !strings.Contains(r.err, `parameter "k"`) {
		t.Fatalf("bad param on update:\n%s", r)
	}
	if v := deploymentVersion(t, e, "web"); v != 1 {
		t.Fatalf("refused update made version %d", v)
	}
	after := e.must(0, "pipeline", "status", "web", "-o", "json").out
	if stripVolatile(before) != stripVolatile(after) {
		t.Fatalf("status changed after a refused update:\n%s\n---\n%s", before, after)
	}

	// An overlap is refused, naming the deployment that has the host.
	r = e.must(1, "pipeline", "deploy", "process-baseline-v1", "--name", "other", "--host", "web-2", "--host", "web-1")
	if !strings.Contains(r.err, `deployment "web"`) || !strings.Contains(r.err, "web-1") {
		t.Fatalf("overlap:\n%s", r)
	}
	if deploymentVersion(t, e, "other") != 0 {
		t.Fatal("refused overlap stored the deployment")
	}
}

var volatileRE = regexp.MustCompile(`"(last_seen|time)": "[^"]*"`)

func stripVolatile(s string) string { return volatileRE.ReplaceAllString(s, "") }

func TestDeployWatchReportsFailure(t *testing.T) {
	e := newEnv(t)
	e.agent("web-1", nil, func(o *agentsim.Options) {
		o.Fail = func([]byte) string { return "validate: processors::topk: unknown field k2" }
	})
	eventually(t, "agent known", func() (bool, string) {
		r := e.run("agent", "list")
		return strings.Contains(r.out, "web-1"), r.out
	})
	r := e.must(1, "pipeline", "deploy", "process-topk-v1", "--name", "web", "--host", "web-1", "--watch", "--timeout", "60s")
	if !strings.Contains(r.out, "web-1: failed (validate: processors::topk: unknown field k2)") || !strings.Contains(r.err, "deployment web version 1 failed on 1 host(s)") {
		t.Fatalf("failed deploy:\n%s", r)
	}
	r = e.must(0, "agent", "show", "web-1")
	if !strings.Contains(r.out, "failed config:") || !strings.Contains(r.out, "unknown field k2") {
		t.Fatalf("agent show of a failed host:\n%s", r.out)
	}
}

func TestWatchStopsOnInterruptAndTimeout(t *testing.T) {
	e := newEnv(t)
	// No agent has web-1: the deployment stays offline, never final.
	e.must(0, "pipeline", "deploy", "process-baseline-v1", "--name", "web", "--host", "web-1")
	r := e.must(1, "pipeline", "status", "web", "--watch", "--timeout", "1s")
	if !strings.Contains(r.err, "timed out after 1s waiting for deployment web") || !strings.Contains(r.out, "offline") {
		t.Fatalf("watch timeout:\n%s", r)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(500*time.Millisecond, cancel) // Ctrl-C
	r = e.runCtx(ctx, "", "pipeline", "status", "web", "--watch")
	if r.code != 1 || !strings.Contains(r.err, "interrupted") {
		t.Fatalf("watch interrupted:\n%s", r)
	}
}

func TestAgentListAndShow(t *testing.T) {
	e := newEnv(t)
	if r := e.must(0, "agent", "list"); !strings.Contains(r.out, "no agents") {
		t.Fatalf("empty fleet:\n%s", r.out)
	}
	a := e.agent("web-1", map[string]string{"role": "web", "env": "prod"})
	eventually(t, "agent known", func() (bool, string) {
		r := e.run("agent", "list")
		return regexp.MustCompile(`web-1\s+\S+\s+\S+\s+none`).MatchString(r.out), r.out
	})
	r := e.must(0, "agent", "show", "web-1")
	for _, want := range []string{"host:", "web-1", a.UID().String(), "labels:", "env=prod,role=web", "AcceptsRemoteConfig", "config status:", "none"} {
		if !strings.Contains(r.out, want) {
			t.Fatalf("agent show lacks %q:\n%s", want, r.out)
		}
	}
	r = e.must(0, "agent", "show", "web-1", "-o", "json")
	var av struct {
		InstanceUID string `json:"instance_uid"`
		Online      bool
	}
	if err := json.Unmarshal([]byte(r.out), &av); err != nil || av.InstanceUID != a.UID().String() || !av.Online {
		t.Fatalf("agent show -o json: %v\n%s", err, r.out)
	}
	if r := e.must(3, "agent", "show", "nope"); !strings.Contains(r.err, `no agent has host name "nope" (known hosts: web-1)`) {
		t.Fatalf("unknown host:\n%s", r)
	}
}

func TestDocsAreUpToDate(t *testing.T) {
	dir := t.TempDir()
	root := commands.NewRoot(&commands.App{Getenv: func(string) string { return "" }})
	if _, err := commands.GenDocs(root, dir); err != nil {
		t.Fatal(err)
	}
	repoDocs := filepath.Join(testutil.RepoRoot(), commands.DocsDir)
	want, _ := filepath.Glob(filepath.Join(dir, "*.md"))
	have, _ := filepath.Glob(filepath.Join(repoDocs, "phoenix*.md"))
	if len(want) != len(have) {
		t.Fatalf("%s has %d pages, the CLI has %d: run `go run ./cli/cmd/phoenix gen-docs`", commands.DocsDir, len(have), len(want))
	}
	for _, f := range want {
		w, _ := os.ReadFile(f)
		h, err := os.ReadFile(filepath.Join(repoDocs, filepath.Base(f)))
		if err != nil || string(w) != string(h) {
			t.Fatalf("%s/%s is out of date: run `go run ./cli/cmd/phoenix gen-docs`", commands.DocsDir, filepath.Base(f))
		}
	}
}

func TestCompletion(t *testing.T) {
	e := newEnv(t)
	for _, sh := range []string{"bash", "zsh", "fish", "powershell"} {
		if r := e.must(0, "completion", sh); !strings.Contains(r.out, "phoenix") {
			t.Fatalf("completion %s:\n%s", sh, r.out[:min(len(r.out), 200)])
		}
	}
	r := e.must(0, "__complete", "pipeline", "show", "")
	if !strings.Contains(r.out, "process-topk-v1") {
		t.Fatalf("template completion:\n%s", r.out)
	}
	e.must(0, "pipeline", "deploy", "process-baseline-v1", "--name", "web", "--host", "web-1")
	if r := e.must(0, "__complete", "pipeline", "status", ""); !strings.Contains(r.out, "web\tprocess-baseline-v1") {
		t.Fatalf("deployment completion:\n%s", r.out)
	}
}

func TestWatchHostAndJSONStream(t *testing.T) {
	e := newEnv(t)
	e.agent("web-1", nil, func(o *agentsim.Options) { o.ApplyDelay = 300 * time.Millisecond })
	eventually(t, "agent known", func() (bool, string) {
		r := e.run("agent", "list")
		return strings.Contains(r.out, "web-1"), r.out
	})
	e.must(0, "pipeline", "deploy", "process-baseline-v1", "--name", "web", "--host", "web-1")
	r := e.must(0, "pipeline", "status", "--target-host", "web-1", "--watch", "--timeout", "60s")
	if !strings.Contains(r.out, "host web-1: applied (deployment web version 1)") {
		t.Fatalf("host watch:\n%s", r)
	}
	// -o json --watch: one JSON document per change, the last one final.
	e.must(0, "pipeline", "deploy", "process-baseline-v1", "--name", "web", "--param", "batch_timeout=2s")
	r = e.must(0, "pipeline", "status", "web", "--watch", "-o", "json", "--timeout", "60s")
	dec := json.NewDecoder(strings.NewReader(r.out))
	var last struct {
		Status  string
		Version int
		Final   bool
	}
	n := 0
	for dec.More() {
		if err := dec.Decode(&last); err != nil {
			t.Fatalf("document %d: %v\n%s", n, err, r.out)
		}
		n++
	}
	if n == 0 || !last.Final || last.Status != "applied" || last.Version != 2 {
		t.Fatalf("%d documents, last %+v:\n%s", n, last, r.out)
	}
}
