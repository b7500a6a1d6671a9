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
	"sort"
	"strconv"
	"strings"
)

type report struct {
	Files []struct {
		Filename  string `json:"file_name"`
		Mutations []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
			Line   int    `json:"line"`
			Column int    `json:"column"`
		} `json:"mutations"`
	} `json:"files"`
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
	secs, err := filepath.Glob(filepath.Join(dir, "*.seconds"))
	if err != nil {
		return err
	}
	sort.Strings(secs)
	fmt.Println("| package | killed | lived | timed out | not covered | not viable | score (killed+timed out)/(killed+timed out+lived) | minutes |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|")
	var survivors []string
	for _, s := range secs {
		raw, err := os.ReadFile(s)
		if err != nil {
			return err
		}
		f := strings.Fields(string(raw))
		if len(f) != 2 {
			return fmt.Errorf("%s: want `<package> <seconds>`", s)
		}
		pkg := f[0]
		seconds, _ := strconv.Atoi(f[1])
		base := strings.TrimSuffix(s, ".seconds")
		data, err := os.ReadFile(base + ".json")
		if err != nil {
			fmt.Printf("| %s | no report: see %s.log |  |  |  |  |  | %.1f |\n", pkg, filepath.Base(base), float64(seconds)/60)
			continue
		}
		var r report
		if err := json.Unmarshal(data, &r); err != nil {
			return fmt.Errorf("%s.json: %w", base, err)
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
		fmt.Printf("| %s | %d | %d | %d | %d | %d | %s | %.1f |\n", pkg, count["KILLED"], count["LIVED"], count["TIMED OUT"],
			count["NOT COVERED"], count["NOT VIABLE"], score, float64(seconds)/60)
	}
	if listLived {
		fmt.Println()
		for _, s := range survivors {
			fmt.Println("- " + s)
		}
	}
	return nil
}
