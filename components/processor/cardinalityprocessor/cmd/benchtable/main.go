// Command benchtable turns the output of the cardinality processor's
// benchmarks (BenchmarkProcess, BenchmarkTopKReference, BenchmarkReadFloor,
// run with -count N) into the README's table: medians of the N runs, the
// ratios to topk measured in the same run, and allocations per batch.
//
//	go test -run '^$' -bench 'BenchmarkProcess$|BenchmarkTopKReference$|BenchmarkReadFloor$' \
//	    -benchtime 30x -count 5 -benchmem ./components/processor/cardinalityprocessor/ \
//	  | go run ./components/processor/cardinalityprocessor/cmd/benchtable -readme components/processor/cardinalityprocessor/README.md
//
// With -readme it replaces the text between the markers
// "<!-- benchtable:begin -->" and "<!-- benchtable:end -->" in that file;
// without, it prints the table.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

const (
	beginMarker = "<!-- benchtable:begin -->"
	endMarker   = "<!-- benchtable:end -->"
)

// result is one benchmark line's figures.
type result struct {
	cpu, wall, allocsOp float64
}

// line: BenchmarkProcess/processes=100/warm-2  30  123 ns/op  0.007 allocs/datapoint  43.2 cpu-ns/datapoint ...
var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(-\d+)?\s+\d+\s+(.*)$`)

func parse(r io.Reader) (map[string][]result, string, error) {
	out := map[string][]result{}
	var env []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		text := sc.Text()
		if strings.HasPrefix(text, "cpu:") || strings.HasPrefix(text, "goos:") || strings.HasPrefix(text, "goarch:") {
			env = append(env, strings.TrimSpace(text))
		}
		m := benchLine.FindStringSubmatch(text)
		if m == nil {
			continue
		}
		f := strings.Fields(m[3])
		var res result
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "cpu-ns/datapoint":
				res.cpu = v
			case "ns/datapoint":
				res.wall = v
			case "allocs/op":
				res.allocsOp = v
			}
		}
		out[m[1]] = append(out[m[1]], res)
	}
	return out, strings.Join(env, ", "), sc.Err()
}

func median(rs []result, f func(result) float64) float64 {
	vs := make([]float64, len(rs))
	for i, r := range rs {
		vs[i] = f(r)
	}
	slices.Sort(vs)
	n := len(vs)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return vs[n/2]
	}
	return (vs[n/2-1] + vs[n/2]) / 2
}

func table(res map[string][]result, env string) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "Medians of %d runs in one `go test` run, %s, %s. CPU ns per data point (the benchmark thread's CPU clock, read inside the timed section), wall in brackets.\n\n",
		len(res["BenchmarkTopKReference/processes=100"]), time.Now().UTC().Format("2006-01-02"), env)
	b.WriteString("| processes | warm | cold (first scrape of a window) | topk | read floor | warm ÷ topk | cold ÷ topk | cold ÷ warm | allocs/batch warm / cold / topk |\n")
	b.WriteString("|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, n := range []string{"100", "1000", "10000"} {
		warm, cold := res["BenchmarkProcess/processes="+n+"/warm"], res["BenchmarkProcess/processes="+n+"/cold"]
		topk, floor := res["BenchmarkTopKReference/processes="+n], res["BenchmarkReadFloor/processes="+n]
		if len(warm) == 0 || len(cold) == 0 || len(topk) == 0 || len(floor) == 0 {
			return "", fmt.Errorf("processes=%s: missing benchmark results (need BenchmarkProcess warm and cold, BenchmarkTopKReference, BenchmarkReadFloor)", n)
		}
		cpu := func(r result) float64 { return r.cpu }
		wall := func(r result) float64 { return r.wall }
		allocs := func(r result) float64 { return r.allocsOp }
		cell := func(rs []result) string { return fmt.Sprintf("%.1f (%.1f)", median(rs, cpu), median(rs, wall)) }
		w, c, t := median(warm, cpu), median(cold, cpu), median(topk, cpu)
		num, _ := strconv.Atoi(n)
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %.2f× | %.2f× | %.2f× | %.0f / %.0f / %.0f |\n",
			group(num), cell(warm), cell(cold), cell(topk), cell(floor), w/t, c/t, c/w,
			median(warm, allocs), median(cold, allocs), median(topk, allocs))
	}
	return b.String(), nil
}

func group(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func main() {
	readme := flag.String("readme", "", "replace the table between the benchtable markers in this file")
	flag.Parse()
	res, env, err := parse(os.Stdin)
	if err == nil && len(res) == 0 {
		err = errors.New("no benchmark lines on stdin")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	tab, err := table(res, env)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	if *readme == "" {
		fmt.Print(tab)
		return
	}
	data, err := os.ReadFile(*readme)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	i, j := bytes.Index(data, []byte(beginMarker)), bytes.Index(data, []byte(endMarker))
	if i < 0 || j < i {
		fmt.Fprintf(os.Stderr, "benchtable: %s has no %s ... %s block\n", *readme, beginMarker, endMarker)
		os.Exit(1)
	}
	out := append([]byte{}, data[:i+len(beginMarker)]...)
	out = append(out, '\n')
	out = append(out, tab...)
	out = append(out, data[j:]...)
	if err := os.WriteFile(*readme, out, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
}
