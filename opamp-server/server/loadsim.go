package server

// Wiring of load simulations (opamp-server/internal/loadsim) into the
// server: its REST API, the desired state (a synthetic job's loadgen
// receiver), the agents' io.phoenix.loadsim custom messages (process jobs)
// and the event stream.

import (
	"context"
	"fmt"

	"github.com/open-telemetry/opamp-go/protobufs"

	"github.com/phoenix-otel/phoenix/opamp-server/api"
	"github.com/phoenix-otel/phoenix/opamp-server/deployment"
	"github.com/phoenix-otel/phoenix/opamp-server/internal/loadsim"
	"github.com/phoenix-otel/phoenix/pipelines"
)

// EventLoadSim is the stream event of a load simulation job change; its
// data is the job.
const EventLoadSim = api.EventLoadSim

func (s *Server) newLoadSim() *loadsim.Manager {
	return loadsim.New(loadsim.Config{
		Store:  loadsim.ServerStore{S: s.store},
		Agents: s.store,
		Sender: s.fleet,
		DesiredChanged: func(ctx context.Context, host string) {
			s.fleet.pushHost(ctx, host)
		},
		Publish: func(j loadsim.Job) {
			s.hub.publish(Event{Type: EventLoadSim, Host: j.TargetHost, AgentUID: j.AgentUID, Data: j})
		},
		Logger:  s.log,
		Changes: s.loadSimChanges,
	})
}

// LoadSim is the server's load simulation manager.
func (s *Server) LoadSim() *loadsim.Manager { return s.loadsim }

// loadSimLayer is the last link of a host's desired state: it adds the
// host's synthetic load simulation, if any (deployment -> experiment ->
// load simulation -> one config).
func (s *Server) loadSimLayer() deployment.Layer {
	return deployment.LayerFunc(func(host string, _ map[string]string, d deployment.Desired) deployment.Desired {
		return s.withLoadSim(host, d)
	})
}

func (s *Server) withLoadSim(host string, d deployment.Desired) deployment.Desired {
	if s.loadsim == nil || d.Err != "" {
		return d
	}
	var base *pipelines.Rendered
	if d.Hash != "" {
		base = &pipelines.Rendered{YAML: d.YAML, SHA256: d.Hash}
	}
	r := s.loadsim.Overlay(host, base)
	if r == nil || r == base {
		return d
	}
	// r.SHA256 is the sha256 of r.YAML (pipelines hashes the bytes it returns).
	d.YAML, d.Hash = r.YAML, r.SHA256
	return d
}

// SendCustomMessage sends a custom message to an agent whose WebSocket this
// replica holds (loadsim.Sender).
func (f *fleet) SendCustomMessage(ctx context.Context, uid string, msg *protobufs.CustomMessage) error {
	f.mu.Lock()
	sess, ok := f.sessions[uid]
	f.mu.Unlock()
	if !ok {
		return fmt.Errorf("agent %s: %w", uid, loadsim.ErrNotConnected)
	}
	sess.mu.Lock()
	conn := sess.conn
	sess.mu.Unlock()
	if conn == nil {
		return fmt.Errorf("agent %s (no WebSocket here): %w", uid, loadsim.ErrNotConnected)
	}
	return conn.Send(ctx, &protobufs.ServerToAgent{InstanceUid: uuidBytes(uid), Capabilities: serverCapabilities, CustomMessage: msg})
}

// pushHost reconciles and pushes the sessions of one host name.
func (f *fleet) pushHost(ctx context.Context, host string) { f.pushWhere(ctx, onHost(host)) }
