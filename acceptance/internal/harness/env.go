package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

// Bins are the built binaries the suite runs (make build writes them to bin/).
type Bins struct {
	Server, Agent, CLI, Otelcol string
}

// FindBins returns the binaries under root/bin (PHOENIX_OTELCOL overrides the
// collector) and an error naming every one that is missing.
func FindBins(root string) (Bins, error) {
	b := Bins{
		Server:  filepath.Join(root, "bin", "phoenix-server"),
		Agent:   filepath.Join(root, "bin", "phoenix-agent"),
		CLI:     filepath.Join(root, "bin", "phoenix"),
		Otelcol: filepath.Join(root, "bin", "phoenix-otelcol"),
	}
	if p := os.Getenv("PHOENIX_OTELCOL"); p != "" {
		b.Otelcol = p
	}
	var missing []string
	for _, p := range []string{b.Server, b.Agent, b.CLI, b.Otelcol} {
		if st, err := os.Stat(p); err != nil || st.IsDir() {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return b, fmt.Errorf("not built: %s (run `make build`)", strings.Join(missing, ", "))
	}
	return b, nil
}

// FreePort asks the kernel for a free loopback port.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Server is a phoenix-server process on loopback ports with SQLite in a
// temp dir.
type Server struct {
	*Proc
	OpAMPURL, APIURL string
	DataDir          string
	apiToken         string
}

// StartServer starts bin/phoenix-server and waits until /readyz answers.
func StartServer(ctx context.Context, dir, bin string) (*Server, error) {
	op, err := FreePort()
	if err != nil {
		return nil, err
	}
	hp, err := FreePort()
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "server")
	p, err := Start(dir, "phoenix-server", bin, nil,
		"--opamp-addr", "127.0.0.1:"+strconv.Itoa(op), "--http-addr", "127.0.0.1:"+strconv.Itoa(hp),
		"--data-dir", data, "--server-id", "acceptance", "--log-level", "warn")
	if err != nil {
		return nil, err
	}
	s := &Server{Proc: p, OpAMPURL: fmt.Sprintf("ws://127.0.0.1:%d/v1/opamp", op), APIURL: fmt.Sprintf("http://127.0.0.1:%d", hp), DataDir: data}
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	err = WaitUntil(wctx, 100*time.Millisecond, func() (bool, string) {
		if p.Exited() {
			return false, "exited: " + p.Log(2000)
		}
		resp, err := http.Get(s.APIURL + "/readyz")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
	if err != nil {
		p.Stop(10 * time.Second)
		return nil, fmt.Errorf("phoenix-server not ready: %w", err)
	}
	tok, err := os.ReadFile(filepath.Join(data, "api-token"))
	if err != nil {
		p.Stop(10 * time.Second)
		return nil, err
	}
	s.apiToken = strings.TrimSpace(string(tok))
	return s, nil
}

// EnrollmentTokenFile is the file agents enrol with.
func (s *Server) EnrollmentTokenFile() string { return filepath.Join(s.DataDir, "enrollment-token") }

// CLI runs bin/phoenix against one server, as a user would: a child process
// with PHOENIX_SERVER, PHOENIX_TOKEN and its own config file.
type CLI struct {
	Bin string
	// Dir is the working directory of every command (the repository root,
	// so that files are named relative to it, as a user would).
	Dir    string
	server *Server
	config string
	// Log receives every command line and its output (never the token).
	Log func(format string, args ...any)
}

// NewCLI returns the CLI of s; its config file lives in dir.
func NewCLI(bin string, s *Server, dir string) *CLI {
	return &CLI{Bin: bin, server: s, config: filepath.Join(dir, "phoenix-cli.yaml")}
}

// Result is one CLI run.
type Result struct {
	Args     []string
	Stdout   string
	Stderr   string
	Code     int
	Duration time.Duration
}

func (r Result) String() string {
	return fmt.Sprintf("$ phoenix %s  (exit %d, %s)\n%s%s", strings.Join(r.Args, " "), r.Code, r.Duration.Round(time.Millisecond), r.Stdout, r.Stderr)
}

// Run runs `phoenix args...` and returns its output and exit code.
func (c *CLI) Run(ctx context.Context, args ...string) Result {
	cmd := exec.CommandContext(ctx, c.Bin, args...)
	cmd.Dir = c.Dir
	cmd.Env = append(os.Environ(), "PHOENIX_SERVER="+c.server.APIURL, "PHOENIX_TOKEN="+c.server.apiToken,
		"PHOENIX_CONFIG="+c.config, "NO_COLOR=1", "TERM=dumb")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := Result{Args: args, Stdout: out.String(), Stderr: errb.String(), Duration: time.Since(start)}
	if err != nil {
		r.Code = -1
		if ee, ok := err.(*exec.ExitError); ok {
			r.Code = ee.ExitCode()
		} else {
			r.Stderr += err.Error()
		}
	}
	if c.Log != nil {
		c.Log("%s", r)
	}
	return r
}

// JSON runs `phoenix args... -o json`, requires exit 0 and decodes stdout.
func (c *CLI) JSON(ctx context.Context, v any, args ...string) error {
	r := c.Run(ctx, append(args, "-o", "json")...)
	if r.Code != 0 {
		return fmt.Errorf("phoenix %s: exit %d: %s", strings.Join(args, " "), r.Code, r.Stderr)
	}
	if err := json.Unmarshal([]byte(r.Stdout), v); err != nil {
		return fmt.Errorf("phoenix %s -o json: %v\n%s", strings.Join(args, " "), err, r.Stdout)
	}
	return nil
}

// Agent is a phoenix-agent process for one host name, supervising a
// collector binary.
type Agent struct {
	*Proc
	Host    string
	DataDir string
}

// AgentOptions are the agent's flags that tests vary.
type AgentOptions struct {
	Collector        string            // path of the collector binary
	Labels           map[string]string // --label k=v
	MaxLoadProcesses int
}

// StartAgent starts phoenix-agent for host and waits until the server lists
// it online and healthy.
func StartAgent(ctx context.Context, dir string, bins Bins, s *Server, cli *CLI, host string, o AgentOptions) (*Agent, error) {
	if o.Collector == "" {
		o.Collector = bins.Otelcol
	}
	if o.MaxLoadProcesses == 0 {
		o.MaxLoadProcesses = 300
	}
	data := filepath.Join(dir, "agent-"+host)
	args := []string{"--server", s.OpAMPURL, "--token-file", s.EnrollmentTokenFile(), "--data-dir", data,
		"--collector", o.Collector, "--host-name", host, "--health-interval", "500ms", "--heartbeat-interval", "1s",
		"--apply-timeout", "60s", "--max-load-processes", strconv.Itoa(o.MaxLoadProcesses), "--log-level", "info"}
	keys := make([]string, 0, len(o.Labels))
	for k := range o.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "--label", k+"="+o.Labels[k])
	}
	p, err := Start(dir, "phoenix-agent-"+host, bins.Agent, nil, args...)
	if err != nil {
		return nil, err
	}
	a := &Agent{Proc: p, Host: host, DataDir: data}
	wctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	err = WaitUntil(wctx, 250*time.Millisecond, func() (bool, string) {
		if p.Exited() {
			return false, "agent exited: " + p.Log(2000)
		}
		var ag api.Agent
		if err := cli.JSON(wctx, &ag, "agent", "show", host); err != nil {
			return false, err.Error()
		}
		return ag.Online && ag.Health != nil && ag.Health.Healthy, fmt.Sprintf("online=%v health=%+v", ag.Online, ag.Health)
	})
	if err != nil {
		a.Stop()
		return nil, fmt.Errorf("agent %s not healthy: %w", host, err)
	}
	return a, nil
}

// Stop stops the agent (which stops its collector and load processes) and
// checks that none of its children is left.
func (a *Agent) Stop() {
	kids := Children(a.PID())
	a.Proc.Stop(30 * time.Second)
	for _, k := range kids {
		if _, ok := ReadProc(k.PID); ok {
			// A child that outlived its agent: end it by pid.
			_ = syscall.Kill(k.PID, syscall.SIGKILL)
		}
	}
}

// Collector returns the pid and the --config file content of the collector
// this agent runs now.
func (a *Agent) Collector() (int, string, error) {
	for _, k := range Children(a.PID()) {
		if len(k.Cmdline) == 0 || !strings.Contains(k.Cmdline[0], "otelcol") {
			continue
		}
		for _, arg := range k.Cmdline[1:] {
			p, ok := strings.CutPrefix(arg, "--config=")
			if !ok {
				continue
			}
			if !filepath.IsAbs(p) {
				cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", k.PID))
				if err != nil {
					return 0, "", err
				}
				p = filepath.Join(cwd, p)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return 0, "", err
			}
			return k.PID, string(b), nil
		}
	}
	return 0, "", fmt.Errorf("agent %s (pid %d) runs no collector with --config", a.Host, a.PID())
}
