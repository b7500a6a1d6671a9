package pipelines

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

// valueOfSize builds a value of p's type whose bounded quantity (the number,
// the duration in seconds, or the number of entries) is n.
func valueOfSize(p Param, n float64) (any, bool) {
	switch p.Type {
	case TypeInt:
		return int(n), true
	case TypeFloat:
		return n, true
	case TypeDuration:
		return (time.Duration(n * float64(time.Second))).String(), true
	case TypeStringList:
		list := make([]any, int(n))
		for i := range list {
			list[i] = fmt.Sprintf("item%d", i)
		}
		return list, true
	case TypeMap:
		m := map[string]any{}
		for i := 0; i < int(n); i++ {
			m[fmt.Sprintf("key%d", i)] = fmt.Sprintf("value%d", i)
		}
		return m, true
	}
	return nil, false
}

func shown(v any) string {
	switch x := v.(type) {
	case []any:
		return fmt.Sprintf("a list of %d entries", len(x))
	case map[string]any:
		return fmt.Sprintf("a map of %d entries", len(x))
	}
	return fmt.Sprint(v)
}

// above is the smallest value past max in p's unit: integers and entries
// step by one, numbers and durations by a relative hair.
func above(p Param, max float64) float64 {
	switch p.Type {
	case TypeInt, TypeStringList, TypeMap:
		return max + 1
	case TypeDuration:
		return max + 1 // one second past
	}
	return max + math.Max(math.Abs(max)*1e-6, 1e-9)
}

func below(p Param, min float64) float64 {
	switch p.Type {
	case TypeInt, TypeStringList, TypeMap, TypeDuration:
		return min - 1
	}
	return min - math.Max(math.Abs(min)*1e-6, 1e-9)
}

// Every bounded parameter of every template refuses a value one step past
// either bound and accepts the bound itself. The catalog is walked, so a new
// template or parameter is covered without editing this test.
func TestEveryParameterBoundIsEnforced(t *testing.T) {
	checked := 0
	for _, tmpl := range List() {
		for _, p := range tmpl.Params {
			for _, b := range []struct {
				side  string
				bound *float64
				past  func(Param, float64) float64
			}{{"max", p.Max, above}, {"min", p.Min, below}} {
				if b.bound == nil {
					continue
				}
				if (p.Type == TypeStringList || p.Type == TypeMap) && b.past(p, *b.bound) < 0 {
					continue // no list is shorter than empty
				}
				if p.Type == TypeDuration && b.past(p, *b.bound) < 0 {
					continue
				}
				at, ok := valueOfSize(p, *b.bound)
				if !ok {
					t.Errorf("%s.%s: bounded parameter of type %s: this test does not know how to build one", tmpl.Name, p.Name, p.Type)
					continue
				}
				if _, err := ResolveParams(tmpl, map[string]any{p.Name: at}); err != nil {
					t.Errorf("%s.%s = %s (its %s): refused: %v", tmpl.Name, p.Name, shown(at), b.side, err)
				}
				past, _ := valueOfSize(p, b.past(p, *b.bound))
				_, err := ResolveParams(tmpl, map[string]any{p.Name: past})
				var pe *ParamError
				if !errors.As(err, &pe) || pe.Param != p.Name || !strings.Contains(pe.Reason, "out of range") {
					t.Errorf("%s.%s = %s (past its %s %v): error %v, want a ParamError naming %s as out of range", tmpl.Name, p.Name, shown(past), b.side, *b.bound, err, p.Name)
				}
				checked++
			}
		}
	}
	if checked < 10 {
		t.Fatalf("only %d bounds checked: the catalog lost its bounded parameters, or List() is empty", checked)
	}
	t.Logf("%d bounds checked", checked)
}

// The example of the finding, spelled out: k above its max of 10000.
func TestTopKAboveMaxRefused(t *testing.T) {
	_, err := Render(Spec{Template: TemplateTopK, Params: map[string]any{"k": 10001}}, Context{HostName: "h"})
	var pe *ParamError
	if !errors.As(err, &pe) || pe.Param != "k" || !strings.Contains(pe.Reason, "10001 is out of range") || !strings.Contains(pe.Accepted, "from 1 to 10000") {
		t.Fatalf("k: 10001: %v, want k out of range (from 1 to 10000)", err)
	}
}
