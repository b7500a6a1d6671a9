package pipelines

import (
	"errors"
	"strings"
	"testing"
)

func TestListHasTheFiveTemplatesInOrder(t *testing.T) {
	want := []string{TemplateBaseline, TemplatePriorityBased, TemplateTopK, TemplateAggregated, TemplateAdaptiveFilter}
	got := Names()
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
	for _, tmpl := range List() {
		if tmpl.Title == "" || tmpl.Description == "" || tmpl.WhenToUse == "" || tmpl.ExpectedReduction == "" {
			t.Errorf("%s: title, description, when_to_use and expected_reduction must all be documented", tmpl.Name)
		}
		for _, p := range tmpl.Params {
			if p.Description == "" || p.Type == "" {
				t.Errorf("%s.%s: undocumented or untyped parameter", tmpl.Name, p.Name)
			}
			if p.Default == nil && !p.Required {
				t.Errorf("%s.%s: optional parameter without a default", tmpl.Name, p.Name)
			}
			if p.Default != nil {
				// Every default must pass its own schema.
				if _, err := coerce(tmpl.Name, p, p.Default); err != nil {
					t.Errorf("%s.%s: default %v rejected: %v", tmpl.Name, p.Name, p.Default, err)
				}
			}
		}
		if _, ok := tmpl.Param("critical_processes"); !ok {
			t.Errorf("%s: every template takes critical_processes", tmpl.Name)
		}
	}
}

func TestGetUnknownTemplate(t *testing.T) {
	_, err := Get("process-nope-v9")
	if !errors.Is(err, ErrUnknownTemplate) {
		t.Fatalf("Get(unknown) error = %v, want ErrUnknownTemplate", err)
	}
	for _, s := range []string{`"process-nope-v9"`, TemplateBaseline, TemplateTopK, TemplateAdaptiveFilter} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %s", err, s)
		}
	}
	// Render reports the same error.
	_, err = Render(Spec{Template: "process-nope-v9"}, Context{})
	if !errors.Is(err, ErrUnknownTemplate) {
		t.Fatalf("Render(unknown) error = %v, want ErrUnknownTemplate", err)
	}
}

func TestListReturnsCopies(t *testing.T) {
	a := List()
	a[0].Params[0].Name = "mutated"
	if d, ok := a[0].Params[len(a[0].Params)-1].Default.([]string); ok && len(d) > 0 {
		d[0] = "mutated"
	}
	for _, p := range List()[0].Params {
		if p.Name == "mutated" {
			t.Fatal("List() returned the catalog's own slice")
		}
		if d, ok := p.Default.([]string); ok && len(d) > 0 && d[0] == "mutated" {
			t.Fatal("List() shares default slices with the catalog")
		}
	}
}
