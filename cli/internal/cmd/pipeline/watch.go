package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/phoenix-otel/phoenix/cli/internal/client"
	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
	"github.com/phoenix-otel/phoenix/cli/internal/output"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

// WatchDeployment streams a deployment's status to out until it is final:
// nil when applied, an error when failed.
func WatchDeployment(parent context.Context, out io.Writer, c *client.Client, p *output.Printer, name string, w cmdutil.WatchFlags) error {
	ctx, cancel := w.Context(parent)
	defer cancel()
	// The server sends the current status right after subscribing, so a
	// watch never waits for a change that already happened.
	s, err := c.OpenStream(ctx, client.StreamFilter{Deployment: name, Types: []string{api.EventDeploymentStatus, api.EventDeploymentDeleted}})
	if err != nil {
		return err
	}
	defer s.Close()
	last := map[string]string{}
	lastAgg := ""
	for {
		e, err := s.Next()
		if err != nil {
			return cmdutil.WatchTimeout(ctx, w, "deployment "+name, cmdutil.CtxErr(ctx, err))
		}
		switch e.Type {
		case api.EventDeploymentDeleted:
			return cmdutil.NotFoundError(fmt.Errorf("deployment %s was deleted while watching", name), "")
		case api.EventDeploymentStatus:
		default:
			continue
		}
		var st api.DeploymentStatus
		if err := json.Unmarshal(e.Data, &st); err != nil {
			return fmt.Errorf("event stream: bad deployment status: %w", err)
		}
		agg := fmt.Sprintf("%d/%s/%s", st.Version, st.Status, countsText(st))
		changed := agg != lastAgg
		for _, h := range st.Hosts {
			if k := h.Status + "\x00" + h.Error; last[h.Host] != k {
				changed = true
			}
		}
		if changed {
			if err := cmdutil.Emit(out, p, e.Data, func() string {
				out := fmt.Sprintf("%s  deployment %s version %d: %s (%s)", cmdutil.Stamp(), st.Deployment, st.Version, st.Status, countsOrDetail(st))
				for _, h := range st.Hosts {
					if k := h.Status + "\x00" + h.Error; last[h.Host] != k {
						msg := h.Error
						if msg == "" {
							msg = h.Detail
						}
						out += fmt.Sprintf("\n%s    %s: %s", cmdutil.Stamp(), h.Host, h.Status)
						if msg != "" {
							out += " (" + msg + ")"
						}
					}
				}
				return out
			}); err != nil {
				return err
			}
		}
		lastAgg = agg
		for _, h := range st.Hosts {
			last[h.Host] = h.Status + "\x00" + h.Error
		}
		if st.Final {
			if st.Status == "failed" {
				return &cmdutil.ExitError{Code: cmdutil.ExitFailure, Err: fmt.Errorf("deployment %s version %d failed on %d host(s)", name, st.Version, st.Counts["failed"]),
					Hint: "phoenix-agent keeps its last working config on a failed host; fix the parameters and deploy again, roll back, or fix the host and run `phoenix agent retry <host>`"}
			}
			return nil
		}
	}
}

func hostFinal(s string) bool { return s == "applied" || s == "failed" || s == "none" }

// watchHost streams one host's status until it is applied, failed or none.
func watchHost(parent context.Context, out io.Writer, c *client.Client, p *output.Printer, host string, w cmdutil.WatchFlags) error {
	ctx, cancel := w.Context(parent)
	defer cancel()
	s, err := c.OpenStream(ctx, client.StreamFilter{Host: host, Types: []string{api.EventAgentUpdated}})
	if err != nil {
		return err
	}
	defer s.Close()
	var hs api.HostStatus
	raw, err := c.GetBoth(ctx, "/api/v1/hosts/"+client.Esc(host), nil, &hs)
	if err != nil {
		return cmdutil.Hint(err, "`phoenix agent list` lists the hosts")
	}
	last := ""
	for {
		if k := hs.Status + "\x00" + hs.Error; k != last {
			last = k
			if err := cmdutil.Emit(out, p, raw, func() string {
				msg := hs.Error
				if msg == "" {
					msg = hs.Detail
				}
				line := fmt.Sprintf("%s  host %s: %s", cmdutil.Stamp(), hs.Host, hs.Status)
				if hs.Deployment != "" {
					line += fmt.Sprintf(" (deployment %s version %d)", hs.Deployment, hs.Version)
				}
				if msg != "" {
					line += ": " + msg
				}
				return line
			}); err != nil {
				return err
			}
		}
		if hostFinal(hs.Status) {
			if hs.Status == "failed" {
				return &cmdutil.ExitError{Code: cmdutil.ExitFailure, Err: fmt.Errorf("host %s failed: %s", host, hs.Error)}
			}
			return nil
		}
		e, err := s.Next()
		if err != nil {
			return cmdutil.WatchTimeout(ctx, w, "host "+host, cmdutil.CtxErr(ctx, err))
		}
		var av api.Agent
		if err := json.Unmarshal(e.Data, &av); err != nil {
			return fmt.Errorf("event stream: bad agent event: %w", err)
		}
		hs = av.Status
		raw, _ = json.Marshal(hs)
	}
}

// watchHostsRelease follows hosts after a delete until each runs the
// minimal config (status none) or failed.
func watchHostsRelease(parent context.Context, out io.Writer, c *client.Client, hosts []string, w cmdutil.WatchFlags) error {
	if len(hosts) == 0 {
		return nil
	}
	ctx, cancel := w.Context(parent)
	defer cancel()
	s, err := c.OpenStream(ctx, client.StreamFilter{Types: []string{api.EventAgentUpdated}})
	if err != nil {
		return err
	}
	defer s.Close()
	pending := map[string]bool{}
	for _, h := range hosts {
		var hs api.HostStatus
		if err := c.Get(ctx, "/api/v1/hosts/"+client.Esc(h), nil, &hs); err != nil {
			return err
		}
		if !released(out, hs) {
			pending[h] = true
		}
	}
	for len(pending) > 0 {
		e, err := s.Next()
		if err != nil {
			return cmdutil.WatchTimeout(ctx, w, "the hosts to leave the deployment", cmdutil.CtxErr(ctx, err))
		}
		if !pending[e.Host] {
			continue
		}
		var av api.Agent
		if err := json.Unmarshal(e.Data, &av); err != nil {
			return fmt.Errorf("event stream: bad agent event: %w", err)
		}
		if released(out, av.Status) {
			delete(pending, e.Host)
		}
	}
	return nil
}

// released prints and reports whether a host left its deleted deployment.
func released(out io.Writer, hs api.HostStatus) bool {
	switch {
	case hs.Status == "none", hs.Deployment != "" && hs.Status == "applied":
		// none: runs the minimal config; another deployment took it over.
		fmt.Fprintf(out, "%s  host %s: %s\n", cmdutil.Stamp(), hs.Host, orText(hs.Deployment, "minimal config (no deployment)"))
		return true
	case hs.Status == "failed":
		fmt.Fprintf(out, "%s  host %s: failed: %s\n", cmdutil.Stamp(), hs.Host, hs.Error)
		return true
	}
	return false
}

func orText(a, b string) string {
	if a != "" {
		return "deployment " + a
	}
	return b
}
