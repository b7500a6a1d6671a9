// Command mutationreport prints the per-package score table of a
// `make mutation` run from gremlins' JSON reports (one per package) and the
// seconds each package took.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

type report struct {
	Files []file `json:"files"`
}

type file struct {
	Filename  string     `json:"file_name"`
	Mutations []mutation `json:"mutations"`
}

type mutation struct {
	Type   string `json:"type"`
	Status string `json:"status"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
}

func main() {
	dir := flag.String("dir", "build/mutation", "directory of the gremlins reports")
	lived := flag.Bool("lived", false, "also list the surviving mutants")
	flag.Parse()
	if err := run(*dir, *lived); err != nil {
		fmt.Fprintln(os.Stderr, "mutationreport:", err)
		os.Exit(1)
	}
}

func run(dir string, listLived bool) error {
	logs, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil {
		return err
	}
	sort.Strings(logs)
	fmt.Println("| package | killed | lived | timed out | not covered | not viable | score (killed+timed out)/(killed+timed out+lived) | minutes |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|")
	var survivors []string
	for _, l := range logs {
		base := strings.TrimSuffix(l, ".log")
		pkg, minutes := strings.ReplaceAll(filepath.Base(base), "_", "/"), "running or stopped"
		if raw, err := os.ReadFile(base + ".seconds"); err == nil {
			if f := strings.Fields(string(raw)); len(f) == 2 {
				seconds, _ := strconv.Atoi(f[1])
				pkg, minutes = f[0], fmt.Sprintf("%.1f", float64(seconds)/60)
			}
		}
		var r report
		partial := ""
		if data, err := os.ReadFile(base + ".json"); err == nil {
			if err := json.Unmarshal(data, &r); err != nil {
				return fmt.Errorf("%s.json: %w", base, err)
			}
		} else {
			// No JSON: the run was stopped before the end. Count what the
			// log says was tested so far.
			if r, err = fromLog(base + ".log"); err != nil {
				return err
			}
			partial = " (partial: stopped)"
		}
		count := map[string]int{}
		for _, file := range r.Files {
			for _, m := range file.Mutations {
				count[m.Status]++
				if m.Status == "LIVED" {
					survivors = append(survivors, fmt.Sprintf("%s/%s:%d:%d %s", pkg, file.Filename, m.Line, m.Column, m.Type))
				}
			}
		}
		killed := count["KILLED"] + count["TIMED OUT"]
		score := "n/a"
		if n := killed + count["LIVED"]; n > 0 {
			score = fmt.Sprintf("%.1f%%", 100*float64(killed)/float64(n))
		}
		fmt.Printf("| %s%s | %d | %d | %d | %d | %d | %s | %s |\n", pkg, partial, count["KILLED"], count["LIVED"], count["TIMED OUT"],
			count["NOT COVERED"], count["NOT VIABLE"], score, minutes)
	}
	if listLived {
		fmt.Println()
		for _, s := range survivors {
			fmt.Println("- " + s)
		}
	}
	return nil
}

// logLine is one tested mutant in gremlins' log: "KILLED CONDITIONALS_NEGATION at config.go:158:27".
var logLine = regexp.MustCompile(`^\s*(KILLED|LIVED|TIMED OUT|NOT COVERED|NOT VIABLE) (\S+) at (\S+):(\d+):(\d+)`)

func fromLog(path string) (report, error) {
	var r report
	data, err := os.ReadFile(path)
	if err != nil {
		return r, err
	}
	files := map[string]int{}
	for _, l := range strings.Split(string(data), "\n") {
		m := logLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		i, ok := files[m[3]]
		if !ok {
			i = len(r.Files)
			files[m[3]] = i
			r.Files = append(r.Files, file{Filename: m[3]})
		}
		line, _ := strconv.Atoi(m[4])
		col, _ := strconv.Atoi(m[5])
		r.Files[i].Mutations = append(r.Files[i].Mutations, mutation{Type: m[2], Status: m[1], Line: line, Column: col})
	}
	return r, nil
}
