package commands_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/agentsim"
	"github.com/phoenix-otel/phoenix/opamp-server/server"
)

// selfSigned writes a CA-less self-signed certificate for 127.0.0.1.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "phoenix-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestTLSWithCAFile(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	ctx := context.Background()
	s, err := server.New(ctx, server.Config{OpAMPAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", DataDir: filepath.Join(dir, "data"),
		TLSCertFile: certFile, TLSKeyFile: keyFile, ServerID: "tls", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c, cancel := context.WithTimeout(ctx, 10*time.Second); defer cancel(); _ = s.Stop(c) })
	if !strings.HasPrefix(s.APIURL(), "https://") {
		t.Fatalf("API URL %s", s.APIURL())
	}
	e := &env{t: t, srv: s, dir: dir, vars: map[string]string{"PHOENIX_SERVER": s.APIURL(), "PHOENIX_TOKEN": s.APIToken(), "PHOENIX_CONFIG": filepath.Join(dir, "c.yaml")}}

	r := e.must(1, "pipeline", "list")
	if !strings.Contains(r.err, "certificate") {
		t.Fatalf("without the CA:\n%s", r)
	}
	e.must(0, "pipeline", "list", "--ca-file", certFile)
	if r := e.must(1, "pipeline", "list", "--ca-file", keyFile); !strings.Contains(r.err, "no PEM certificate") {
		t.Fatalf("a key as CA file:\n%s", r)
	}
	// The CA from the environment, and --watch over wss://.
	e.vars["PHOENIX_CA_FILE"] = certFile
	e.agent("web-1", nil, func(o *agentsim.Options) { o.TLSConfig = &tls.Config{RootCAs: pool} })
	waitAgent(t, e, "web-1")
	r = e.must(0, "pipeline", "deploy", "process-baseline-v1", "--name", "web", "--host", "web-1", "--watch", "--timeout", "60s")
	if !strings.Contains(r.out, "version 1: applied") {
		t.Fatalf("deploy --watch over TLS:\n%s", r)
	}
}
