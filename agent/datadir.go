package agent

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
)

// dataDir is the agent's on-disk state. Every write is atomic (temp file,
// fsync, rename) so a crash mid-write never leaves a half-written config.
//
//	<data-dir>/
//	  agent.lock                   flock held while an agent runs on this directory
//	  instance_uid                 the agent's UUIDv7, one line
//	  state/remote_config_status.json  last reported remote config status
//	  state/failed_hashes.json     config hashes that failed; never applied again
//	  state/own_metrics.json       the last own_metrics destination offered
//	  config/last_working.json     the last remote config that ran healthy
//	  config/last_received.json    the last remote config received
//	  config/candidate.yaml        the config being validated (with injections)
//	  config/effective.yaml        the config the collector runs now (with injections)
//	  logs/collector.log           the collector's output (previous run: .1)
//	  loadsim/                     inline custom load profiles
type dataDir struct {
	root string
	lock *os.File
}

func openDataDir(root string) (*dataDir, error) {
	for _, sub := range []string{"", "state", "config", "logs", "loadsim"} {
		if err := os.MkdirAll(filepath.Join(root, sub), 0o750); err != nil {
			return nil, fmt.Errorf("data dir %s: %w", root, err)
		}
	}
	return &dataDir{root: root}, nil
}

// lockExclusive takes the directory's lock: two agents on one data directory
// would fight over one collector's config and identity.
func (d *dataDir) lockExclusive() error {
	p := d.path("agent.lock")
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		owner, _ := os.ReadFile(p)
		f.Close()
		return fmt.Errorf("data dir %s is in use by another phoenix-agent (pid %s): %w", d.root, strings.TrimSpace(string(owner)), err)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(fmt.Sprintf("%d\n", os.Getpid())), 0)
	d.lock = f
	return nil
}

func (d *dataDir) unlock() {
	if d.lock != nil {
		_ = syscall.Flock(int(d.lock.Fd()), syscall.LOCK_UN)
		d.lock.Close()
		d.lock = nil
	}
}

func (d *dataDir) path(parts ...string) string {
	return filepath.Join(append([]string{d.root}, parts...)...)
}

func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func (d *dataDir) writeJSON(v any, parts ...string) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(d.path(parts...), append(b, '\n'))
}

// readJSON returns (false, nil) when the file does not exist.
func (d *dataDir) readJSON(v any, parts ...string) (bool, error) {
	p := d.path(parts...)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("%s is corrupt: %w", p, err)
	}
	return true, nil
}

// instanceUID loads the persisted UUIDv7, creating it on first start.
func (d *dataDir) instanceUID() (uuid.UUID, error) {
	p := d.path("instance_uid")
	b, err := os.ReadFile(p)
	if err == nil {
		id, perr := uuid.Parse(strings.TrimSpace(string(b)))
		if perr != nil {
			return uuid.Nil, fmt.Errorf("%s: not a UUID: %w (delete it to get a new identity)", p, perr)
		}
		return id, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return uuid.Nil, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.Nil, err
	}
	if err := writeFileAtomic(p, []byte(id.String()+"\n")); err != nil {
		return uuid.Nil, err
	}
	return id, nil
}

// storedConfig is a remote config as received: its files and its hash.
type storedConfig struct {
	Hash      string            `json:"hash"` // hex
	Files     map[string]string `json:"files"`
	AppliedAt time.Time         `json:"applied_at,omitzero"`
}

func (s *storedConfig) hashBytes() []byte {
	b, _ := hex.DecodeString(s.Hash)
	return b
}

// fileNames returns the config file names in merge order.
func (s *storedConfig) fileNames() []string {
	names := make([]string, 0, len(s.Files))
	for n := range s.Files {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// storedStatus mirrors protobufs.RemoteConfigStatus in a stable JSON form.
type storedStatus struct {
	Hash   string `json:"hash"`
	Status string `json:"status"` // APPLIED | APPLYING | FAILED
	Error  string `json:"error,omitempty"`
}

// failedHashes maps a hex config hash to the error it failed with.
type failedHashes map[string]string

// ownMetricsDest is where the collector's own metrics go.
type ownMetricsDest struct {
	Endpoint string            `json:"endpoint"`
	Headers  map[string]string `json:"headers,omitempty"`
}

func (o *ownMetricsDest) equal(p *ownMetricsDest) bool {
	if o == nil || p == nil {
		return o == p
	}
	if o.Endpoint != p.Endpoint || len(o.Headers) != len(p.Headers) {
		return false
	}
	for k, v := range o.Headers {
		if p.Headers[k] != v {
			return false
		}
	}
	return true
}
