package agent

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/open-telemetry/opamp-go/protobufs"

	"github.com/phoenix-otel/phoenix/internal/buildinfo"
)

// LabelAttributePrefix prefixes user labels (--label k=v) among the
// non-identifying attributes of the agent description.
const LabelAttributePrefix = "phoenix.label."

// Attribute keys of the agent description (OpenTelemetry semantic
// conventions where one exists).
const (
	attrServiceName       = "service.name"
	attrServiceVersion    = "service.version"
	attrServiceInstanceID = "service.instance.id"
	attrHostName          = "host.name"
	attrHostArch          = "host.arch"
	attrOSType            = "os.type"
	attrOSDescription     = "os.description"
	attrAgentVersion      = "phoenix.agent.version"
	attrCollectorVersion  = "phoenix.collector.version"
)

func kv(k, v string) *protobufs.KeyValue {
	return &protobufs.KeyValue{Key: k, Value: &protobufs.AnyValue{Value: &protobufs.AnyValue_StringValue{StringValue: v}}}
}

// agentDescription names the collector instance (identifying) and the host,
// the versions and the user labels (non-identifying).
func agentDescription(uid, hostName, collectorVersion string, labels map[string]string) *protobufs.AgentDescription {
	nonID := []*protobufs.KeyValue{
		kv(attrHostName, hostName),
		kv(attrHostArch, hostArch()),
		kv(attrOSType, runtime.GOOS),
		kv(attrOSDescription, osDescription()),
		kv(attrAgentVersion, buildinfo.Version),
		kv(attrCollectorVersion, collectorVersion),
	}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		nonID = append(nonID, kv(LabelAttributePrefix+k, labels[k]))
	}
	return &protobufs.AgentDescription{
		IdentifyingAttributes: []*protobufs.KeyValue{
			kv(attrServiceName, "phoenix-otelcol"),
			kv(attrServiceVersion, collectorVersion),
			kv(attrServiceInstanceID, uid),
		},
		NonIdentifyingAttributes: nonID,
	}
}

// hostArch maps GOARCH to the semantic-convention value of host.arch.
func hostArch() string {
	switch runtime.GOARCH {
	case "386":
		return "x86"
	case "ppc64le":
		return "ppc64"
	default:
		return runtime.GOARCH
	}
}

// osDescription is PRETTY_NAME from /etc/os-release, else GOOS.
func osDescription() string {
	f, err := os.Open("/etc/os-release")
	if err != nil {
		return runtime.GOOS
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "PRETTY_NAME="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return runtime.GOOS
}

// collectorVersion runs `phoenix-otelcol --version` ("phoenix-otelcol
// version X") and returns X.
func collectorVersion(ctx context.Context, bin string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--version")
	cmd.SysProcAttr = childSysProcAttr()
	out, err := cmd.Output()
	if err != nil {
		return "", err
	}
	s := strings.TrimSpace(string(out))
	if i := strings.LastIndex(s, " version "); i >= 0 {
		return strings.TrimSpace(s[i+len(" version "):]), nil
	}
	return s, nil
}
