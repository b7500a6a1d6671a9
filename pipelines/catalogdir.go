package pipelines

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// Catalog extensions: templates a server loads from a directory
// (phoenix-server --catalog-dir), one <name>.yaml each, with the metadata and
// parameter schema of the built-in ones (the shared parameters are appended
// the same way) and, instead of a Go builder, the processors they add between
// the shared head and tail:
//
//	pipeline:
//	  - id: filter/drop_disk
//	    settings:
//	      error_mode: ignore
//	      metrics:
//	        metric: ['name == "${param:dropped_metric}"']
//
// In settings, a value that is exactly ${param:NAME} becomes the parameter's
// value with its type (a list stays a list, an int an int); inside a longer
// string it is replaced by the value's text (string, number, bool or
// duration parameters only). Every file is checked when it is loaded: strict
// YAML (unknown fields refused), the name (the file's, not a built-in's),
// the parameter declarations, the processor IDs and the ${param:...}
// references, and a render with the defaults must pass ValidateYAML (which
// runs the Phoenix components' own Validate()). Errors name the file and the
// field.

// ProcessorDecl is one processor of an extension template.
type ProcessorDecl struct {
	// ID is the component ID, type/name (filter/drop_disk).
	ID       string         `json:"id" yaml:"id"`
	Settings map[string]any `json:"settings,omitempty" yaml:"settings"`
}

var (
	extMu sync.RWMutex
	ext   []Template // loaded extensions, by name
)

// CatalogDirError is a bad extension template: the file and the field.
type CatalogDirError struct {
	File   string
	Field  string
	Reason string
}

func (e *CatalogDirError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("catalog extension %s: %s", e.File, e.Reason)
	}
	return fmt.Sprintf("catalog extension %s: %s: %s", e.File, e.Field, e.Reason)
}

// LoadCatalogDir reads every *.yaml of dir as an extension template and adds
// them to the catalog (List, Get, Render) beside the built-in ones. It
// checks them all first: on any error nothing is added. Loading again
// replaces the extensions loaded before.
func LoadCatalogDir(dir string) error {
	ts, err := ReadCatalogDir(dir)
	if err != nil {
		return err
	}
	extMu.Lock()
	ext = ts
	extMu.Unlock()
	return nil
}

// ReadCatalogDir reads and checks the extension templates of dir without
// adding them.
func ReadCatalogDir(dir string) ([]Template, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("catalog dir: %w", err)
	}
	var shared struct {
		Params []Param `yaml:"params"`
	}
	if err := decodeStrict(sharedFile, &shared); err != nil {
		return nil, err
	}
	var out []Template
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".yaml") {
			continue
		}
		file := filepath.Join(dir, e.Name())
		t, err := readExtension(file, shared.Params)
		if err != nil {
			return nil, err
		}
		t.Extension = true
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

var extNameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

func readExtension(file string, shared []Param) (Template, error) {
	bad := func(field, format string, args ...any) error {
		return &CatalogDirError{File: file, Field: field, Reason: fmt.Sprintf(format, args...)}
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return Template{}, bad("", "%v", err)
	}
	if len(b) > MaxConfigBytes {
		return Template{}, bad("", "%d bytes, over the limit of %d", len(b), MaxConfigBytes)
	}
	var t Template
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&t); err != nil {
		return Template{}, bad("", "%s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	want := strings.TrimSuffix(filepath.Base(file), ".yaml")
	switch {
	case t.Name == "":
		return Template{}, bad("name", "required (the file's name without .yaml, %q)", want)
	case !extNameRE.MatchString(t.Name):
		return Template{}, bad("name", "%q: use 1-63 lower-case letters, digits and '-'", t.Name)
	case t.Name != want:
		return Template{}, bad("name", "%q does not match the file name %q", t.Name, want)
	}
	if _, ok := builders[t.Name]; ok {
		return Template{}, bad("name", "%q is a built-in template: give the extension a name of its own", t.Name)
	}
	for _, f := range []struct{ field, v string }{{"title", t.Title}, {"description", t.Description}, {"when_to_use", t.WhenToUse}, {"expected_reduction", t.ExpectedReduction}} {
		if strings.TrimSpace(f.v) == "" {
			return Template{}, bad(f.field, "required (the catalog shows it like a built-in template's)")
		}
	}
	if len(t.Pipeline) == 0 {
		return Template{}, bad("pipeline", "required: the processors the template adds (a list of id and settings)")
	}
	own := len(t.Params)
	t.Params = append(t.Params, shared...)
	seen := map[string]bool{}
	for i := range t.Params {
		p := &t.Params[i]
		field := fmt.Sprintf("params[%d]", i)
		if i >= own {
			field = "params"
		}
		if seen[p.Name] {
			return Template{}, bad(field, "parameter %q is declared twice (or is one of the shared parameters every template has)", p.Name)
		}
		seen[p.Name] = true
		if err := normalizeParamDecl(p); err != nil {
			return Template{}, bad(field, "%v", err)
		}
	}
	ids := map[string]bool{}
	for i, pd := range t.Pipeline {
		field := fmt.Sprintf("pipeline[%d]", i)
		typ, name, _ := strings.Cut(pd.ID, "/")
		switch {
		case pd.ID == "" || name == "" || strings.Contains(name, "/"):
			return Template{}, bad(field+".id", "%q: want type/name, such as filter/drop_disk", pd.ID)
		case !slices.Contains(Components[KindProcessor], typ):
			return Template{}, bad(field+".id", "unknown processor type %q: phoenix-otelcol has %s", typ, strings.Join(Components[KindProcessor], ", "))
		case typ == "memory_limiter" || typ == "batch" || (typ == "cardinality" && (name == "in" || name == "out")) || (typ == "resource" && name == "phoenix"):
			return Template{}, bad(field+".id", "%q is one of the shared processors every template gets", pd.ID)
		case ids[pd.ID]:
			return Template{}, bad(field+".id", "%q is listed twice", pd.ID)
		}
		ids[pd.ID] = true
		if err := checkParamRefs(pd.Settings, t, field+".settings"); err != nil {
			return Template{}, bad(err.field, "%s", err.reason)
		}
	}
	// A render with the defaults must make a config the validator accepts.
	r, err := renderTemplate(t, Spec{Template: t.Name}, Context{HostName: "catalog-check"})
	if err != nil {
		return Template{}, bad("params", "does not render with its defaults: %v", err)
	}
	if ps := ValidateYAML(r.YAML); len(ps) > 0 {
		for _, p := range ps {
			for i, pd := range t.Pipeline {
				if strings.Contains(p.Path, pd.ID) {
					return Template{}, bad(fmt.Sprintf("pipeline[%d].settings", i), "%s", p.Message)
				}
			}
		}
		return Template{}, bad("pipeline", "renders to an invalid config: %s", ps[0])
	}
	return t, nil
}

type refError struct{ field, reason string }

var paramRef = regexp.MustCompile(`\$\{param:([^}]*)\}`)

// checkParamRefs checks that every ${param:NAME} in v names a parameter and
// that one inside a longer string is a scalar parameter.
func checkParamRefs(v any, t Template, field string) *refError {
	switch x := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(x) {
			if e := checkParamRefs(x[k], t, field+"."+k); e != nil {
				return e
			}
		}
	case []any:
		for i, it := range x {
			if e := checkParamRefs(it, t, fmt.Sprintf("%s[%d]", field, i)); e != nil {
				return e
			}
		}
	case string:
		whole := paramRef.FindStringSubmatch(x)
		for _, m := range paramRef.FindAllStringSubmatch(x, -1) {
			p, ok := t.Param(m[1])
			if !ok {
				return &refError{field, fmt.Sprintf("${param:%s}: no such parameter (the template has %s)", m[1], strings.Join(paramNames(t), ", "))}
			}
			if (whole == nil || whole[0] != x) && (p.Type == TypeStringList || p.Type == TypeMap) {
				return &refError{field, fmt.Sprintf("${param:%s} is a %s: it can only stand alone as a whole value, not inside a string", m[1], p.Type)}
			}
		}
	}
	return nil
}

// substitute returns v with every ${param:NAME} replaced by its value.
func substitute(v any, vals values) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, it := range x {
			out[k] = substitute(it, vals)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, it := range x {
			out[i] = substitute(it, vals)
		}
		return out
	case string:
		if m := paramRef.FindStringSubmatch(x); m != nil && m[0] == x {
			switch val := vals[m[1]].(type) {
			case []string:
				return toAny(val)
			case map[string]string:
				out := make(map[string]any, len(val))
				for k, s := range val {
					out[k] = s
				}
				return out
			default:
				return val
			}
		}
		return paramRef.ReplaceAllStringFunc(x, func(ref string) string {
			return fmt.Sprint(vals[paramRef.FindStringSubmatch(ref)[1]])
		})
	}
	return v
}

// buildExtension is the builder of every extension template.
func buildExtension(t Template, v values, variant string) ([]processor, error) {
	out := make([]processor, 0, len(t.Pipeline))
	for _, pd := range t.Pipeline {
		typ, name, _ := strings.Cut(pd.ID, "/")
		cfg, _ := substitute(pd.Settings, v).(map[string]any)
		if cfg == nil {
			cfg = map[string]any{}
		}
		out = append(out, processor{id(typ, variant, name), cfg})
	}
	return out, nil
}

// builderFor is the builder of a template: its Go builder, or the
// declaration's for an extension.
func builderFor(t Template) builder {
	if b, ok := builders[t.Name]; ok {
		return b
	}
	return buildExtension
}

// extensions returns the loaded extension templates.
func extensions() []Template {
	extMu.RLock()
	defer extMu.RUnlock()
	return ext
}

// renderTemplate renders spec with the template t (not looked up: an
// extension being checked is not in the catalog yet).
func renderTemplate(t Template, spec Spec, ctx Context) (Rendered, error) {
	cfg, err := newConfig(ctx, spec.Input, spec.Params)
	if err != nil {
		return Rendered{}, err
	}
	if err := cfg.addTemplatePipeline(t, spec, defaultVariant, ""); err != nil {
		return Rendered{}, err
	}
	return cfg.render(headerFor(ctx, "template "+t.Name))
}
