// Command phoenix-package builds one package (for example the .deb of
// phoenix-agent for this machine) from binaries already built, and prints
// its path. `make dist` builds them all with phoenix-dist; the acceptance
// suite's AT-P13 uses this to package the binaries of `make build` without
// cross-building a release.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"

	"github.com/phoenix-otel/phoenix/deploy/internal/packages"
)

func main() {
	name := flag.String("package", packages.Agent.Name, "package: "+packages.Agent.Name+" or "+packages.Server.Name)
	format := flag.String("format", "deb", "deb or rpm")
	arch := flag.String("arch", runtime.GOARCH, "architecture (Go name) of the binaries")
	version := flag.String("version", "0.1.0-dev", "package version")
	bin := flag.String("bin", "../bin", "directory holding the package's binaries")
	deployDir := flag.String("deploy", ".", "the deploy/ directory (units, configs, scripts)")
	out := flag.String("out", ".", "directory the package is written to")
	flag.Parse()
	path, err := build(*name, *format, *arch, *version, *bin, *deployDir, *out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "phoenix-package:", err)
		os.Exit(1)
	}
	fmt.Println(path)
}

func build(name, format, arch, version, bin, deployDir, out string) (string, error) {
	var p packages.Package
	switch name {
	case packages.Agent.Name:
		p = packages.Agent
	case packages.Server.Name:
		p = packages.Server
	default:
		return "", fmt.Errorf("-package %q: want %s or %s", name, packages.Agent.Name, packages.Server.Name)
	}
	if format != "deb" && format != "rpm" {
		return "", fmt.Errorf("-format %q: want deb or rpm", format)
	}
	return packages.Build(p, format, arch, version, bin, deployDir, out)
}
