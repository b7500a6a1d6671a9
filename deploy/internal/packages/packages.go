// Package packages builds Phoenix's .deb and .rpm packages with nfpm (as a
// library): phoenix-agent (with phoenix-otelcol) and phoenix-server, each
// with its systemd unit, its default config under /etc/phoenix and its data
// directory under /var/lib/phoenix.
package packages

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb" // registers the deb packager
	"github.com/goreleaser/nfpm/v2/files"
	_ "github.com/goreleaser/nfpm/v2/rpm" // registers the rpm packager
)

// Formats are the package formats built.
var Formats = []string{"deb", "rpm"}

// Arches are the architectures released (Go names; nfpm maps them per format).
var Arches = []string{"amd64", "arm64"}

// Package describes one package.
type Package struct {
	Name        string
	Description string
	Unit        string   // systemd unit file name under deploy/systemd
	Config      string   // default config under deploy/config, installed to /etc/phoenix/
	DataDir     string   // data directory, created by the postinst
	Binaries    []string // file names in the binary directory, installed to /usr/bin
	Message     string   // printed by the postinst on a fresh install
}

// The two packages.
var (
	Agent = Package{
		Name:        "phoenix-agent",
		Description: "Phoenix agent: OpAMP client that supervises phoenix-otelcol, the process-metrics collector",
		Unit:        "phoenix-agent.service",
		Config:      "agent.yaml",
		DataDir:     "/var/lib/phoenix/agent",
		Binaries:    []string{"phoenix-agent", "phoenix-otelcol"},
		Message: `phoenix-agent is installed and waits for two settings before it starts:
  1. the server, in /etc/phoenix/agent.yaml:
       server: wss://<phoenix-server>:4320/v1/opamp
  2. the enrollment token (phoenix-server keeps it in its data directory), from stdin:
       sudo sh -c 'umask 027; cat > /etc/phoenix/enrollment-token' && sudo chgrp phoenix /etc/phoenix/enrollment-token
Then: sudo systemctl restart phoenix-agent   (journalctl -u phoenix-agent to follow it)`,
	}
	Server = Package{
		Name:        "phoenix-server",
		Description: "Phoenix server: OpAMP fleet management, pipeline deployments, experiments and the REST API",
		Unit:        "phoenix-server.service",
		Config:      "server.yaml",
		DataDir:     "/var/lib/phoenix/server",
		Binaries:    []string{"phoenix-server"},
		Message: `phoenix-server is installed and started (REST API and console on :8080, OpAMP on :4320).
Settings: /etc/phoenix/server.yaml. Tokens: /var/lib/phoenix/server/api-token (for the phoenix CLI)
and /var/lib/phoenix/server/enrollment-token (for agents).`,
	}
)

// Build writes the package of p for format and arch into outDir, from the
// binaries in binDir and the unit, config and scripts under deployDir. It
// returns the package's path.
func Build(p Package, format, arch, version, binDir, deployDir, outDir string) (string, error) {
	scriptsDir, err := os.MkdirTemp("", "phoenix-pkg-scripts-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(scriptsDir)
	scripts := nfpm.Scripts{}
	for _, s := range []struct {
		name string
		dst  *string
	}{{"preinstall", &scripts.PreInstall}, {"postinstall", &scripts.PostInstall}, {"preremove", &scripts.PreRemove}, {"postremove", &scripts.PostRemove}} {
		path, err := writeScript(p, filepath.Join(deployDir, "scripts"), s.name, scriptsDir)
		if err != nil {
			return "", err
		}
		*s.dst = path
	}
	contents := files.Contents{
		{Source: filepath.Join(deployDir, "systemd", p.Unit), Destination: "/usr/lib/systemd/system/" + p.Unit,
			FileInfo: &files.ContentFileInfo{Mode: 0o644}},
		{Source: filepath.Join(deployDir, "config", p.Config), Destination: "/etc/phoenix/" + p.Config,
			Type: files.TypeConfigNoReplace, FileInfo: &files.ContentFileInfo{Mode: 0o644}},
		{Destination: "/etc/phoenix", Type: files.TypeDir, FileInfo: &files.ContentFileInfo{Mode: 0o755}},
	}
	for _, b := range p.Binaries {
		src := filepath.Join(binDir, b)
		if _, err := os.Stat(src); err != nil {
			return "", fmt.Errorf("%s: binary %s: %w", p.Name, b, err)
		}
		contents = append(contents, &files.Content{Source: src, Destination: "/usr/bin/" + b, FileInfo: &files.ContentFileInfo{Mode: 0o755}})
	}
	info := nfpm.WithDefaults(&nfpm.Info{
		Name:        p.Name,
		Arch:        arch,
		Platform:    "linux",
		Version:     version,
		Section:     "admin",
		Priority:    "optional",
		Maintainer:  "Phoenix <phoenix@localhost>",
		Description: p.Description,
		Vendor:      "Phoenix",
		Homepage:    "https://github.com/phoenix-otel/phoenix",
		License:     "Apache-2.0",
		Overridables: nfpm.Overridables{
			Contents: contents,
			Scripts:  scripts,
			// The binaries are static. The maintainer scripts use useradd,
			// grep and awk, which every Debian system has (passwd is
			// priority required, grep essential): no Depends.
			RPM: nfpm.RPM{Group: "System Environment/Daemons"},
		},
	})
	if format == "rpm" {
		info.Depends = []string{"shadow-utils", "grep", "gawk"} // useradd is not in every minimal RPM image
	}
	if err := nfpm.PrepareForPackager(info, format); err != nil {
		return "", fmt.Errorf("%s %s/%s: %w", p.Name, format, arch, err)
	}
	pkgr, err := nfpm.Get(format)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return "", err
	}
	out := filepath.Join(outDir, pkgr.ConventionalFileName(info))
	f, err := os.Create(out)
	if err != nil {
		return "", err
	}
	if err := pkgr.Package(info, f); err != nil {
		f.Close()
		return "", fmt.Errorf("%s %s/%s: %w", p.Name, format, arch, err)
	}
	return out, f.Close()
}

// writeScript makes one maintainer script: a POSIX shell header, the shared
// functions and the package's step, with its names filled in.
func writeScript(p Package, srcDir, name, outDir string) (string, error) {
	common, err := os.ReadFile(filepath.Join(srcDir, "common.sh"))
	if err != nil {
		return "", err
	}
	step, err := os.ReadFile(filepath.Join(srcDir, name+".sh"))
	if err != nil {
		return "", err
	}
	body := strings.NewReplacer("@UNIT@", p.Unit, "@DATADIR@", p.DataDir, "@MESSAGE@", p.Message).Replace(string(step))
	script := "#!/bin/sh\n# " + p.Name + " " + name + " (generated by deploy/internal/packages)\nset -e\n" + string(common) + "\n" + body
	path := filepath.Join(outDir, p.Name+"-"+name+".sh")
	return path, os.WriteFile(path, []byte(script), 0o755)
}

// WriteChecksums writes SHA256SUMS in dir over every regular file in it
// (sha256sum -c format).
func WriteChecksums(dir string, paths []string) (string, error) {
	sort.Strings(paths)
	var b strings.Builder
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return "", err
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "%s  %s\n", hex.EncodeToString(h.Sum(nil)), filepath.ToSlash(rel))
	}
	out := filepath.Join(dir, "SHA256SUMS")
	return out, os.WriteFile(out, []byte(b.String()), 0o644)
}
