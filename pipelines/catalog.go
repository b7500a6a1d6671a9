package pipelines

import (
	"embed"
	"errors"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// ParamType is the type of a template parameter.
type ParamType string

// Parameter types. Values may be given in their JSON form (numbers, booleans,
// arrays, objects) or as strings, as a CLI `--param k=v` gives them:
// "a,b,c" for a string_list and "k1=v1,k2=v2" for a map.
const (
	TypeInt        ParamType = "int"
	TypeFloat      ParamType = "float"
	TypeString     ParamType = "string"
	TypeBool       ParamType = "bool"
	TypeDuration   ParamType = "duration"    // Go duration string: "30s", "1m"
	TypeStringList ParamType = "string_list" // list of strings
	TypeEnum       ParamType = "enum"        // one string of Enum
	TypeMap        ParamType = "map"         // string -> string
)

var paramTypes = []ParamType{TypeInt, TypeFloat, TypeString, TypeBool, TypeDuration, TypeStringList, TypeEnum, TypeMap}

// Param describes one parameter of a template. Default is in its canonical
// form: int, float64, string, bool, a duration string ("30s"), []string or
// map[string]string. Min and Max bound numbers, durations (in seconds) and
// the length of lists and maps.
type Param struct {
	Name        string    `json:"name" yaml:"name"`
	Description string    `json:"description" yaml:"description"`
	Type        ParamType `json:"type" yaml:"type"`
	Default     any       `json:"default,omitempty" yaml:"default"`
	Min         *float64  `json:"min,omitempty" yaml:"min"`
	Max         *float64  `json:"max,omitempty" yaml:"max"`
	Enum        []string  `json:"enum,omitempty" yaml:"enum"`
	Required    bool      `json:"required,omitempty" yaml:"required"`
	// Regex marks string and string_list values that must be valid Go
	// regular expressions (RE2 syntax).
	Regex bool `json:"regex,omitempty" yaml:"regex"`
}

// Template is one pipeline of the catalog.
type Template struct {
	Name              string  `json:"name" yaml:"name"`
	Title             string  `json:"title" yaml:"title"`
	Description       string  `json:"description" yaml:"description"`
	WhenToUse         string  `json:"when_to_use" yaml:"when_to_use"`
	ExpectedReduction string  `json:"expected_reduction" yaml:"expected_reduction"`
	Params            []Param `json:"params" yaml:"params"`
	// Processors lists the component types the template adds between the
	// shared head (memory_limiter, cardinality, resource) and tail
	// (cardinality, batch), for docs.
	Processors []string `json:"processors" yaml:"processors"`
	// Pipeline is an extension template's processors (catalogdir.go);
	// built-in templates have Go builders instead.
	Pipeline []ProcessorDecl `json:"pipeline,omitempty" yaml:"pipeline"`
	// Extension: loaded from the server's --catalog-dir, not built in.
	Extension bool `json:"extension,omitempty" yaml:"-"`
}

// Param returns the parameter called name.
func (t Template) Param(name string) (Param, bool) {
	for _, p := range t.Params {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}

// Defaults returns every parameter's default value, by name.
func (t Template) Defaults() map[string]any {
	out := make(map[string]any, len(t.Params))
	for _, p := range t.Params {
		if p.Default != nil {
			out[p.Name] = p.Default
		}
	}
	return out
}

// ErrUnknownTemplate is returned (wrapped, see errors.Is) for a template name
// the catalog does not have.
var ErrUnknownTemplate = errors.New("unknown pipeline template")

// UnknownTemplateError names the template asked for and the known ones.
type UnknownTemplateError struct {
	Name  string
	Known []string
}

func (e *UnknownTemplateError) Error() string {
	return fmt.Sprintf("%s %q (known templates: %s)", ErrUnknownTemplate, e.Name, strings.Join(e.Known, ", "))
}

// Unwrap makes errors.Is(err, ErrUnknownTemplate) true.
func (e *UnknownTemplateError) Unwrap() error { return ErrUnknownTemplate }

// ParamError is a bad parameter: unknown, ill-typed, out of bounds or missing.
// The server maps it to 422 and the CLI to exit code 4.
type ParamError struct {
	Template string
	Param    string
	Reason   string
	// Accepted says what would be accepted: the known parameters for an
	// unknown one, the enum values, the type or the bounds.
	Accepted string
}

func (e *ParamError) Error() string {
	var b strings.Builder
	if e.Template != "" {
		fmt.Fprintf(&b, "template %s: ", e.Template)
	}
	fmt.Fprintf(&b, "parameter %q: %s", e.Param, e.Reason)
	if e.Accepted != "" {
		fmt.Fprintf(&b, " (accepted: %s)", e.Accepted)
	}
	return b.String()
}

// Template names.
const (
	TemplateBaseline       = "process-baseline-v1"
	TemplatePriorityBased  = "process-priority-based-v1"
	TemplateTopK           = "process-topk-v1"
	TemplateAggregated     = "process-aggregated-v1"
	TemplateAdaptiveFilter = "process-adaptive-filter-v1"
)

//go:embed templates/*.yaml
var templateFS embed.FS

var (
	loadOnce  sync.Once
	templates []Template
	loadErr   error
)

// catalog loads the embedded template metadata once. A broken template file
// is a programming error caught by the package tests, so List and Get panic
// on it rather than returning half a catalog.
func catalog() []Template {
	loadOnce.Do(func() { templates, loadErr = loadTemplates() })
	if loadErr != nil {
		panic(loadErr)
	}
	return templates
}

// shared parameters every template takes, appended after its own.
const sharedFile = "templates/_shared.yaml"

func loadTemplates() ([]Template, error) {
	entries, err := templateFS.ReadDir("templates")
	if err != nil {
		return nil, err
	}
	var shared struct {
		Params []Param `yaml:"params"`
	}
	if err := decodeStrict(sharedFile, &shared); err != nil {
		return nil, err
	}
	var out []Template
	for _, e := range entries {
		p := path.Join("templates", e.Name())
		if p == sharedFile {
			continue
		}
		var t Template
		if err := decodeStrict(p, &t); err != nil {
			return nil, err
		}
		if t.Name+".yaml" != e.Name() {
			return nil, fmt.Errorf("%s: name %q does not match the file name", p, t.Name)
		}
		if _, ok := builders[t.Name]; !ok {
			return nil, fmt.Errorf("%s: no builder for template %q", p, t.Name)
		}
		t.Params = append(t.Params, shared.Params...)
		seen := map[string]bool{}
		for i := range t.Params {
			prm := &t.Params[i]
			if seen[prm.Name] {
				return nil, fmt.Errorf("%s: parameter %q declared twice", p, prm.Name)
			}
			seen[prm.Name] = true
			if err := normalizeParamDecl(prm); err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
		}
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return templateOrder(out[i].Name) < templateOrder(out[j].Name) })
	return out, nil
}

// templateOrder lists the catalog from the control group to the most
// elaborate; unknown names sort last.
func templateOrder(name string) int {
	i := slices.Index([]string{TemplateBaseline, TemplatePriorityBased, TemplateTopK, TemplateAggregated, TemplateAdaptiveFilter}, name)
	if i < 0 {
		return 1 << 30
	}
	return i
}

func decodeStrict(p string, v any) error {
	f, err := templateFS.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	return nil
}

// normalizeParamDecl checks a parameter declaration and puts its default in
// canonical form.
func normalizeParamDecl(p *Param) error {
	if p.Name == "" || p.Description == "" {
		return fmt.Errorf("parameter %q: name and description are required", p.Name)
	}
	if !slices.Contains(paramTypes, p.Type) {
		return fmt.Errorf("parameter %q: unknown type %q", p.Name, p.Type)
	}
	if (p.Type == TypeEnum) != (len(p.Enum) > 0) {
		return fmt.Errorf("parameter %q: enum values go with type enum only", p.Name)
	}
	if p.Default == nil {
		if !p.Required {
			return fmt.Errorf("parameter %q: an optional parameter needs a default", p.Name)
		}
		return nil
	}
	v, err := coerce("", *p, p.Default)
	if err != nil {
		return fmt.Errorf("default: %w", err)
	}
	p.Default = v
	return nil
}

// List returns every template of the catalog, in catalog order. The result is
// a copy the caller may modify.
func List() []Template {
	ts := append(slices.Clip(catalog()), extensions()...)
	out := make([]Template, len(ts))
	for i, t := range ts {
		out[i] = cloneTemplate(t)
	}
	return out
}

// Names returns the template names in catalog order.
func Names() []string {
	var out []string
	for _, t := range append(slices.Clip(catalog()), extensions()...) {
		out = append(out, t.Name)
	}
	return out
}

// Get returns the template called name, or an error wrapping
// ErrUnknownTemplate that lists the known templates.
func Get(name string) (Template, error) {
	for _, t := range append(slices.Clip(catalog()), extensions()...) {
		if t.Name == name {
			return cloneTemplate(t), nil
		}
	}
	return Template{}, &UnknownTemplateError{Name: name, Known: Names()}
}

func cloneTemplate(t Template) Template {
	t.Params = slices.Clone(t.Params)
	for i := range t.Params {
		t.Params[i].Enum = slices.Clone(t.Params[i].Enum)
		switch d := t.Params[i].Default.(type) {
		case []string:
			t.Params[i].Default = slices.Clone(d)
		case map[string]string:
			m := make(map[string]string, len(d))
			for k, v := range d {
				m[k] = v
			}
			t.Params[i].Default = m
		}
	}
	t.Processors = slices.Clone(t.Processors)
	t.Pipeline = slices.Clone(t.Pipeline)
	return t
}
