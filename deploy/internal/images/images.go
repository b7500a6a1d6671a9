// Package images builds Phoenix's OCI images without a container engine,
// with go-containerregistry (as ko does): a static, distroless-like base made
// from scratch layers (CA certificates, a passwd with the nonroot user, /tmp)
// and one layer of static binaries. No registry is contacted.
package images

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// NonRoot is the user the images run as (distroless's nonroot).
const NonRoot = "65532:65532"

// Image describes one image.
type Image struct {
	Name       string
	Binaries   []string // installed to /usr/bin
	Entrypoint []string
	Ports      []string // "4320/tcp"
	DataDir    string   // created, owned by NonRoot
}

var (
	Server = Image{
		Name:       "phoenix-server",
		Binaries:   []string{"phoenix-server"},
		Entrypoint: []string{"/usr/bin/phoenix-server", "--data-dir", "/var/lib/phoenix/server"},
		Ports:      []string{"4320/tcp", "8080/tcp"},
		DataDir:    "/var/lib/phoenix/server",
	}
	Agent = Image{
		Name:       "phoenix-agent",
		Binaries:   []string{"phoenix-agent", "phoenix-otelcol"},
		Entrypoint: []string{"/usr/bin/phoenix-agent", "--collector", "/usr/bin/phoenix-otelcol", "--data-dir", "/var/lib/phoenix/agent"},
		DataDir:    "/var/lib/phoenix/agent",
	}
)

// epoch is every file's time: the same binaries give the same image digest.
var epoch = time.Unix(0, 0).UTC()

type entry struct {
	name string
	mode int64
	body []byte
	dir  bool
	uid  int
}

func layer(entries []entry) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: e.mode, ModTime: epoch, Uid: e.uid, Gid: e.uid, Format: tar.FormatPAX}
		if e.dir {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.body); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
		tarball.WithMediaType(types.OCILayer))
}

// Base is the static base image: CA certificates (from caFile, Debian's
// ca-certificates bundle), /etc/passwd and /etc/group with root and nonroot,
// and a world-writable sticky /tmp.
func Base(caFile string) (v1.Image, error) {
	ca, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("CA bundle: %w", err)
	}
	l, err := layer([]entry{
		{name: "etc/", mode: 0o755, dir: true},
		{name: "etc/ssl/", mode: 0o755, dir: true},
		{name: "etc/ssl/certs/", mode: 0o755, dir: true},
		{name: "etc/ssl/certs/ca-certificates.crt", mode: 0o644, body: ca},
		{name: "etc/passwd", mode: 0o644, body: []byte("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")},
		{name: "etc/group", mode: 0o644, body: []byte("root:x:0:\nnonroot:x:65532:\n")},
		{name: "tmp/", mode: 0o1777, dir: true},
		{name: "home/", mode: 0o755, dir: true},
		{name: "home/nonroot/", mode: 0o700, dir: true, uid: 65532},
	})
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), l)
	if err != nil {
		return nil, err
	}
	return mutate.ConfigMediaType(img, types.OCIConfigJSON), nil
}

// Build is the image of im for arch on base, from the binaries in binDir.
func Build(im Image, base v1.Image, arch, version, binDir string) (v1.Image, error) {
	entries := []entry{{name: "usr/", mode: 0o755, dir: true}, {name: "usr/bin/", mode: 0o755, dir: true},
		{name: "var/", mode: 0o755, dir: true}, {name: "var/lib/", mode: 0o755, dir: true},
		{name: "var/lib/phoenix/", mode: 0o755, dir: true}, {name: im.DataDir[1:] + "/", mode: 0o750, dir: true, uid: 65532}}
	for _, b := range im.Binaries {
		data, err := os.ReadFile(filepath.Join(binDir, b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", im.Name, err)
		}
		entries = append(entries, entry{name: "usr/bin/" + b, mode: 0o755, body: data})
	}
	l, err := layer(entries)
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(base, l)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS, cf.Created = arch, "linux", v1.Time{Time: epoch}
	cf.Config.Entrypoint = im.Entrypoint
	cf.Config.User = NonRoot
	cf.Config.WorkingDir = im.DataDir
	cf.Config.Env = []string{"PATH=/usr/bin", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"}
	cf.Config.Labels = map[string]string{
		"org.opencontainers.image.title":   im.Name,
		"org.opencontainers.image.version": version,
		"org.opencontainers.image.source":  "https://github.com/phoenix-otel/phoenix",
	}
	if len(im.Ports) > 0 {
		cf.Config.ExposedPorts = map[string]struct{}{}
		for _, p := range im.Ports {
			cf.Config.ExposedPorts[p] = struct{}{}
		}
	}
	return mutate.ConfigFile(img, cf)
}

// WriteTarball writes img as a `docker load`-able tarball tagged ref.
func WriteTarball(path, ref string, img v1.Image) error {
	tag, err := name.NewTag(ref)
	if err != nil {
		return err
	}
	return tarball.WriteToFile(path, tag, img)
}

// WriteLayout writes images (one per architecture of one name) into an OCI
// image layout at dir, as one multi-platform index.
func WriteLayout(dir, ref string, imgs map[string]v1.Image) error {
	p, err := layout.FromPath(dir)
	if err != nil {
		if p, err = layout.Write(dir, empty.Index); err != nil {
			return err
		}
	}
	for arch, img := range imgs {
		if err := p.AppendImage(img, layout.WithPlatform(v1.Platform{OS: "linux", Architecture: arch}),
			layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": ref})); err != nil {
			return err
		}
	}
	return nil
}
