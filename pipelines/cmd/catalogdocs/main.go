// Command catalogdocs writes pipelines/README.md from the template metadata
// (pipelines/templates/*.yaml) and the figures the measurement test wrote to
// pipelines/testdata/measurements.json, and the figures on real processes
// that `make bench-overhead` wrote to pipelines/testdata/realprocesses.json.
// Run it from the repository root:
//
//	go test ./pipelines -run TestMeasure -update-measurements
//	go run ./pipelines/cmd/catalogdocs
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/phoenix-otel/phoenix/pipelines"
)

func main() {
	dir := flag.String("dir", "pipelines", "the pipelines package directory")
	check := flag.Bool("check", false, "exit 1 if README.md is not up to date instead of writing it")
	flag.Parse()
	ms, err := pipelines.LoadMeasurements(filepath.Join(*dir, pipelines.MeasurementsFile))
	if err != nil {
		fmt.Fprintf(os.Stderr, "catalogdocs: %v (run `go test ./pipelines -run TestMeasure -update-measurements` first)\n", err)
		os.Exit(1)
	}
	real, err := pipelines.LoadRealMeasurements(filepath.Join(*dir, pipelines.RealMeasurementsFile))
	if err != nil {
		fmt.Fprintf(os.Stderr, "catalogdocs: %v\n", err)
		os.Exit(1)
	}
	out := pipelines.GenerateREADME(ms, real)
	path := filepath.Join(*dir, "README.md")
	if *check {
		cur, _ := os.ReadFile(path)
		if string(cur) != string(out) {
			fmt.Fprintf(os.Stderr, "catalogdocs: %s is out of date: run `go run ./pipelines/cmd/catalogdocs`\n", path)
			os.Exit(1)
		}
		return
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "catalogdocs: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("wrote %s (%d measurements)\n", path, len(ms.Results))
}
