// Command binsize says what makes a Go binary large: the machine code of
// every function, summed by module (or by package with -by package), read
// from the binary's own pclntab, which survives `-s -w` stripping (so it
// works on bin/phoenix-otelcol as built, where `go tool nm` finds nothing).
//
//	go run ./benchmarks/binsize [-by module|package] [-top 30] bin/phoenix-otelcol
package main

import (
	"debug/elf"
	"debug/gosym"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
)

func main() {
	by := flag.String("by", "module", "group by module or package")
	top := flag.Int("top", 30, "rows to print")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: binsize [-by module|package] [-top N] <binary>")
		os.Exit(2)
	}
	path := flag.Arg(0)
	f, err := elf.Open(path)
	if err != nil {
		fail(err)
	}
	defer f.Close()
	st, _ := os.Stat(path)
	pcln := f.Section(".gopclntab")
	text := f.Section(".text")
	if pcln == nil || text == nil {
		fail(fmt.Errorf("%s: no .gopclntab or .text section", path))
	}
	data, err := pcln.Data()
	if err != nil {
		fail(err)
	}
	tab, err := gosym.NewTable(nil, gosym.NewLineTable(data, text.Addr))
	if err != nil {
		fail(err)
	}
	sizes := map[string]uint64{}
	var total uint64
	for _, fn := range tab.Funcs {
		n := fn.End - fn.Entry
		total += n
		sizes[group(fn.PackageName(), *by)] += n
	}
	type row struct {
		name string
		size uint64
	}
	var rows []row
	for k, v := range sizes {
		rows = append(rows, row{k, v})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].size > rows[j].size })
	fmt.Printf("%s: file %.1f MiB; .text %.1f MiB (functions %.1f MiB), .gopclntab %.1f MiB, .rodata %.1f MiB\n",
		path, mib(uint64(st.Size())), mib(text.Size), mib(total), mib(pcln.Size), mib(sectionSize(f, ".rodata")))
	fmt.Printf("%-70s %10s %6s\n", *by, "code MiB", "share")
	for i, r := range rows {
		if i == *top {
			break
		}
		fmt.Printf("%-70s %10.2f %5.1f%%\n", r.name, mib(r.size), 100*float64(r.size)/float64(total))
	}
}

// group maps a package path to its module: the first three elements for
// hosts like github.com, the collector's module roots, else the first one.
func group(pkg, by string) string {
	if by == "package" || pkg == "" {
		return pkg
	}
	parts := strings.Split(pkg, "/")
	switch {
	case len(parts) >= 4 && parts[0] == "github.com" && parts[1] == "open-telemetry" && parts[2] == "opentelemetry-collector-contrib":
		return strings.Join(parts[:min(len(parts), 5)], "/")
	case len(parts) >= 2 && parts[0] == "go.opentelemetry.io" && parts[1] == "collector":
		return strings.Join(parts[:min(len(parts), 3)], "/")
	case strings.Contains(parts[0], "."):
		return strings.Join(parts[:min(len(parts), 3)], "/")
	}
	return parts[0]
}

func sectionSize(f *elf.File, name string) uint64 {
	if s := f.Section(name); s != nil {
		return s.Size
	}
	return 0
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }

func fail(err error) {
	fmt.Fprintln(os.Stderr, "binsize:", err)
	os.Exit(1)
}
