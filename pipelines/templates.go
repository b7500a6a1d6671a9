package pipelines

import (
	"fmt"
	"strings"
)

// processor is one processor a template adds to its pipeline.
type processor struct {
	id  string
	cfg map[string]any
}

// builder returns a template's processors, between the shared head and tail.
// variant prefixes the component IDs inside an experiment.
type builder func(t Template, v values, variant string) ([]processor, error)

var builders = map[string]builder{
	TemplateBaseline:       buildBaseline,
	TemplatePriorityBased:  buildPriority,
	TemplateTopK:           buildTopK,
	TemplateAggregated:     buildAggregated,
	TemplateAdaptiveFilter: buildAdaptive,
}

func buildBaseline(Template, values, string) ([]processor, error) { return nil, nil }

// Resource attributes of the process scraper the templates match on.
const (
	attrExe     = "process.executable.name"
	attrCommand = "process.command"
	attrCmdline = "process.command_line"
	attrPID     = "process.pid"
)

// ottlString quotes s as an OTTL string literal.
func ottlString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// anyOf joins regular expressions into one alternation.
func anyOf(res []string) string {
	parts := make([]string, len(res))
	for i, re := range res {
		parts[i] = "(?:" + re + ")"
	}
	return strings.Join(parts, "|")
}

// matchProcess is an OTTL condition (resource context paths) true when the
// process's executable name, command (argv[0]) or command line matches any
// of res: the same three attributes, with the same RE2 regexes, as the
// Phoenix processors' critical matcher (components/internal/processmetrics),
// so a process is critical to the whole pipeline or to none of it. IsMatch is
// false on a missing attribute.
func matchProcess(res []string) string {
	re := ottlString(anyOf(res))
	return fmt.Sprintf(`(IsMatch(resource.attributes[%q], %s) or IsMatch(resource.attributes[%q], %s) or IsMatch(resource.attributes[%q], %s))`,
		attrExe, re, attrCommand, re, attrCmdline, re)
}

// OtherName is the process.executable.name of the resources the topk
// processor rolls processes up into (its default, written out so that the
// aggregated template's output identity does not depend on topk's default).
const OtherName = "_other"

func attr(key string) string { return fmt.Sprintf("resource.attributes[%q]", key) }

// buildPriority classifies with transform and drops with filter. The filter
// processor DROPS what its conditions match, so its conditions name exactly
// what goes: low processes, and medium processes' other metrics.
func buildPriority(t Template, v values, variant string) ([]processor, error) {
	prio := attr(AttrPriority)
	isProcess := attr(attrPID) + " != nil"
	stmts := []any{
		// A priority that arrived with the data must not decide anything.
		fmt.Sprintf("delete_key(resource.attributes, %q)", AttrPriority),
		fmt.Sprintf(`set(%s, "critical") where %s and %s`, prio, isProcess, matchProcess(v.list("critical_processes"))),
	}
	for _, class := range []struct{ name, param string }{{"high", "high_processes"}, {"medium", "medium_processes"}} {
		if res := v.list(class.param); len(res) > 0 {
			stmts = append(stmts, fmt.Sprintf(`set(%s, %q) where %s and %s == nil and %s`, prio, class.name, isProcess, prio, matchProcess(res)))
		}
	}
	stmts = append(stmts, fmt.Sprintf(`set(%s, "low") where %s and %s == nil`, prio, isProcess, prio))

	var keep []string
	for _, m := range v.list("medium_metrics") {
		keep = append(keep, fmt.Sprintf("metric.name != %s", ottlString(m)))
	}
	return []processor{
		{id("transform", variant, "priority"), map[string]any{
			"error_mode": "ignore",
			"metric_statements": []any{
				map[string]any{"context": "resource", "statements": stmts},
			},
		}},
		{id("filter", variant, "priority"), map[string]any{
			"error_mode": "ignore",
			"metric_conditions": []any{
				map[string]any{"context": "resource", "conditions": []any{
					fmt.Sprintf(`%s == "low"`, prio),
				}},
				map[string]any{"context": "metric", "conditions": []any{
					fmt.Sprintf(`%s == "medium" and %s`, prio, strings.Join(keep, " and ")),
				}},
			},
		}},
	}, nil
}

// buildAggregated keeps critical processes whole and rolls every other
// process up into one resource per (host, category):
//  1. transform (resource): classify each process into AttrCategory
//     (critical, a category of the categories parameter, or other_category);
//  2. topk in roll-up mode (top_k 0, others_group_by AttrCategory): critical
//     processes pass whole, every other one is folded into the other
//     resource of its host and category. Its cumulative counters carry the
//     increments of the processes rolled up (so they never fall when a
//     process exits), its memory is the exact sum, and it has a
//     process.count gauge.
//
// Upstream processors cannot do step 2 correctly: summing the processes
// alive at each scrape (groupbyattrs + aggregate_on_attributes) makes a
// category's CPU time and disk I/O drop whenever one of its processes exits,
// which a backend reads as a counter reset.
func buildAggregated(t Template, v values, variant string) ([]processor, error) {
	cat := attr(AttrCategory)
	isProcess := attr(attrPID) + " != nil"
	critical := v.list("critical_processes")
	stmts := []any{
		// A category that arrived with the data must not decide anything.
		fmt.Sprintf("delete_key(resource.attributes, %q)", AttrCategory),
		fmt.Sprintf(`set(%s, "critical") where %s and %s`, cat, isProcess, matchProcess(critical)),
	}
	cats := v.dict("categories")
	for _, name := range sortedKeys(cats) {
		if name == "critical" || name == v.str("other_category") {
			return nil, &ParamError{Template: t.Name, Param: "categories", Reason: fmt.Sprintf("category %q is reserved", name), Accepted: "any name but critical and the other_category"}
		}
		stmts = append(stmts, fmt.Sprintf(`set(%s, %s) where %s and %s == nil and %s`, cat, ottlString(name), isProcess, cat, matchProcess([]string{cats[name]})))
	}
	stmts = append(stmts,
		fmt.Sprintf(`set(%s, %s) where %s and %s == nil`, cat, ottlString(v.str("other_category")), isProcess, cat),
	)
	return []processor{
		{id("transform", variant, "categorize"), map[string]any{
			"error_mode": "ignore",
			"metric_statements": []any{
				map[string]any{"context": "resource", "statements": stmts},
			},
		}},
		{id("topk", variant, "rollup"), map[string]any{
			"top_k":              0,
			"others":             "aggregate",
			"others_group_by":    AttrCategory,
			"other_name":         OtherName,
			"critical_processes": toAny(critical),
		}},
	}, nil
}

// buildAdaptive configures the Phoenix adaptive_filter processor.
func buildAdaptive(t Template, v values, variant string) ([]processor, error) {
	if v.float("load_low") >= v.float("load_high") {
		return nil, &ParamError{Template: t.Name, Param: "load_low", Reason: fmt.Sprintf("%v must be below load_high (%v)", v.float("load_low"), v.float("load_high")), Accepted: "0 <= load_low < load_high <= 1"}
	}
	return []processor{
		{id("adaptive_filter", variant, "budget"), map[string]any{
			"max_cardinality":    v.int("max_cardinality"),
			"budget_unit":        v.str("budget_unit"),
			"critical_processes": toAny(v.list("critical_processes")),
			"thresholds": map[string]any{
				"cpu":    v.float("cpu_threshold"),
				"memory": v.float("memory_threshold_mib") * 1024 * 1024,
			},
			"host_load": map[string]any{
				"enabled":        v.bool("host_load"),
				"low":            v.float("load_low"),
				"high":           v.float("load_high"),
				"max_multiplier": v.float("load_max_multiplier"),
			},
			"retention": v.str("retention"),
			"drop_rules": map[string]any{
				"idle": map[string]any{"enabled": v.bool("drop_idle")},
			},
		}},
	}, nil
}

// buildTopK configures the Phoenix topk processor.
func buildTopK(t Template, v values, variant string) ([]processor, error) {
	return []processor{
		{id("topk", variant, "processes"), map[string]any{
			"top_k":              v.int("k"),
			"ranking":            v.str("ranking"),
			"others":             v.str("others"),
			"critical_processes": toAny(v.list("critical_processes")),
		}},
	}, nil
}
