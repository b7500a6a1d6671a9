// Package pipeline holds `phoenix pipeline` commands in gh's layout (one
// command per file with its options struct) and the flag parsers the
// pipeline commands share.
package pipeline

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
	"github.com/phoenix-otel/phoenix/pipelines"
)

// ParseParams reads --param name=value flags. A name given more than once
// makes a list (for list and map parameters: --param critical_processes=a
// --param critical_processes=b). A value is never split on commas, so a
// regular expression such as ^nginx{1,3}$ stays whole; a JSON array or
// object (--param 'critical_processes=["^nginx{1,3}$","java"]') is sent as
// is and the server reads it. Values are strings: the server coerces them to
// the parameter's type and names the parameter when one does not fit.
func ParseParams(in []string) (map[string]any, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := map[string]any{}
	for _, kv := range in {
		k, v, ok := strings.Cut(kv, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, cmdutil.UsageError("--param %q: want name=value (e.g. --param k=20)", kv)
		}
		switch cur := out[k].(type) {
		case nil:
			out[k] = v
		case string:
			if isJSONList(cur) || isJSONList(v) {
				return nil, cmdutil.UsageError("--param %s: give a list either as one JSON array or as repeated --param %s=<item>, not both", k, k)
			}
			out[k] = []string{cur, v}
		case []string:
			if isJSONList(v) {
				return nil, cmdutil.UsageError("--param %s: give a list either as one JSON array or as repeated --param %s=<item>, not both", k, k)
			}
			out[k] = append(cur, v)
		}
	}
	return out, nil
}

func isJSONList(v string) bool {
	t := strings.TrimSpace(v)
	return strings.HasPrefix(t, "[") || strings.HasPrefix(t, "{")
}

// ParseKV reads repeated key=value flags (--flag names them in errors).
func ParseKV(flag string, in []string) (map[string]string, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, kv := range in {
		k, v, ok := strings.Cut(kv, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, cmdutil.UsageError("--%s %q: want key=value", flag, kv)
		}
		out[k] = v
	}
	return out, nil
}

// DestFlags are the --destination flags.
type DestFlags struct {
	Spec     string
	Headers  []string
	Insecure bool
}

// Add registers the flags on cmd.
func (d *DestFlags) Add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&d.Spec, "destination", "", "where the pipeline exports: TYPE[=ENDPOINT], TYPE one of "+strings.Join(pipelines.DestinationTypes(), ", ")+
		" (e.g. otlphttp=http://gateway:4318, otlp=gateway:4317, debug)")
	f.StringArrayVar(&d.Headers, "destination-header", nil, "header k=v sent to the destination, repeatable (e.g. an API key)")
	f.BoolVar(&d.Insecure, "destination-insecure", false, "plain text to the destination (no TLS)")
	_ = cmd.RegisterFlagCompletionFunc("destination", cobra.FixedCompletions(pipelines.DestinationTypes(), cobra.ShellCompDirectiveNoFileComp|cobra.ShellCompDirectiveNoSpace))
}

// Given reports whether any destination flag was given.
func (d *DestFlags) Given() bool { return d.Spec != "" || len(d.Headers) > 0 || d.Insecure }

// Parse returns the destination, nil when --destination is not given.
func (d *DestFlags) Parse() (*api.Destination, error) {
	if d.Spec == "" {
		if len(d.Headers) > 0 || d.Insecure {
			return nil, cmdutil.UsageError("--destination-header and --destination-insecure need --destination")
		}
		return nil, nil
	}
	typ, endpoint, _ := strings.Cut(d.Spec, "=")
	h, err := ParseKV("destination-header", d.Headers)
	if err != nil {
		return nil, err
	}
	return &api.Destination{Type: strings.TrimSpace(typ), Endpoint: strings.TrimSpace(endpoint), Headers: h, Insecure: d.Insecure}, nil
}
