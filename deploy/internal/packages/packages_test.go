package packages

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// fakeBinaries writes stand-ins for the binaries: the package layout does
// not depend on what they are.
func fakeBinaries(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, b := range []string{"phoenix-agent", "phoenix-otelcol", "phoenix-server"} {
		if err := os.WriteFile(filepath.Join(dir, b), []byte("#!/bin/sh\necho "+b+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Every package of every format and architecture builds, and the .debs hold
// the binaries, the unit, the conffile and the maintainer scripts.
func TestPackagesBuildWithLayout(t *testing.T) {
	bin, out := fakeBinaries(t), t.TempDir()
	var built []string
	for _, arch := range Arches {
		for _, p := range []Package{Agent, Server} {
			for _, f := range Formats {
				path, err := Build(p, f, arch, "0.1.0-dev", bin, deployDir(), out)
				if err != nil {
					t.Fatal(err)
				}
				if st, err := os.Stat(path); err != nil || st.Size() < 1000 {
					t.Fatalf("%s: %v", path, err)
				}
				built = append(built, path)
			}
		}
	}
	if len(built) != 8 {
		t.Fatalf("built %d packages, want 8: %v", len(built), built)
	}
	sums, err := WriteChecksums(out, built)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("sha256sum"); err == nil {
		cmd := exec.Command("sha256sum", "-c", "--quiet", filepath.Base(sums))
		cmd.Dir = out
		if o, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("sha256sum -c: %v\n%s", err, o)
		}
	}
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		need(t, "dpkg-deb", "apt-get install dpkg", false)
	}
	for _, c := range []struct {
		p     Package
		files []string
	}{
		{Agent, []string{"./usr/bin/phoenix-agent", "./usr/bin/phoenix-otelcol", "./usr/lib/systemd/system/phoenix-agent.service", "./etc/phoenix/agent.yaml"}},
		{Server, []string{"./usr/bin/phoenix-server", "./usr/lib/systemd/system/phoenix-server.service", "./etc/phoenix/server.yaml"}},
	} {
		deb := filepath.Join(out, c.p.Name+"_0.1.0~dev_amd64.deb")
		list, err := exec.Command("dpkg-deb", "--contents", deb).CombinedOutput()
		if err != nil {
			t.Fatalf("dpkg-deb --contents %s: %v\n%s", deb, err, list)
		}
		for _, f := range c.files {
			if !strings.Contains(string(list), f) {
				t.Errorf("%s lacks %s:\n%s", deb, f, list)
			}
		}
		ctrl := t.TempDir()
		if o, err := exec.Command("dpkg-deb", "--control", deb, ctrl).CombinedOutput(); err != nil {
			t.Fatalf("%v %s", err, o)
		}
		conf, _ := os.ReadFile(filepath.Join(ctrl, "conffiles"))
		if strings.TrimSpace(string(conf)) != "/etc/phoenix/"+c.p.Config {
			t.Errorf("%s conffiles = %q", deb, conf)
		}
		for _, s := range []string{"preinst", "postinst", "prerm", "postrm"} {
			body, err := os.ReadFile(filepath.Join(ctrl, s))
			if err != nil {
				t.Errorf("%s has no %s", deb, s)
				continue
			}
			if regexp.MustCompile(`@[A-Z]+@`).Match(body) {
				t.Errorf("%s %s has an unfilled placeholder:\n%s", deb, s, body)
			}
			if o, err := exec.Command("sh", "-n", filepath.Join(ctrl, s)).CombinedOutput(); err != nil {
				t.Errorf("%s %s is not valid sh: %s", deb, s, o)
			}
		}
	}
}
