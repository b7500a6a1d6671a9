// Command benchtable turns the output of topk's side-by-side benchmarks
// (BenchmarkTopK and BenchmarkFilterOTTL, run together with -count N) into
// the README's table: the median of the N runs of each, per batch size, and
// topk's ratio to the filter.
//
//	go test -run '^$' -bench 'BenchmarkTopK$|BenchmarkFilterOTTL$' -count 5 ./components/processor/topkprocessor/ \
//	  | go run ./components/processor/topkprocessor/internal/benchtable
package main

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

// runs holds, per benchmark and batch size, every run's figures by unit.
type runs map[string]map[string]map[string][]float64

func main() {
	rs := runs{}
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(os.Stderr, line) // the raw output stays visible
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name, size, ok := strings.Cut(strings.TrimPrefix(f[0], "Benchmark"), "/processes=")
		if !ok {
			continue
		}
		size, _, _ = strings.Cut(size, "-") // the -GOMAXPROCS suffix
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			if rs[name] == nil {
				rs[name] = map[string]map[string][]float64{}
			}
			if rs[name][size] == nil {
				rs[name][size] = map[string][]float64{}
			}
			rs[name][size][f[i+1]] = append(rs[name][size][f[i+1]], v)
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	topk, filter := rs["TopK"], rs["FilterOTTL"]
	if len(topk) == 0 || len(filter) == 0 {
		fmt.Fprintln(os.Stderr, "benchtable: need BenchmarkTopK and BenchmarkFilterOTTL results on stdin")
		os.Exit(1)
	}
	var sizes []int
	for s := range topk {
		if _, ok := filter[s]; ok {
			n, _ := strconv.Atoi(s)
			sizes = append(sizes, n)
		}
	}
	slices.Sort(sizes)
	fmt.Println("| processes per batch | runs | topk cpu-ns / data point | filter cpu-ns / data point | **topk ÷ filter (CPU)** | topk ns/op | filter ns/op | topk ÷ filter (wall) | topk allocs / batch | filter allocs / batch |")
	fmt.Println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, n := range sizes {
		s := strconv.Itoa(n)
		t, f := topk[s], filter[s]
		tc, fc := median(t["cpu-ns/datapoint"]), median(f["cpu-ns/datapoint"])
		tw, fw := median(t["ns/op"]), median(f["ns/op"])
		fmt.Printf("| %s | %d | %.1f | %.1f | **%.2f×** | %s | %s | %.2f× | %.0f | %.0f |\n",
			group(n), min(len(t["ns/op"]), len(f["ns/op"])), tc, fc, tc/fc, group(int(tw)), group(int(fw)), tw/fw,
			median(t["allocs/op"]), median(f["allocs/op"]))
	}
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// group writes n with thousands separators.
func group(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
