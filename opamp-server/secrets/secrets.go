// Package secrets keeps destination secrets (the values of a deployment's
// destination headers, where API keys live) out of everything but the
// agent's process environment:
//
//   - at rest they are sealed with AES-256-GCM under a key file kept 0600 in
//     the data dir (generated on first start; replicas sharing a PostgreSQL
//     database must share it, see Config.SecretsKeyFile);
//   - above the store (the deployment domain, the renderer, the API, the CLI,
//     logs, version listings) a secret is only ever its reference,
//     ${env:PHOENIX_SECRET_<HEADER>_<tag>}, where tag is an HMAC of the value
//     under the key: the reference changes when the value does (so the
//     rendered config and its hash change), and it reveals nothing;
//   - the server sends the values to the agent apart from the config body,
//     as the internal/agentsecrets entry of the OpAMP config map, for the
//     references that config makes (Resolve).
//
// Store wraps a store.Store so that the sealing and the references happen
// at the one boundary every deployment write and read goes through.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/phoenix-otel/phoenix/internal/agentsecrets"
)

// sealedPrefix marks a sealed value in the database.
const sealedPrefix = "phx-enc:v1:"

// Box seals and opens values and remembers the references it handed out.
type Box struct {
	aead cipher.AEAD
	mac  []byte

	mu   sync.RWMutex
	refs map[string]string // env name -> value
}

// LoadOrCreateKey reads the 32-byte key (hex) in path, or generates one and
// writes it 0600 (O_EXCL: two replicas starting at once keep one key).
func LoadOrCreateKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		key, derr := hex.DecodeString(strings.TrimSpace(string(b)))
		if derr != nil || len(key) != 32 {
			return nil, fmt.Errorf("secrets key file %s: want 64 hex digits (a 256-bit key)", path)
		}
		if fi, serr := os.Stat(path); serr == nil && fi.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("secrets key file %s is readable by other users (%v): chmod 600 it", path, fi.Mode().Perm())
		}
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("secrets key file %s: %w", path, err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("secrets key file %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return LoadOrCreateKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("secrets key file %s: %w", path, err)
	}
	defer f.Close()
	if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		return nil, fmt.Errorf("secrets key file %s: %w", path, err)
	}
	return key, nil
}

// NewBox returns a box for a 32-byte key.
func NewBox(key []byte) (*Box, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("secrets key: %d bytes, want 32", len(key))
	}
	blk, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(blk)
	if err != nil {
		return nil, err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("phoenix secret reference tag"))
	return &Box{aead: aead, mac: mac.Sum(nil), refs: map[string]string{}}, nil
}

// Seal encrypts v (a fresh nonce each time).
func (b *Box) Seal(v string) string {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand does not fail on a supported platform
	}
	return sealedPrefix + base64.RawStdEncoding.EncodeToString(b.aead.Seal(nonce, nonce, []byte(v), nil))
}

// IsSealed reports whether v is a sealed value.
func IsSealed(v string) bool { return strings.HasPrefix(v, sealedPrefix) }

// Open decrypts a sealed value.
func (b *Box) Open(v string) (string, error) {
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimPrefix(v, sealedPrefix))
	if err != nil || !IsSealed(v) || len(raw) < b.aead.NonceSize() {
		return "", errors.New("not a sealed secret")
	}
	n := b.aead.NonceSize()
	out, err := b.aead.Open(nil, raw[:n], raw[n:], nil)
	if err != nil {
		return "", errors.New("a sealed secret does not open with this key (is --secrets-key-file the key it was sealed with?)")
	}
	return string(out), nil
}

var nonName = regexp.MustCompile(`[^A-Z0-9]+`)

// refName is the environment variable of header's value v.
func (b *Box) refName(header, v string) string {
	m := hmac.New(sha256.New, b.mac)
	m.Write([]byte(header + "\x00" + v))
	name := strings.Trim(nonName.ReplaceAllString(strings.ToUpper(header), "_"), "_")
	if len(name) > 40 {
		name = name[:40]
	}
	return agentsecrets.EnvPrefix + name + "_" + strings.ToUpper(hex.EncodeToString(m.Sum(nil)[:6]))
}

// Reference returns the ${env:...} reference of header's value v and
// remembers the value for Resolve.
func (b *Box) Reference(header, v string) string {
	name := b.refName(header, v)
	b.mu.Lock()
	b.refs[name] = v
	b.mu.Unlock()
	return agentsecrets.Ref(name)
}

var refRE = regexp.MustCompile(`\$\{env:(` + agentsecrets.EnvPrefix + `[A-Z0-9_]+)\}`)

// Resolve returns the values of the secret references that body makes, by
// environment variable name; unknown references are listed in missing.
func (b *Box) Resolve(body []byte) (values map[string]string, missing []string) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, m := range refRE.FindAllSubmatch(body, -1) {
		name := string(m[1])
		if v, ok := b.refs[name]; ok {
			if values == nil {
				values = map[string]string{}
			}
			values[name] = v
		} else {
			missing = append(missing, name)
		}
	}
	return values, missing
}

// valueOf returns the value a reference stands for, if this box handed it out.
func (b *Box) valueOf(v string) (string, bool) {
	m := refRE.FindStringSubmatch(v)
	if m == nil || m[0] != v {
		return "", false
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	val, ok := b.refs[m[1]]
	return val, ok
}

// Values are every secret value the box knows (to redact them from what
// agents report).
func (b *Box) Values() []string {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make([]string, 0, len(b.refs))
	for _, v := range b.refs {
		out = append(out, v)
	}
	return out
}
