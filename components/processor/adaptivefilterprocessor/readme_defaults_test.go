package adaptivefilterprocessor

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
	"go.yaml.in/yaml/v3"
)

// TestReadmeConfigIsTheDefaults: the README's configuration block shows every
// default, so a default changed in code without the README (or a mistyped
// constant) fails here.
func TestReadmeConfigIsTheDefaults(t *testing.T) {
	b, err := os.ReadFile("README.md")
	require.NoError(t, err)
	s := string(b)
	i := strings.Index(s, "## Configuration\n\n```yaml\n")
	require.GreaterOrEqual(t, i, 0, "no configuration block in README.md")
	s = s[i+len("## Configuration\n\n```yaml\n"):]
	s = s[:strings.Index(s, "```")]
	var doc map[string]map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(s), &doc))
	got := &Config{}
	require.NoError(t, confmap.NewFromStringMap(doc["processors"]["adaptive_filter"].(map[string]any)).Unmarshal(got))
	assert.NotEmpty(t, got.CriticalProcesses)
	got.CriticalProcesses = nil // the README's is an example; the default is none
	assert.Equal(t, createDefaultConfig(), got)
}
