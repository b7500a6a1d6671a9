// Command phoenix-dist writes the release packages (`make dist`): for each
// architecture, the .deb and .rpm of phoenix-agent (with phoenix-otelcol) and
// phoenix-server from the static binaries in <dist>/linux_<arch>/, then
// the OCI images of phoenix-server and phoenix-agent (with phoenix-otelcol) as
// docker-loadable tarballs in images/ and one multi-platform OCI layout in
// oci/, then SHA256SUMS over the binaries, packages and image tarballs.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/phoenix-otel/phoenix/deploy/internal/images"
	"github.com/phoenix-otel/phoenix/deploy/internal/packages"
)

func main() {
	dist := flag.String("dist", "../dist", "release directory: binaries in linux_<arch>/, packages written here")
	deployDir := flag.String("deploy", ".", "the deploy/ directory (units, configs, scripts)")
	version := flag.String("version", "0.1.0-dev", "package version")
	caFile := flag.String("ca-file", "/etc/ssl/certs/ca-certificates.crt", "CA bundle of the images' base (Debian's ca-certificates)")
	archList := flag.String("arches", strings.Join(packages.Arches, " "), "architectures to package (Go names, space- or comma-separated; make dist's DIST_ARCHES)")
	flag.Parse()
	arches, err := parseArches(*archList)
	if err == nil {
		err = run(*dist, *deployDir, *version, *caFile, arches)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "phoenix-dist:", err)
		os.Exit(1)
	}
}

// parseArches reads -arches: each must be one the release supports.
func parseArches(list string) ([]string, error) {
	var out []string
	for _, a := range strings.Fields(strings.ReplaceAll(list, ",", " ")) {
		if !slices.Contains(packages.Arches, a) {
			return nil, fmt.Errorf("-arches: %q is not one of %v", a, packages.Arches)
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-arches: no architecture given")
	}
	return out, nil
}

func run(dist, deployDir, version, caFile string, arches []string) error {
	var sums []string
	base, err := images.Base(caFile)
	if err != nil {
		return err
	}
	byName := map[string]map[string]v1.Image{}
	for _, arch := range arches {
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
		for _, im := range []images.Image{images.Server, images.Agent} {
			img, err := images.Build(im, base, arch, version, binDir)
			if err != nil {
				return err
			}
			if byName[im.Name] == nil {
				byName[im.Name] = map[string]v1.Image{}
			}
			byName[im.Name][arch] = img
			out := filepath.Join(dist, "images", im.Name+"_"+version+"_linux_"+arch+".tar")
			if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
				return err
			}
			if err := images.WriteTarball(out, "phoenix/"+im.Name+":"+tagSafe(version), img); err != nil {
				return err
			}
			fmt.Println(out)
			sums = append(sums, out)
		}
	}
	oci := filepath.Join(dist, "oci")
	if err := os.RemoveAll(oci); err != nil {
		return err
	}
	for _, name := range []string{images.Server.Name, images.Agent.Name} {
		if err := images.WriteLayout(oci, name+":"+tagSafe(version), byName[name]); err != nil {
			return err
		}
	}
	fmt.Println(oci)
	out, err := packages.WriteChecksums(dist, sums)
	if err != nil {
		return err
	}
	fmt.Println(out)
	return nil
}

// tagSafe makes a version a valid image tag (no '+').
func tagSafe(v string) string { return strings.ReplaceAll(v, "+", "_") }
