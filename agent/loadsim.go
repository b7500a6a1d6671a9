package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/open-telemetry/opamp-go/client/types"
	"github.com/open-telemetry/opamp-go/protobufs"

	"github.com/phoenix-otel/phoenix/loadgen"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

// The load simulation protocol (the OpAMP custom capability
// LoadSimCapability and its messages) is declared once, in package api,
// for the agent and the server.
const (
	LoadSimCapability = api.LoadSimCapability
	LoadSimStart      = api.LoadSimStart
	LoadSimStop       = api.LoadSimStop
	LoadSimStatus     = api.LoadSimStatus
)

type (
	// LoadSimRequest is the JSON body of a start message.
	LoadSimRequest = api.LoadSimRequest
	// LoadSimState is the JSON body of a status message.
	LoadSimState = api.LoadSimState
)

// loadSim runs at most one simulation at a time through the loadgen
// spawner. Its methods run on the agent's loop goroutine, except the sender.
type loadSim struct {
	a *Agent

	mu      sync.Mutex
	spawner *loadgen.Spawner
	state   LoadSimState
	runID   int

	sendMu  sync.Mutex
	pending *LoadSimState
	kick    chan struct{}
	started bool
}

func newLoadSim(a *Agent) *loadSim {
	return &loadSim{a: a, state: LoadSimState{State: "idle"}, kick: make(chan struct{}, 1)}
}

func (l *loadSim) handle(ctx context.Context, m *protobufs.CustomMessage) {
	switch m.Type {
	case LoadSimStart:
		var req LoadSimRequest
		if err := json.Unmarshal(m.Data, &req); err != nil {
			l.fail(nil, fmt.Errorf("start: body is not a valid JSON load simulation request: %w", err))
			break
		}
		if err := l.start(ctx, req); err != nil {
			l.fail(&req, err)
		}
	case LoadSimStop:
		l.stop()
	case LoadSimStatus:
	default:
		l.a.log.Warn("unknown load simulation message", "type", m.Type)
		l.mu.Lock()
		l.state.Error = fmt.Sprintf("unknown message type %q (want %s, %s or %s)", m.Type, LoadSimStart, LoadSimStop, LoadSimStatus)
		l.mu.Unlock()
	}
	l.report(ctx)
}

func (l *loadSim) fail(req *LoadSimRequest, err error) {
	l.a.log.Warn("load simulation refused", "err", err)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state.State == "running" {
		// A bad start must not hide the run that goes on.
		l.state.Error = err.Error()
		return
	}
	l.state = LoadSimState{State: "failed", Request: req, Error: err.Error()}
}

func (l *loadSim) start(ctx context.Context, req LoadSimRequest) error {
	spec := loadgen.Spec{
		Profile: req.Profile,
		Seed:    req.Seed,
		Overrides: loadgen.Overrides{
			ProcessCount: req.ProcessCount,
			ChurnRate:    req.ChurnRate,
		},
	}
	if req.Duration != "" {
		d, err := time.ParseDuration(req.Duration)
		if err != nil {
			return fmt.Errorf("duration %q: %w", req.Duration, err)
		}
		spec.Overrides.Duration = d
	}
	if req.ProcessCount < 0 {
		return fmt.Errorf("process_count: must be >= 0, got %d", req.ProcessCount)
	}
	if req.ChurnRate < 0 {
		return fmt.Errorf("churn_rate: must be >= 0, got %g", req.ChurnRate)
	}
	if req.Profile == loadgen.ProfileCustom {
		if strings.TrimSpace(req.ProfileYAML) == "" {
			return errors.New("profile_yaml: required when profile is \"custom\"")
		}
		path := l.a.dd.path("loadsim", "custom-profile.yaml")
		if err := writeFileAtomic(path, []byte(req.ProfileYAML)); err != nil {
			return err
		}
		spec.ProfileFile = path
	} else if req.ProfileYAML != "" {
		return fmt.Errorf("profile_yaml: only allowed with profile \"custom\", not %q", req.Profile)
	}
	p, err := loadgen.Resolve(spec)
	if err != nil {
		return err
	}
	l.mu.Lock()
	running := l.state.State == "running"
	l.mu.Unlock()
	if running {
		return loadgen.ErrSpawnerRunning
	}
	sp := loadgen.NewSpawner(loadgen.SpawnerConfig{MaxProcesses: l.a.cfg.MaxLoadProcesses})
	// The run lives as long as the agent, not as long as this message.
	if err := sp.Start(context.WithoutCancel(ctx), p); err != nil {
		return err
	}
	l.mu.Lock()
	l.runID++
	id := l.runID
	l.spawner = sp
	l.state = LoadSimState{State: "running", Request: &req, Target: p.ProcessCount(), StartedAt: time.Now().UTC()}
	l.mu.Unlock()
	l.a.log.Info("load simulation started", "profile", p.Name, "processes", p.ProcessCount(), "duration", p.Duration)
	go func() {
		sp.Wait()
		// The run ended on its own (duration) or was stopped: report it.
		l.a.enqueue(ctx, func(ctx context.Context) {
			l.mu.Lock()
			if l.runID == id && l.state.State == "running" {
				l.state.State = "stopped"
				l.state.EndedAt = time.Now().UTC()
			}
			l.mu.Unlock()
			l.report(ctx)
		})
	}()
	return nil
}

// stop kills and reaps every load process. Safe when idle.
func (l *loadSim) stop() {
	l.mu.Lock()
	sp := l.spawner
	l.mu.Unlock()
	if sp == nil {
		return
	}
	sp.Stop()
	l.mu.Lock()
	if l.state.State == "running" {
		l.state.State = "stopped"
		l.state.EndedAt = time.Now().UTC()
	}
	l.mu.Unlock()
	l.a.log.Info("load simulation stopped")
}

// snapshot merges the spawner's live counters into the state.
func (l *loadSim) snapshot() LoadSimState {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.state
	if l.spawner != nil && st.State != "failed" {
		s := l.spawner.Status()
		st.Live, st.Started, st.Exited, st.CPUScale = s.Live, s.Started, s.Exited, s.CPUScale
		if s.LastError != "" && st.Error == "" {
			st.Error = s.LastError
		}
	}
	return st
}

func (l *loadSim) health() *protobufs.ComponentHealth {
	if l == nil {
		return nil
	}
	st := l.snapshot()
	if st.State == "idle" {
		return nil
	}
	h := &protobufs.ComponentHealth{
		Healthy:            st.State != "failed",
		Status:             fmt.Sprintf("%s live=%d", st.State, st.Live),
		LastError:          st.Error,
		StatusTimeUnixNano: uint64(time.Now().UnixNano()),
	}
	if !st.StartedAt.IsZero() {
		h.StartTimeUnixNano = uint64(st.StartedAt.UnixNano())
	}
	return h
}

// report sends the current state to the server (latest wins) and refreshes
// the agent's health.
func (l *loadSim) report(ctx context.Context) {
	st := l.snapshot()
	l.sendMu.Lock()
	l.pending = &st
	if !l.started {
		l.started = true
		go l.sender(ctx)
	}
	l.sendMu.Unlock()
	select {
	case l.kick <- struct{}{}:
	default:
	}
	l.a.refreshHealth()
}

// sender delivers status messages one at a time: opamp-go allows a single
// pending custom message, and only the newest state matters.
func (l *loadSim) sender(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.a.done:
			return
		case <-l.kick:
		}
		for {
			l.sendMu.Lock()
			st := l.pending
			l.pending = nil
			l.sendMu.Unlock()
			if st == nil || l.a.client == nil {
				break
			}
			body, _ := json.Marshal(st)
			msg := &protobufs.CustomMessage{Capability: LoadSimCapability, Type: LoadSimStatus, Data: body}
			for {
				sent, err := l.a.client.SendCustomMessage(msg)
				if errors.Is(err, types.ErrCustomMessagePending) {
					select {
					case <-sent:
						continue
					case <-ctx.Done():
						return
					case <-l.a.done:
						return
					}
				}
				if err != nil {
					l.a.log.Warn("send load simulation status", "err", err)
				}
				break
			}
		}
	}
}
