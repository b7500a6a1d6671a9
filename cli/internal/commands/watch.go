package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/phoenix-otel/phoenix/cli/internal/client"
	"github.com/phoenix-otel/phoenix/cli/internal/output"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

// printerClient returns the printer and the client.
func (app *App) printerClient() (*output.Printer, *client.Client, error) {
	p, err := app.printer()
	if err != nil {
		return nil, nil, err
	}
	c, err := app.client()
	if err != nil {
		return nil, nil, err
	}
	return p, c, nil
}

// Event types of /api/v1/stream the CLI follows.
const (
	evDeploymentStatus  = "deployment.status"
	evDeploymentDeleted = "deployment.deleted"
	evAgentUpdated      = "agent.updated"
	evLoadSim           = "loadsim.updated"
)

// watchTimeout turns the watch's deadline into a clear error.
func watchTimeout(ctx context.Context, w watchFlags, what string, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("timed out after %s waiting for %s", w.timeout, what)
	}
	return err
}

// emit prints one watched state: a JSON/YAML document per change, or a
// line per change in a table.
func (app *App) emit(p *output.Printer, raw json.RawMessage, line func() string) error {
	switch p.Format {
	case output.JSON:
		return output.WriteJSON(app.Out, raw)
	case output.YAML:
		fmt.Fprintln(app.Out, "---")
		return output.WriteYAML(app.Out, raw)
	}
	fmt.Fprintln(app.Out, line())
	return nil
}

func stamp() string { return time.Now().Format("15:04:05") }

// watchDeployment streams a deployment's status until it is final: nil when
// applied, an error when failed.
func (app *App) watchDeployment(parent context.Context, c *client.Client, p *output.Printer, name string, w watchFlags) error {
	ctx, cancel := w.context(parent)
	defer cancel()
	// The server sends the current status right after subscribing, so a
	// watch never waits for a change that already happened.
	s, err := c.OpenStream(ctx, client.StreamFilter{Deployment: name, Types: []string{evDeploymentStatus, evDeploymentDeleted}})
	if err != nil {
		return err
	}
	defer s.Close()
	last := map[string]string{}
	lastAgg := ""
	for {
		e, err := s.Next()
		if err != nil {
			return watchTimeout(ctx, w, "deployment "+name, ctxErr(ctx, err))
		}
		switch e.Type {
		case evDeploymentDeleted:
			return notFoundErr(fmt.Errorf("deployment %s was deleted while watching", name), "")
		case evDeploymentStatus:
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
			if err := app.emit(p, e.Data, func() string {
				out := fmt.Sprintf("%s  deployment %s version %d: %s (%s)", stamp(), st.Deployment, st.Version, st.Status, countsOrDetail(st))
				for _, h := range st.Hosts {
					if k := h.Status + "\x00" + h.Error; last[h.Host] != k {
						msg := h.Error
						if msg == "" {
							msg = h.Detail
						}
						out += fmt.Sprintf("\n%s    %s: %s", stamp(), h.Host, h.Status)
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
				return &Error{Code: ExitError, Err: fmt.Errorf("deployment %s version %d failed on %d host(s)", name, st.Version, st.Counts["failed"]),
					Hint: "phoenix-agent keeps its last working config on a failed host; fix the parameters and deploy again, roll back, or fix the host and run `phoenix agent retry <host>`"}
			}
			return nil
		}
	}
}

func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

func hostFinal(s string) bool { return s == "applied" || s == "failed" || s == "none" }

// watchHost streams one host's status until it is applied, failed or none.
func (app *App) watchHost(parent context.Context, c *client.Client, p *output.Printer, host string, w watchFlags) error {
	ctx, cancel := w.context(parent)
	defer cancel()
	s, err := c.OpenStream(ctx, client.StreamFilter{Host: host, Types: []string{evAgentUpdated}})
	if err != nil {
		return err
	}
	defer s.Close()
	var hs api.HostStatus
	raw, err := c.GetBoth(ctx, "/api/v1/hosts/"+client.Esc(host), nil, &hs)
	if err != nil {
		return hintf(err, "`phoenix agent list` lists the hosts")
	}
	last := ""
	for {
		if k := hs.Status + "\x00" + hs.Error; k != last {
			last = k
			if err := app.emit(p, raw, func() string {
				msg := hs.Error
				if msg == "" {
					msg = hs.Detail
				}
				line := fmt.Sprintf("%s  host %s: %s", stamp(), hs.Host, hs.Status)
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
				return &Error{Code: ExitError, Err: fmt.Errorf("host %s failed: %s", host, hs.Error)}
			}
			return nil
		}
		e, err := s.Next()
		if err != nil {
			return watchTimeout(ctx, w, "host "+host, ctxErr(ctx, err))
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
func (app *App) watchHostsRelease(parent context.Context, c *client.Client, hosts []string, w watchFlags) error {
	if len(hosts) == 0 {
		return nil
	}
	ctx, cancel := w.context(parent)
	defer cancel()
	s, err := c.OpenStream(ctx, client.StreamFilter{Types: []string{evAgentUpdated}})
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
		if !app.released(hs) {
			pending[h] = true
		}
	}
	for len(pending) > 0 {
		e, err := s.Next()
		if err != nil {
			return watchTimeout(ctx, w, "the hosts to leave the deployment", ctxErr(ctx, err))
		}
		if !pending[e.Host] {
			continue
		}
		var av api.Agent
		if err := json.Unmarshal(e.Data, &av); err != nil {
			return fmt.Errorf("event stream: bad agent event: %w", err)
		}
		if app.released(av.Status) {
			delete(pending, e.Host)
		}
	}
	return nil
}

func (app *App) released(hs api.HostStatus) bool {
	switch {
	case hs.Status == "none", hs.Deployment != "" && hs.Status == "applied":
		// none: runs the minimal config; another deployment took it over.
		fmt.Fprintf(app.Out, "%s  host %s: %s\n", stamp(), hs.Host, orText(hs.Deployment, "minimal config (no deployment)"))
		return true
	case hs.Status == "failed":
		fmt.Fprintf(app.Out, "%s  host %s: failed: %s\n", stamp(), hs.Host, hs.Error)
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
