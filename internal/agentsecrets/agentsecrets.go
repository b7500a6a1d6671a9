// Package agentsecrets is the contract between phoenix-server and
// phoenix-agent for secrets (destination headers and keys): the server
// renders a config that refers to each secret as ${env:PHOENIX_SECRET_<N>}
// and sends the values apart from the config body, as one more entry of the
// OpAMP AgentConfigMap (FileName, ContentType). The agent never merges that
// entry into the collector config: it passes the values to the collector
// through its environment, and neither writes them into effective.yaml nor
// reports them back.
package agentsecrets

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// FileName is the config map entry that carries the secrets.
const FileName = "phoenix-secrets.json"

// ContentType of that entry.
const ContentType = "application/vnd.phoenix.secrets+json"

// EnvPrefix starts every secret's environment variable.
const EnvPrefix = "PHOENIX_SECRET_"

var nameRE = regexp.MustCompile(`^PHOENIX_SECRET_[A-Z0-9_]{1,100}$`)

// Ref is how a config refers to the secret name (the collector's env provider).
func Ref(name string) string { return "${env:" + name + "}" }

// Encode is the entry's body: a JSON object of name -> value, keys sorted.
func Encode(secrets map[string]string) []byte {
	b, _ := json.Marshal(secrets) // map keys are sorted by encoding/json
	return b
}

// Decode reads an entry's body and checks every name.
func Decode(body []byte) (map[string]string, error) {
	var m map[string]string
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("%s: want a JSON object of %s* names to string values: %w", FileName, EnvPrefix, err)
	}
	var bad []string
	for k, v := range m {
		if !nameRE.MatchString(k) || strings.ContainsRune(v, 0) {
			bad = append(bad, k)
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return nil, fmt.Errorf("%s: bad secret name(s) %q: want %s followed by A-Z, 0-9 or _, and values without NUL", FileName, bad, EnvPrefix)
	}
	return m, nil
}

// Env turns secrets into NAME=value entries for a process environment, in
// name order.
func Env(secrets map[string]string) []string {
	names := make([]string, 0, len(secrets))
	for k := range secrets {
		names = append(names, k)
	}
	sort.Strings(names)
	out := make([]string, 0, len(names))
	for _, n := range names {
		out = append(out, n+"="+secrets[n])
	}
	return out
}
