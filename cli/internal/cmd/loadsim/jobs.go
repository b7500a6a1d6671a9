// Package loadsim is `phoenix loadsim`: load simulations on a host (one
// command per file with its options struct, gh's layout), and the job
// table and watcher they share.
package loadsim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/client"
	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
	"github.com/phoenix-otel/phoenix/cli/internal/output"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

const jobsPath = "/api/v1/loadsim/jobs"

// completeJobs completes the active jobs' ids.
func completeJobs(f *cmdutil.Factory) cobra.CompletionFunc {
	return cmdutil.Complete(f, jobsPath, url.Values{"active": {"true"}}, func(js []api.Job) []string {
		var out []string
		for _, j := range js {
			out = append(out, j.ID+"\t"+j.TargetHost+" "+j.Profile)
		}
		return out
	})
}

func jobTable(t *output.TableWriter, js []api.Job) {
	t.Header("id", "host", "mode", "profile", "status", "processes", "duration", "age", "message")
	t.Empty("no load simulations")
	for _, j := range js {
		procs := ""
		switch {
		case j.Mode == "process" && j.TargetProcesses > 0:
			procs = fmt.Sprintf("%d/%d", j.Live, j.TargetProcesses)
		case j.ProcessCount > 0:
			procs = strconv.Itoa(j.ProcessCount)
		}
		dur := j.Duration.String()
		if j.Duration == 0 {
			dur = "until stopped"
		}
		st := string(j.Status)
		if j.StopRequested && !j.Final() {
			st += " (stopping)"
		}
		t.StyledRow(output.Cell{Text: j.ID}, output.Cell{Text: j.TargetHost}, output.Cell{Text: string(j.Mode)}, output.Cell{Text: j.Profile},
			output.Cell{Text: st, Style: cmdutil.StatusStyle(string(j.Status))}, output.Cell{Text: procs}, output.Cell{Text: dur}, output.Cell{Text: cmdutil.Ago(j.CreatedAt)},
			output.Cell{Text: j.Error})
	}
}

func jobIDs(js []api.Job) []string {
	var ids []string
	for _, j := range js {
		ids = append(ids, j.ID)
	}
	return ids
}

// watchJobs streams job updates until every job is final (or, with
// untilRunning, running). A failed job makes the command fail.
func watchJobs(parent context.Context, f *cmdutil.Factory, c *client.Client, p *output.Printer, ids []string, w cmdutil.WatchFlags, untilRunning bool) error {
	ctx, cancel := w.Context(parent)
	defer cancel()
	s, err := c.OpenStream(ctx, client.StreamFilter{Types: []string{api.EventLoadSim}})
	if err != nil {
		return err
	}
	defer s.Close()
	state := map[string]api.Job{}
	show := func(raw json.RawMessage, j api.Job) error {
		prev, seen := state[j.ID]
		state[j.ID] = j
		if seen && prev.Status == j.Status && prev.Live == j.Live && prev.Error == j.Error && prev.StopRequested == j.StopRequested {
			return nil
		}
		return cmdutil.Emit(f.Out, p, raw, func() string {
			line := fmt.Sprintf("%s  load simulation %s on %s: %s", cmdutil.Stamp(), j.ID, j.TargetHost, j.Status)
			if j.Mode == "process" && j.Status == "running" {
				line += fmt.Sprintf(" (%d/%d processes)", j.Live, j.TargetProcesses)
			}
			if j.StopRequested && !j.Final() {
				line += " (stopping)"
			}
			if j.Error != "" {
				line += ": " + j.Error
			}
			return line
		})
	}
	for _, id := range ids {
		var j api.Job
		raw, err := c.GetBoth(ctx, jobsPath+"/"+client.Esc(id), nil, &j)
		if err != nil {
			return cmdutil.Hint(err, "`phoenix loadsim status` lists the jobs")
		}
		if err := show(raw, j); err != nil {
			return err
		}
	}
	done := func() (bool, error) {
		for _, id := range ids {
			j := state[id]
			if j.Status == "failed" {
				return true, &cmdutil.ExitError{Code: cmdutil.ExitFailure, Err: fmt.Errorf("load simulation %s failed: %s", j.ID, j.Error)}
			}
			if !(j.Final() || (untilRunning && j.Status == "running" && !j.StopRequested)) {
				return false, nil
			}
		}
		return true, nil
	}
	for {
		if ok, err := done(); ok {
			return err
		}
		e, err := s.Next()
		if err != nil {
			return cmdutil.WatchTimeout(ctx, w, "the load simulation", cmdutil.CtxErr(ctx, err))
		}
		var j api.Job
		if err := json.Unmarshal(e.Data, &j); err != nil {
			return fmt.Errorf("event stream: bad load simulation event: %w", err)
		}
		if _, ok := state[j.ID]; !ok {
			continue
		}
		if err := show(e.Data, j); err != nil {
			return err
		}
	}
}
