package deployment

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/phoenix-otel/phoenix/opamp-server/domainerr"
	"github.com/phoenix-otel/phoenix/opamp-server/store"
	"github.com/phoenix-otel/phoenix/pipelines"
)

// invalidField is the field an *domainerr.Invalid names, or "" for nil and
// "(not invalid: ...)" for another error.
func invalidField(err error) string {
	if err == nil {
		return ""
	}
	var ie *domainerr.Invalid
	if !errors.As(err, &ie) {
		return fmt.Sprintf("(not invalid: %T %v)", err, err)
	}
	return ie.Field
}

// Every bound of a rollout policy, at the bound and one past it.
func TestValidateRolloutPolicyBounds(t *testing.T) {
	cases := []struct {
		p     store.RolloutPolicy
		field string // "" = accepted
	}{
		{store.RolloutPolicy{}, ""},
		{store.RolloutPolicy{Strategy: "staged"}, ""},
		{store.RolloutPolicy{Strategy: "all-at-once"}, ""},
		{store.RolloutPolicy{Strategy: "canary"}, "rollout.strategy"},
		{store.RolloutPolicy{FirstBatch: MaxRolloutBatch}, ""},
		{store.RolloutPolicy{FirstBatch: MaxRolloutBatch + 1}, "rollout.first_batch"},
		{store.RolloutPolicy{FirstBatch: -1}, "rollout.first_batch"},
		{store.RolloutPolicy{Factor: MaxRolloutFactor}, ""},
		{store.RolloutPolicy{Factor: MaxRolloutFactor + 1}, "rollout.factor"},
		{store.RolloutPolicy{Factor: -1}, "rollout.factor"},
		{store.RolloutPolicy{MaxBatch: MaxRolloutBatch}, ""},
		{store.RolloutPolicy{MaxBatch: MaxRolloutBatch + 1}, "rollout.max_batch"},
		{store.RolloutPolicy{MaxBatch: -1}, "rollout.max_batch"},
		{store.RolloutPolicy{FirstBatch: 5, MaxBatch: 5}, ""},
		{store.RolloutPolicy{FirstBatch: 6, MaxBatch: 5}, "rollout.max_batch"},
		{store.RolloutPolicy{FirstBatch: 6}, ""}, // max_batch 0: the default
		{store.RolloutPolicy{Soak: "0s"}, ""},
		{store.RolloutPolicy{Soak: "24h"}, ""},
		{store.RolloutPolicy{Soak: "24h0m1s"}, "rollout.soak"},
		{store.RolloutPolicy{Soak: "-1s"}, "rollout.soak"},
		{store.RolloutPolicy{Soak: "five minutes"}, "rollout.soak"},
	}
	for _, c := range cases {
		p := c.p
		if got := invalidField(ValidateRolloutPolicy(&p)); got != c.field {
			t.Errorf("%+v: field %q, want %q", c.p, got, c.field)
		}
		// The spec check applies the same policy check first.
		spec := store.DeploymentSpec{Template: "no-such-template", Rollout: &p}
		if c.field != "" {
			if got := invalidField(ValidateSpec(spec)); got != c.field {
				t.Errorf("spec with %+v: field %q, want %q", c.p, got, c.field)
			}
		}
	}
	if err := ValidateRolloutPolicy(nil); err != nil {
		t.Fatalf("no policy (the defaults): %v", err)
	}
}

func TestValidName(t *testing.T) {
	ok := []string{"a", "0", "web-fleet-2", strings.Repeat("a", 63)}
	bad := []string{"", "-a", "a-", "Web", "a_b", "a.b", strings.Repeat("a", 64), "a b"}
	for _, n := range ok {
		if err := ValidName("deployment", n); err != nil {
			t.Errorf("%q refused: %v", n, err)
		}
	}
	for _, n := range bad {
		err := ValidName("deployment", n)
		if invalidField(err) != "name" {
			t.Errorf("%q: %v, want an invalid name", n, err)
			continue
		}
		if n != "" && !strings.Contains(err.Error(), "deployment name") {
			t.Errorf("%q: the message does not name the kind: %v", n, err)
		}
	}
}

func TestValidateTarget(t *testing.T) {
	many := func(n int) []string {
		hs := make([]string, n)
		for i := range hs {
			hs[i] = fmt.Sprintf("h%d", i)
		}
		return hs
	}
	cases := []struct {
		name  string
		t     store.Target
		field string
	}{
		{"empty", store.Target{}, "target"},
		{"empty selector and hosts", store.Target{Hosts: []string{}, Selector: map[string]string{}}, "target"},
		{"hosts", store.Target{Hosts: []string{"web-1", "db.example.com"}}, ""},
		{"selector", store.Target{Selector: map[string]string{"env": "prod"}}, ""},
		{"selector with an empty value", store.Target{Selector: map[string]string{"env": ""}}, ""},
		{"at the host limit", store.Target{Hosts: many(pipelines.MaxTargetHosts)}, ""},
		{"past the host limit", store.Target{Hosts: many(pipelines.MaxTargetHosts + 1)}, "target.hosts"},
		{"a bad host name", store.Target{Hosts: []string{"ok", "-bad"}}, "target.hosts[1]"},
		{"a host listed twice", store.Target{Hosts: []string{"a", "b", "a"}}, "target.hosts[2]"},
		{"an empty selector key", store.Target{Selector: map[string]string{" ": "x"}}, "target.selector"},
	}
	for _, c := range cases {
		if got := invalidField(ValidateTarget("target", c.t)); got != c.field {
			t.Errorf("%s: field %q, want %q", c.name, got, c.field)
		}
	}
	if got := invalidField(ValidateTarget("variants[0].target", store.Target{})); got != "variants[0].target" {
		t.Errorf("the field is the caller's: %q", got)
	}
}

func TestValidateSpec(t *testing.T) {
	dest := store.Destination{Type: "debug"}
	target := store.Target{Hosts: []string{"web-1"}}
	raw := "receivers:\n  otlp:\n    protocols:\n      grpc:\nexporters:\n  debug:\nservice:\n  pipelines:\n    metrics:\n      receivers: [otlp]\n      exporters: [debug]\n"
	cases := []struct {
		name  string
		spec  store.DeploymentSpec
		field string
	}{
		{"template", store.DeploymentSpec{Template: "process-topk-v1", Params: map[string]any{"k": 5}, Destination: dest, Target: target}, ""},
		{"no template", store.DeploymentSpec{Destination: dest, Target: target}, "template"},
		{"unknown template", store.DeploymentSpec{Template: "nope", Destination: dest, Target: target}, "template"},
		{"bad parameter", store.DeploymentSpec{Template: "process-topk-v1", Params: map[string]any{"k": -1}, Destination: dest, Target: target}, "params.k"},
		{"template without a target", store.DeploymentSpec{Template: "process-topk-v1", Destination: dest}, "target"},
		{"raw config", store.DeploymentSpec{Config: raw, Target: target}, ""},
		{"raw config without a target", store.DeploymentSpec{Config: raw}, "target"},
		{"raw config and a template", store.DeploymentSpec{Config: raw, Template: "process-topk-v1", Target: target}, "config"},
		{"raw config and params", store.DeploymentSpec{Config: raw, Params: map[string]any{"k": 1}, Target: target}, "config"},
		{"raw config and a destination", store.DeploymentSpec{Config: raw, Destination: dest, Target: target}, "destination"},
		{"raw config that is not YAML", store.DeploymentSpec{Config: "{{{", Target: target}, "config"},
	}
	for _, c := range cases {
		err := ValidateSpec(c.spec)
		if got := invalidField(err); got != c.field {
			t.Errorf("%s: field %q, want %q (%v)", c.name, got, c.field, err)
		}
	}
	// An experiment variant's fields carry its prefix.
	err := ValidateTemplate("candidates[1].", "process-topk-v1", map[string]any{"k": -1}, dest)
	if got := invalidField(err); got != "candidates[1].params.k" {
		t.Errorf("prefixed parameter error: %q", got)
	}
	if got := invalidField(ValidateTemplate("candidates[1].", "", nil, dest)); got != "candidates[1].template" {
		t.Errorf("prefixed missing template: %q", got)
	}
	if err := ValidateTemplate("", "", nil, dest); err == nil || !strings.Contains(err.Error(), "process-topk-v1") {
		t.Errorf("a missing template's error lists the catalog: %v", err)
	}
}

// How a render error reaches the API: the field it names.
func TestRenderErrorFields(t *testing.T) {
	cases := []struct {
		prefix string
		err    error
		field  string
		extra  string
	}{
		{"", &pipelines.ValidationError{Problems: []pipelines.Problem{{Message: "x"}}}, "config", "problems"},
		{"v.", &pipelines.ParamError{Param: "config", Reason: "r"}, "v.config", ""},
		{"", &pipelines.ParamError{Param: "params", Reason: "r"}, "config", ""},
		{"", &pipelines.ParamError{Param: "input", Reason: "r"}, "config", ""},
		{"", &pipelines.ParamError{Param: "k", Reason: "r", Accepted: "1 to 100"}, "params.k", "accepted"},
		{"", &pipelines.ParamError{Param: "k", Reason: "r"}, "params.k", ""},
		{"", &pipelines.ParamError{Param: "", Reason: "r"}, "params", ""},
		{"", &pipelines.ParamError{Param: "destination.endpoint", Reason: "r"}, "destination.endpoint", ""},
		{"", &pipelines.ParamError{Param: "destination", Reason: "r"}, "destination", ""},
		{"", &pipelines.UnknownTemplateError{Name: "x"}, "template", ""},
		{"", fmt.Errorf("wrapped: %w", pipelines.ErrUnknownTemplate), "template", ""},
		{"candidates[0].", errors.New("other"), "candidates[0]", ""},
		{"", errors.New("other"), "", ""},
	}
	for _, c := range cases {
		err := renderError(c.prefix, c.err)
		var ie *domainerr.Invalid
		if !errors.As(err, &ie) {
			t.Errorf("%v: not invalid: %v", c.err, err)
			continue
		}
		if ie.Field != c.field {
			t.Errorf("%q %v: field %q, want %q", c.prefix, c.err, ie.Field, c.field)
		}
		if !strings.Contains(ie.Detail, c.err.Error()) {
			t.Errorf("%v: detail %q drops the cause", c.err, ie.Detail)
		}
		_, has := ie.Extra[c.extra]
		if c.extra != "" && !has || c.extra == "" && len(ie.Extra) != 0 {
			t.Errorf("%v: extra %v, want key %q", c.err, ie.Extra, c.extra)
		}
	}
	if got := invalidField(RenderError(&pipelines.ParamError{Param: "k"})); got != "params.k" {
		t.Errorf("RenderError: %q", got)
	}
}

func TestStoreErrorKinds(t *testing.T) {
	if storeError(nil) != nil {
		t.Fatal("nil must stay nil")
	}
	var c *domainerr.Conflict
	err := storeError(fmt.Errorf("tx: %w", &store.ConflictError{Deployment: "other", Hosts: []string{"a"}}))
	if !errors.As(err, &c) || c.Field != "target" || c.Extra["conflicting_deployment"] != "other" || c.Title != "Target overlaps another deployment" {
		t.Fatalf("overlap: %#v", err)
	}
	if err := storeError(fmt.Errorf("x: %w", store.ErrExists)); !errors.As(err, &c) || c.Field != "name" || !strings.Contains(c.Detail, "PUT /api/v1/deployments/{name}") {
		t.Fatalf("exists: %#v", err)
	}
	if err := storeError(store.ErrVersionConflict); !errors.As(err, &c) || c.Title != "Version conflict" || !strings.Contains(c.Detail, "read it again") {
		t.Fatalf("version conflict: %#v", err)
	}
	var nf *domainerr.NotFound
	if err := storeError(fmt.Errorf("x: %w", store.ErrNotFound)); !errors.As(err, &nf) {
		t.Fatalf("not found: %#v", err)
	}
	other := errors.New("disk full")
	if storeError(other) != other {
		t.Fatal("an unknown store error must pass through unchanged (the REST layer answers 500)")
	}
}

// One deployment per host: the check run in the write's transaction.
func TestConflictCheck(t *testing.T) {
	dep := func(name string, tg store.Target) store.Deployment {
		return store.Deployment{Name: name, Current: store.DeploymentVersion{Spec: store.DeploymentSpec{Target: tg}}}
	}
	agents := []store.Agent{
		{HostName: "web-1", Labels: map[string]string{"env": "prod", "tier": "web"}},
		{HostName: "db-1", Labels: map[string]string{"env": "prod", "tier": "db"}},
		{HostName: "dev-1", Labels: map[string]string{"env": "dev"}},
	}
	cases := []struct {
		name   string
		target store.Target
		others []store.Deployment
		dep    string
		hosts  string
		reason string
	}{
		{"disjoint hosts", store.Target{Hosts: []string{"a"}}, []store.Deployment{dep("o", store.Target{Hosts: []string{"b"}})}, "", "", ""},
		{"a shared host, listed twice", store.Target{Hosts: []string{"c", "b", "a", "c"}},
			[]store.Deployment{dep("o", store.Target{Hosts: []string{"c", "x", "a", "c"}})}, "o", "a,c", ""},
		{"an agent both select", store.Target{Selector: map[string]string{"tier": "web"}},
			[]store.Deployment{dep("o", store.Target{Selector: map[string]string{"env": "prod"}})}, "o", "web-1", ""},
		{"an agent one names and the other selects", store.Target{Hosts: []string{"db-1", "web-1"}},
			[]store.Deployment{dep("o", store.Target{Selector: map[string]string{"env": "prod"}})}, "o", "db-1,web-1", ""},
		{"a named host also reported, counted once", store.Target{Hosts: []string{"web-1"}},
			[]store.Deployment{dep("o", store.Target{Hosts: []string{"web-1"}})}, "o", "web-1", ""},
		{"selectors that choose different agents", store.Target{Selector: map[string]string{"env": "dev"}},
			[]store.Deployment{dep("o", store.Target{Selector: map[string]string{"env": "prod"}})}, "", "", ""},
		{"the same selector, no agent yet", store.Target{Selector: map[string]string{"env": "qa", "zone": "1"}},
			[]store.Deployment{dep("o", store.Target{Selector: map[string]string{"zone": "1", "env": "qa"}})}, "o", "", "same selector"},
		{"a host list against nothing selected", store.Target{Hosts: []string{"nobody"}},
			[]store.Deployment{dep("o", store.Target{Selector: map[string]string{"env": "qa"}})}, "", "", ""},
		{"the second other deployment overlaps", store.Target{Hosts: []string{"dev-1"}},
			[]store.Deployment{dep("o1", store.Target{Hosts: []string{"x"}}), dep("o2", store.Target{Selector: map[string]string{"env": "dev"}})}, "o2", "dev-1", ""},
	}
	for _, c := range cases {
		err := conflictCheck(c.target)(c.others, agents)
		if c.dep == "" {
			if err != nil {
				t.Errorf("%s: refused: %v", c.name, err)
			}
			continue
		}
		var ce *store.ConflictError
		if !errors.As(err, &ce) {
			t.Errorf("%s: %v, want a conflict with %s", c.name, err, c.dep)
			continue
		}
		if ce.Deployment != c.dep || strings.Join(ce.Hosts, ",") != c.hosts || !strings.Contains(ce.Reason, c.reason) {
			t.Errorf("%s: conflict %+v, want %s on %q (%s)", c.name, ce, c.dep, c.hosts, c.reason)
		}
	}
}

func TestLabelsKeyIgnoresOrder(t *testing.T) {
	a := LabelsKey(map[string]string{"a": "1", "b": "2", "c": "3"})
	b := LabelsKey(map[string]string{"c": "3", "a": "1", "b": "2"})
	if a != b {
		t.Fatalf("%q != %q", a, b)
	}
	for _, other := range []map[string]string{{"a": "1", "b": "2"}, {"a": "1", "b": "2", "c": "4"}, {"a": "12", "b": "", "c": "3"}} {
		if LabelsKey(other) == a {
			t.Errorf("%v has the same key as a different label set", other)
		}
	}
	if LabelsKey(nil) != "" {
		t.Fatal("no labels")
	}
}
