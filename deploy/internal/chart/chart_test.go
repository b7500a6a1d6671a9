// Package chart tests the Helm chart in deploy/helm/phoenix: helm lint and
// helm template through the helm Go module, and every rendered manifest
// decoded strictly into its Kubernetes API type (an unknown or mistyped
// field fails).
package chart

import (
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	"helm.sh/helm/v3/pkg/releaseutil"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

func chartDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "helm", "phoenix")
}

type rendered struct {
	deployments []appsv1.Deployment
	daemonsets  []appsv1.DaemonSet
	services    []corev1.Service
	secrets     []corev1.Secret
	pvcs        []corev1.PersistentVolumeClaim
}

// render is `helm template` with vals, every document strictly decoded.
func render(t *testing.T, vals map[string]any) (rendered, error) {
	t.Helper()
	ch, err := loader.Load(chartDir())
	if err != nil {
		t.Fatal(err)
	}
	install := action.NewInstall(&action.Configuration{})
	install.DryRun, install.ClientOnly, install.Replace = true, true, true
	install.ReleaseName, install.Namespace = "test", "phoenix"
	rel, err := install.Run(ch, vals)
	if err != nil {
		return rendered{}, err
	}
	var out rendered
	for name, doc := range releaseutil.SplitManifests(rel.Manifest) {
		var meta struct{ APIVersion, Kind string }
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var target any
		switch meta.APIVersion + "/" + meta.Kind {
		case "apps/v1/Deployment":
			out.deployments = append(out.deployments, appsv1.Deployment{})
			target = &out.deployments[len(out.deployments)-1]
		case "apps/v1/DaemonSet":
			out.daemonsets = append(out.daemonsets, appsv1.DaemonSet{})
			target = &out.daemonsets[len(out.daemonsets)-1]
		case "v1/Service":
			out.services = append(out.services, corev1.Service{})
			target = &out.services[len(out.services)-1]
		case "v1/Secret":
			out.secrets = append(out.secrets, corev1.Secret{})
			target = &out.secrets[len(out.secrets)-1]
		case "v1/PersistentVolumeClaim":
			out.pvcs = append(out.pvcs, corev1.PersistentVolumeClaim{})
			target = &out.pvcs[len(out.pvcs)-1]
		default:
			t.Fatalf("%s: kind %s/%s: this test does not know its schema", name, meta.APIVersion, meta.Kind)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), target); err != nil {
			t.Errorf("%s (%s) does not match the Kubernetes API schema: %v\n%s", name, meta.Kind, err, doc)
		}
	}
	return out, nil
}

var valueSets = map[string]map[string]any{
	"default (SQLite)":  {},
	"postgres replicas": {"server": map[string]any{"replicas": 3, "store": map[string]any{"postgres": map[string]any{"dsnSecret": "phoenix-pg"}}}},
	"existing tokens":   {"tokens": map[string]any{"existingSecret": "my-tokens"}, "agent": map[string]any{"serverURL": "wss://phoenix.example:4320/v1/opamp"}},
	"agent only":        {"server": map[string]any{"enabled": false}, "agent": map[string]any{"serverURL": "wss://phoenix.example:4320/v1/opamp"}},
}

func TestLint(t *testing.T) {
	for name, vals := range valueSets {
		res := lint.AllWithKubeVersion(chartDir(), vals, "phoenix", &chartutil.DefaultCapabilities.KubeVersion)
		for _, m := range res.Messages {
			if m.Severity >= support.WarningSev {
				t.Errorf("%s: helm lint: %v", name, m)
			}
		}
	}
}

func TestTemplateValidates(t *testing.T) {
	for name, vals := range valueSets {
		r, err := render(t, vals)
		if err != nil {
			t.Fatalf("%s: helm template: %v", name, err)
		}
		if name != "agent only" && len(r.deployments) != 1 {
			t.Errorf("%s: %d Deployments", name, len(r.deployments))
		}
		if len(r.daemonsets) != 1 {
			t.Fatalf("%s: %d DaemonSets", name, len(r.daemonsets))
		}
		checkAgent(t, name, r.daemonsets[0])
		for _, d := range r.deployments {
			checkServer(t, name, d)
		}
		if tok := name == "existing tokens"; tok != (len(r.secrets) == 0) {
			t.Errorf("%s: %d Secrets rendered", name, len(r.secrets))
		}
		for _, s := range r.secrets {
			if len(s.Data["enrollment-token"]) == 0 || len(s.Data["api-token"]) == 0 {
				t.Errorf("%s: Secret %s lacks a token", name, s.Name)
			}
		}
	}
	r, _ := render(t, valueSets["postgres replicas"])
	if len(r.pvcs) != 0 || *r.deployments[0].Spec.Replicas != 3 {
		t.Errorf("postgres: %d PVCs, %d replicas", len(r.pvcs), *r.deployments[0].Spec.Replicas)
	}
	r, _ = render(t, valueSets["default (SQLite)"])
	if len(r.pvcs) != 1 || r.deployments[0].Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		t.Errorf("SQLite: %d PVCs, strategy %q (one writer: Recreate)", len(r.pvcs), r.deployments[0].Spec.Strategy.Type)
	}
}

func TestReplicasWithoutPostgresRefused(t *testing.T) {
	_, err := render(t, map[string]any{"server": map[string]any{"replicas": 2}})
	if err == nil || !strings.Contains(err.Error(), "needs PostgreSQL") {
		t.Fatalf("2 replicas on SQLite: %v", err)
	}
}

// The DaemonSet shares the host's PID namespace and /proc (read-only) and
// nothing else: no privileged mode, no host network, no other host path,
// only the two capabilities the scraper needs.
func checkAgent(t *testing.T, set string, ds appsv1.DaemonSet) {
	t.Helper()
	spec := ds.Spec.Template.Spec
	if !spec.HostPID || spec.HostNetwork || spec.HostIPC {
		t.Errorf("%s: agent hostPID=%v hostNetwork=%v hostIPC=%v, want only hostPID", set, spec.HostPID, spec.HostNetwork, spec.HostIPC)
	}
	hostPaths := map[string]string{}
	for _, v := range spec.Volumes {
		if v.HostPath != nil {
			hostPaths[v.Name] = v.HostPath.Path
		}
	}
	if len(hostPaths) != 1 || hostPaths["hostproc"] != "/proc" {
		t.Errorf("%s: agent host paths %v, want only /proc", set, hostPaths)
	}
	for _, c := range append(spec.InitContainers, spec.Containers...) {
		sc := c.SecurityContext
		if sc == nil || sc.Privileged == nil || *sc.Privileged || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			t.Errorf("%s: container %s may be privileged or escalate: %+v", set, c.Name, sc)
			continue
		}
		if !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || !slices.Equal(sc.Capabilities.Add, []corev1.Capability{"SYS_PTRACE", "DAC_READ_SEARCH"}) {
			t.Errorf("%s: container %s capabilities %+v", set, c.Name, sc.Capabilities)
		}
		for _, m := range c.VolumeMounts {
			if _, host := hostPaths[m.Name]; host && !m.ReadOnly {
				t.Errorf("%s: host path %s mounted read-write", set, m.Name)
			}
		}
		if c.Resources.Requests.Memory().IsZero() || c.Resources.Requests.Cpu().IsZero() {
			t.Errorf("%s: agent without resource requests", set)
		}
	}
}

func checkServer(t *testing.T, set string, d appsv1.Deployment) {
	t.Helper()
	c := d.Spec.Template.Spec.Containers[0]
	if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" || c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Errorf("%s: server probes %+v %+v", set, c.LivenessProbe, c.ReadinessProbe)
	}
	if sc := c.SecurityContext; sc == nil || *sc.Privileged || !*sc.ReadOnlyRootFilesystem {
		t.Errorf("%s: server security context %+v", set, sc)
	}
	if ps := d.Spec.Template.Spec.SecurityContext; ps == nil || ps.RunAsNonRoot == nil || !*ps.RunAsNonRoot {
		t.Errorf("%s: the server must run as non-root", set)
	}
	if c.Resources.Requests.Memory().IsZero() {
		t.Errorf("%s: server without resource requests", set)
	}
}
