package commands_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/phoenix-otel/phoenix/opamp-server/agentsim"
)

func waitAgent(t *testing.T, e *env, host string) {
	t.Helper()
	eventually(t, "agent "+host, func() (bool, string) {
		r := e.run("agent", "list")
		return strings.Contains(r.out, host), r.out
	})
}

func hasLoadgen(t *testing.T, body []byte) bool {
	t.Helper()
	var cfg struct {
		Receivers map[string]any `yaml:"receivers"`
	}
	if err := yaml.Unmarshal(body, &cfg); err != nil {
		t.Fatal(err)
	}
	_, ok := cfg.Receivers["loadgen"]
	return ok
}

func lastReceived(a *agentsim.Agent) agentsim.Received {
	rec := a.Received()
	if len(rec) == 0 {
		return agentsim.Received{}
	}
	return rec[len(rec)-1]
}

func TestLoadSimProfiles(t *testing.T) {
	e := newEnv(t)
	r := e.must(0, "loadsim", "list-profiles")
	for _, want := range []string{`realistic\s+100\s+0`, `high-cardinality\s+1500\s+0`, `process-churn\s+80\s+25`, `custom\s+from file\s+from file`} {
		if !regexp.MustCompile(want).MatchString(r.out) {
			t.Fatalf("list-profiles lacks %q:\n%s", want, r.out)
		}
	}
	r = e.must(0, "loadsim", "list-profiles", "-o", "json")
	var ps []struct{ Name string }
	if err := json.Unmarshal([]byte(r.out), &ps); err != nil || len(ps) != 4 {
		t.Fatalf("list-profiles -o json: %v\n%s", err, r.out)
	}
}

func TestLoadSimBadRequests(t *testing.T) {
	e := newEnv(t)
	e.agent("web-1", nil)
	waitAgent(t, e, "web-1")
	for _, c := range []struct {
		code int
		args []string
		want string
	}{
		{4, []string{"--profile", "wobbly", "--target-host", "web-1"}, `unknown profile "wobbly"`},
		{4, []string{"--profile", "realistic", "--target-host", "web-1", "--process-count", "5000"}, "process_count: profile \"realistic\" takes 50 to 200"},
		{4, []string{"--profile", "realistic", "--target-host", "web-1", "--mode", "turbo"}, `"turbo" is not a mode`},
		{4, []string{"--profile", "custom", "--target-host", "web-1", "--mode", "process"}, "profile_yaml: required"},
		{3, []string{"--profile", "realistic", "--target-host", "nope"}, `no agent has host name "nope" (known hosts: web-1)`},
		{2, []string{"--profile", "realistic", "--target-host", "web-1", "--duration", "-1s"}, "--duration must be >= 0"},
	} {
		r := e.must(c.code, append([]string{"loadsim", "start"}, c.args...)...)
		if !strings.Contains(r.err, c.want) {
			t.Fatalf("%v: stderr lacks %q:\n%s", c.args, c.want, r)
		}
	}
	bad := filepath.Join(t.TempDir(), "p.yaml")
	os.WriteFile(bad, []byte("processes:\n  - name_template: w\n    count: 1\n    wobble: 2\n"), 0o644)
	r := e.must(4, "loadsim", "start", "--profile", "custom", "--profile-file", bad, "--target-host", "web-1", "--mode", "process")
	if !strings.Contains(r.err, "profile_yaml") || !strings.Contains(r.err, "wobble") {
		t.Fatalf("bad custom profile:\n%s", r)
	}
	if r := e.must(0, "loadsim", "status"); r.out != "no load simulations\n" {
		t.Fatalf("refused starts stored jobs:\n%s", r.out)
	}
	e.must(3, "loadsim", "status", "ls-nope")
	e.must(3, "loadsim", "stop", "ls-nope")
}

func TestLoadSimSynthetic(t *testing.T) {
	e := newEnv(t)
	a := e.agent("web-1", nil)
	waitAgent(t, e, "web-1")
	e.must(0, "pipeline", "deploy", "process-topk-v1", "--name", "web", "--host", "web-1", "--watch", "--timeout", "60s")
	base := lastReceived(a)
	if hasLoadgen(t, base.Body) {
		t.Fatal("the deployment alone has a loadgen receiver")
	}

	// Start and follow it until the host runs it.
	r := e.must(0, "loadsim", "start", "--profile", "high-cardinality", "--process-count", "1200", "--target-host", "web-1", "--watch", "--timeout", "60s")
	m := regexp.MustCompile(`(ls-[0-9a-f]+)\s+web-1\s+synthetic\s+high-cardinality\s+pending\s+1200\s+until stopped`).FindStringSubmatch(r.out)
	if m == nil || !strings.Contains(r.out, "load simulation "+m[1]+" on web-1: running") {
		t.Fatalf("start --watch:\n%s", r)
	}
	id := m[1]
	cfg := lastReceived(a)
	if !hasLoadgen(t, cfg.Body) || !strings.Contains(string(cfg.Body), "process_count: 1200") || !strings.Contains(string(cfg.Body), "process-topk-v1") {
		t.Fatalf("the host's config lacks the load simulation on top of its deployment:\n%s", cfg.Body)
	}
	// The deployment is still applied: the load rides on it.
	if r := e.must(0, "pipeline", "status", "web"); !strings.Contains(r.out, "applied") {
		t.Fatalf("deployment status with a load simulation:\n%s", r.out)
	}
	// One simulation per host.
	r = e.must(1, "loadsim", "start", "--profile", "realistic", "--target-host", "web-1")
	if !strings.Contains(r.err, "already runs load simulation "+id) {
		t.Fatalf("second job on a busy host:\n%s", r)
	}
	r = e.must(0, "loadsim", "status")
	if !regexp.MustCompile(id + `\s+web-1\s+synthetic\s+high-cardinality\s+running`).MatchString(r.out) {
		t.Fatalf("status:\n%s", r.out)
	}
	r = e.must(0, "loadsim", "status", id, "-o", "json")
	var j struct {
		Status     string
		ConfigHash string `json:"config_hash"`
	}
	if err := json.Unmarshal([]byte(r.out), &j); err != nil || j.Status != "running" || j.ConfigHash != lastReceived(a).Hash {
		t.Fatalf("status -o json: %v\n%s", err, r.out)
	}

	// Stop: the receiver leaves the host's config, the deployment stays.
	r = e.must(0, "loadsim", "stop", id)
	if !regexp.MustCompile(id + `\s+web-1\s+synthetic\s+high-cardinality\s+stopped`).MatchString(r.out) {
		t.Fatalf("stop:\n%s", r.out)
	}
	eventually(t, "config without loadgen", func() (bool, string) {
		c := lastReceived(a)
		return !hasLoadgen(t, c.Body) && c.Hash == base.Hash, string(c.Body)
	})
	if r := e.must(0, "loadsim", "status", id, "--watch"); !strings.Contains(r.out, "stopped") {
		t.Fatalf("watch of a stopped job:\n%s", r.out)
	}
}

func TestLoadSimSyntheticWithoutDeploymentFinishes(t *testing.T) {
	e := newEnv(t)
	a := e.agent("web-1", nil)
	waitAgent(t, e, "web-1")
	r := e.must(0, "loadsim", "start", "--profile", "realistic", "--target-host", "web-1", "--duration", "2s", "-o", "json")
	var j struct{ ID string }
	if err := json.Unmarshal([]byte(r.out), &j); err != nil || j.ID == "" {
		t.Fatalf("start -o json: %v\n%s", err, r.out)
	}
	// A host without a deployment gets the loadgen pipeline alone.
	eventually(t, "loadgen config", func() (bool, string) {
		c := lastReceived(a)
		return c.Body != nil && hasLoadgen(t, c.Body), string(c.Body)
	})
	r = e.must(0, "loadsim", "status", j.ID, "--watch", "--timeout", "60s")
	if !strings.Contains(r.out, "finished") {
		t.Fatalf("watch until finished:\n%s", r.out)
	}
	// Finished: the host goes back to the minimal (empty) config.
	eventually(t, "empty config", func() (bool, string) {
		c := lastReceived(a)
		return len(c.Body) == 0, string(c.Body)
	})
	e.must(0, "loadsim", "status", "--status", "finished")
	if r := e.must(0, "loadsim", "stop", "--all"); r.out != "no load simulations\n" {
		t.Fatalf("stop --all with nothing running:\n%s", r.out)
	}
}

func TestLoadSimStopAll(t *testing.T) {
	e := newEnv(t)
	e.agent("web-1", nil)
	e.agent("web-2", nil)
	waitAgent(t, e, "web-1")
	waitAgent(t, e, "web-2")
	e.must(0, "loadsim", "start", "--profile", "realistic", "--target-host", "web-1")
	e.must(0, "loadsim", "start", "--profile", "process-churn", "--target-host", "web-2")
	r := e.must(0, "loadsim", "stop", "--all", "--target-host", "web-2")
	if !strings.Contains(r.out, "web-2") || strings.Contains(r.out, "web-1") {
		t.Fatalf("stop --all --target-host:\n%s", r.out)
	}
	r = e.must(0, "loadsim", "stop", "--all", "-o", "json")
	var js []struct {
		TargetHost string `json:"target_host"`
		Status     string
	}
	if err := json.Unmarshal([]byte(r.out), &js); err != nil || len(js) != 1 || js[0].TargetHost != "web-1" || js[0].Status != "stopped" {
		t.Fatalf("stop --all: %v\n%s", err, r.out)
	}
	if r := e.must(0, "loadsim", "status", "--status", "running"); r.out != "no load simulations\n" {
		t.Fatalf("still running after stop --all:\n%s", r.out)
	}
}
