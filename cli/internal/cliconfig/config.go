// Package cliconfig finds the phoenix CLI's server URL, API token and CA file.
//
// Each setting comes from the first of: a flag (--server, --token,
// --ca-file), the environment (PHOENIX_SERVER, PHOENIX_TOKEN,
// PHOENIX_CA_FILE), the config file (`phoenix config set-server` etc.,
// under the user config directory), and a built-in default. When nothing
// gives a token, the token that a local phoenix-server wrote into its data
// directory (`make run`) is used, so a local run needs no set-up.
package cliconfig

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Environment variables.
const (
	EnvServer  = "PHOENIX_SERVER"
	EnvToken   = "PHOENIX_TOKEN"
	EnvCAFile  = "PHOENIX_CA_FILE"
	EnvConfig  = "PHOENIX_CONFIG"   // path of the config file
	EnvDataDir = "PHOENIX_DATA_DIR" // a local server's data directory, for its token file
)

// DefaultServer is phoenix-server's REST address on this host.
const DefaultServer = "http://127.0.0.1:8080"

// File is the config file's content.
type File struct {
	Server string `yaml:"server,omitempty" json:"server,omitempty"`
	Token  string `yaml:"token,omitempty" json:"token,omitempty"`
	CAFile string `yaml:"ca_file,omitempty" json:"ca_file,omitempty"`
}

// DefaultPath is $PHOENIX_CONFIG, else <user config dir>/phoenix/config.yaml
// (~/.config/phoenix/config.yaml on Linux).
func DefaultPath(getenv func(string) string) (string, error) {
	if p := getenv(EnvConfig); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no user config directory (%v): set %s to the config file's path", err, EnvConfig)
	}
	return filepath.Join(dir, "phoenix", "config.yaml"), nil
}

// Load reads the config file; a missing file is an empty config.
func Load(path string) (File, error) {
	var f File
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return f, fmt.Errorf("config file %s: %w", path, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	// An empty file is no document (io.EOF): an empty config.
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return f, fmt.Errorf("config file %s: %v (fix or delete it, or use `phoenix config set-server`)", path, err)
	}
	return f, nil
}

// Save writes the config file (mode 0600: it may hold a token), creating its
// directory, atomically.
func Save(path string, f File) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("config directory: %w", err)
	}
	b, err := yaml.Marshal(f)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".config-*.yaml")
	if err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("config file %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	return nil
}

// CheckServer checks a server URL and returns it without a trailing slash.
func CheckServer(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("server %q is not an http:// or https:// URL (for example %s)", s, DefaultServer)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("server %q: give the base URL, without a query or fragment", s)
	}
	return strings.TrimRight(s, "/"), nil
}

// Source says where a setting came from.
type Source string

// Sources.
const (
	FromFlag    Source = "flag"
	FromEnv     Source = "env"
	FromFile    Source = "config file"
	FromLocal   Source = "local server token file"
	FromDefault Source = "default"
	FromNone    Source = "not set"
)

// Value is a resolved setting and its source.
type Value struct {
	Value  string `json:"value" yaml:"value"`
	Source Source `json:"source" yaml:"source"`
	// Path is the file it was read from (config file or token file).
	Path string `json:"path,omitempty" yaml:"path,omitempty"`
}

// Settings are the resolved settings.
type Settings struct {
	ConfigPath string `json:"config_file"`
	Server     Value  `json:"server"`
	Token      Value  `json:"token"`
	CAFile     Value  `json:"ca_file"`
}

// Flags are the global flags as given ("" = not given).
type Flags struct {
	Server, Token, CAFile string
}

// Resolve applies the precedence flags > env > file > local token > default.
func Resolve(flags Flags, getenv func(string) string, configPath string, file File) Settings {
	pick := func(flag, env, fromFile string) Value {
		switch {
		case flag != "":
			return Value{Value: flag, Source: FromFlag}
		case getenv(env) != "":
			return Value{Value: getenv(env), Source: FromEnv}
		case fromFile != "":
			return Value{Value: fromFile, Source: FromFile, Path: configPath}
		}
		return Value{Source: FromNone}
	}
	s := Settings{
		ConfigPath: configPath,
		Server:     pick(flags.Server, EnvServer, file.Server),
		Token:      pick(flags.Token, EnvToken, file.Token),
		CAFile:     pick(flags.CAFile, EnvCAFile, file.CAFile),
	}
	if s.Server.Source == FromNone {
		s.Server = Value{Value: DefaultServer, Source: FromDefault}
	}
	if s.Token.Source == FromNone {
		if tok, path, ok := LocalToken(getenv); ok {
			s.Token = Value{Value: tok, Source: FromLocal, Path: path}
		}
	}
	return s
}

// LocalTokenFile is the name of the API token file phoenix-server writes
// into its data directory on first start.
const LocalTokenFile = "api-token"

// LocalToken reads the API token of a local phoenix-server: from
// $PHOENIX_DATA_DIR, else ./data (the data directory of `make run`).
func LocalToken(getenv func(string) string) (token, path string, ok bool) {
	dirs := []string{"data"}
	if d := getenv(EnvDataDir); d != "" {
		dirs = []string{d}
	}
	for _, d := range dirs {
		p := filepath.Join(d, LocalTokenFile)
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if t := strings.TrimSpace(string(b)); t != "" {
			abs, err := filepath.Abs(p)
			if err != nil {
				abs = p
			}
			return t, abs, true
		}
	}
	return "", "", false
}

// Mask shows the start of a token only.
func Mask(tok string) string {
	if tok == "" {
		return ""
	}
	if len(tok) <= 8 {
		return "********"
	}
	return tok[:4] + strings.Repeat("*", 8)
}
