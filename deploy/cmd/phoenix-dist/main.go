// Command phoenix-dist writes the release packages (`make dist`): for each
// architecture, the .deb and .rpm of phoenix-agent (with phoenix-otelcol) and
// phoenix-server from the static binaries in <dist>/linux_<arch>/, then
// SHA256SUMS over the binaries and the packages.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/phoenix-otel/phoenix/deploy/internal/packages"
)

func main() {
	dist := flag.String("dist", "../dist", "release directory: binaries in linux_<arch>/, packages written here")
	deployDir := flag.String("deploy", ".", "the deploy/ directory (units, configs, scripts)")
	version := flag.String("version", "0.1.0-dev", "package version")
	flag.Parse()
	if err := run(*dist, *deployDir, *version); err != nil {
		fmt.Fprintln(os.Stderr, "phoenix-dist:", err)
		os.Exit(1)
	}
}

func run(dist, deployDir, version string) error {
	var sums []string
	for _, arch := range packages.Arches {
		binDir := filepath.Join(dist, "linux_"+arch)
		for _, p := range []packages.Package{packages.Agent, packages.Server} {
			for _, b := range p.Binaries {
				sums = append(sums, filepath.Join(binDir, b))
			}
			for _, format := range packages.Formats {
				out, err := packages.Build(p, format, arch, version, binDir, deployDir, dist)
				if err != nil {
					return err
				}
				fmt.Println(out)
				sums = append(sums, out)
			}
		}
	}
	out, err := packages.WriteChecksums(dist, sums)
	if err != nil {
		return err
	}
	fmt.Println(out)
	return nil
}
