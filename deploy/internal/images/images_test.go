package images

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}

func releaseBinaries(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("PHOENIX_DIST_BIN")
	if dir == "" {
		dir = filepath.Join(repoRoot(), "dist", "linux_"+runtime.GOARCH)
	}
	for _, b := range []string{"phoenix-agent", "phoenix-otelcol", "phoenix-server"} {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s: run `make dist` first", filepath.Join(dir, b))
			}
			t.Skipf("%s not built: run `make dist` first (or set PHOENIX_DIST_BIN)", filepath.Join(dir, b))
		}
	}
	return dir
}

// extract unpacks the image's flattened filesystem into dir.
func extract(t *testing.T, img v1.Image, dir string) {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.Clean("/"+h.Name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, os.FileMode(h.Mode).Perm()); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			_ = os.MkdirAll(filepath.Dir(p), 0o755)
			f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode).Perm())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(f, tr); err != nil {
				t.Fatal(err)
			}
			f.Close()
		}
	}
}

// Each image's config (entrypoint, user, ports) is what the chart and the
// docs expect, it survives the trip through a tarball and an OCI layout, and
// the binaries extracted from its layers run (--version) as its user.
func TestImagesConfigAndBinariesRun(t *testing.T) {
	bin := releaseBinaries(t)
	base, err := Base("/etc/ssl/certs/ca-certificates.crt")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skipf("Debian's CA bundle is missing (apt-get install ca-certificates): %v", err)
	}
	out := t.TempDir()
	for _, c := range []struct {
		im    Image
		ports []string
	}{{Server, []string{"4320/tcp", "8080/tcp"}}, {Agent, nil}} {
		img, err := Build(c.im, base, runtime.GOARCH, "0.1.0-test", bin)
		if err != nil {
			t.Fatal(err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(cf.Config.Entrypoint, c.im.Entrypoint) || cf.Config.Entrypoint[0] != "/usr/bin/"+c.im.Binaries[0] {
			t.Errorf("%s entrypoint %v", c.im.Name, cf.Config.Entrypoint)
		}
		if cf.Config.User != "65532:65532" {
			t.Errorf("%s user %q, want the nonroot 65532:65532", c.im.Name, cf.Config.User)
		}
		var ports []string
		for p := range cf.Config.ExposedPorts {
			ports = append(ports, p)
		}
		slices.Sort(ports)
		if !slices.Equal(ports, c.ports) {
			t.Errorf("%s ports %v, want %v", c.im.Name, ports, c.ports)
		}
		if cf.OS != "linux" || cf.Architecture != runtime.GOARCH {
			t.Errorf("%s platform %s/%s", c.im.Name, cf.OS, cf.Architecture)
		}

		// Round trips: docker tarball and OCI layout give the same image.
		want, _ := img.Digest()
		tb := filepath.Join(out, c.im.Name+".tar")
		if err := WriteTarball(tb, "phoenix/"+c.im.Name+":0.1.0-test", img); err != nil {
			t.Fatal(err)
		}
		back, err := tarball.ImageFromPath(tb, nil)
		if err != nil {
			t.Fatal(err)
		}
		// A docker tarball keeps the config and the layers, not the OCI
		// manifest: compare the config's digest.
		wantCfg, _ := img.ConfigName()
		if got, _ := back.ConfigName(); got != wantCfg {
			t.Errorf("%s: tarball config %v, built %v", c.im.Name, got, wantCfg)
		}
		lp := filepath.Join(out, "oci")
		if err := WriteLayout(lp, c.im.Name+":0.1.0-test", map[string]v1.Image{runtime.GOARCH: img}); err != nil {
			t.Fatal(err)
		}
		idx, err := layout.ImageIndexFromPath(lp)
		if err != nil {
			t.Fatal(err)
		}
		fromLayout, err := idx.Image(want)
		if err != nil {
			t.Errorf("%s: not in the OCI layout: %v", c.im.Name, err)
		} else if got, _ := fromLayout.Digest(); got != want {
			t.Errorf("%s: layout digest %v", c.im.Name, got)
		}

		// The filesystem, and the binaries running as the image's user.
		fs := filepath.Join(out, c.im.Name+"-fs")
		extract(t, img, fs)
		for _, f := range []string{"etc/ssl/certs/ca-certificates.crt", "etc/passwd", "tmp"} {
			if _, err := os.Stat(filepath.Join(fs, f)); err != nil {
				t.Errorf("%s: /%s missing: %v", c.im.Name, f, err)
			}
		}
		if pw, _ := os.ReadFile(filepath.Join(fs, "etc/passwd")); !strings.Contains(string(pw), "nonroot:x:65532:65532") {
			t.Errorf("%s: /etc/passwd lacks nonroot: %s", c.im.Name, pw)
		}
		for d := fs; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
			_ = os.Chmod(d, 0o755) // let uid 65532 reach the extracted files
		}
		for _, b := range c.im.Binaries {
			cmd := exec.Command(filepath.Join(fs, "usr/bin", b), "--version")
			if os.Geteuid() == 0 {
				cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65532, Gid: 65532}}
			}
			o, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(o), "version") && !strings.Contains(string(o), b) {
				t.Errorf("%s: /usr/bin/%s --version: %v\n%s", c.im.Name, b, err, o)
			} else {
				t.Logf("%s: %s --version: %s", c.im.Name, b, strings.TrimSpace(string(o)))
			}
		}
	}
}
