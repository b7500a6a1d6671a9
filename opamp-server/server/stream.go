package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/phoenix-otel/phoenix/opamp-server/api"
	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// Event is one message of /api/v1/stream.
type Event struct {
	Type       string    `json:"type"`
	Time       time.Time `json:"time"`
	Deployment string    `json:"deployment,omitempty"`
	Host       string    `json:"host,omitempty"`
	AgentUID   string    `json:"agent_uid,omitempty"`
	Data       any       `json:"data,omitempty"`
}

// Event types (declared in package api).
const (
	EventDeploymentCreated = api.EventDeploymentCreated
	EventDeploymentUpdated = api.EventDeploymentUpdated
	EventDeploymentDeleted = api.EventDeploymentDeleted
	EventDeploymentStatus  = api.EventDeploymentStatus
	EventAgentUpdated      = api.EventAgentUpdated
	EventMetricsUpdated    = api.EventMetricsUpdated
)

type streamClient struct {
	ch          chan []byte
	types       []string
	deployment  string
	host        string
	closeSignal chan struct{}
	closeOnce   sync.Once
	// dropped counts the events this client missed because its buffer was
	// full; the writer turns it into one stream.resync once the buffer is
	// drained, so a slow client learns that its picture is stale.
	dropped atomic.Int64
}

func (c *streamClient) wants(e *Event) bool {
	if c.deployment != "" && e.Deployment != c.deployment {
		return false
	}
	if c.host != "" && e.Host != c.host {
		return false
	}
	if len(c.types) == 0 {
		return true
	}
	for _, t := range c.types {
		if t == e.Type || (strings.HasSuffix(t, ".*") && strings.HasPrefix(e.Type, strings.TrimSuffix(t, "*"))) {
			return true
		}
	}
	return false
}

type hub struct {
	m       *metrics
	mu      sync.Mutex
	clients map[*streamClient]struct{}
}

func newHub(m *metrics) *hub { return &hub{m: m, clients: map[*streamClient]struct{}{}} }

func (h *hub) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients)
}

func (h *hub) publish(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.clients) == 0 {
		return
	}
	b, err := json.Marshal(e)
	if err != nil {
		return
	}
	for c := range h.clients {
		if !c.wants(&e) {
			continue
		}
		select {
		case c.ch <- b:
		default:
			c.dropped.Add(1)
			h.m.streamDropped.Inc()
		}
	}
}

func (h *hub) add(c *streamClient) {
	h.mu.Lock()
	h.clients[c] = struct{}{}
	h.mu.Unlock()
	h.m.streamClients.Inc()
}

func (h *hub) remove(c *streamClient) {
	h.mu.Lock()
	if _, ok := h.clients[c]; ok {
		delete(h.clients, c)
		h.m.streamClients.Dec()
	}
	h.mu.Unlock()
}

func (h *hub) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.clients {
		c.closeOnce.Do(func() { close(c.closeSignal) })
	}
}

var upgrader = websocket.Upgrader{
	ReadBufferSize: 1024, WriteBufferSize: 4096,
	// The console offers StreamProtocol, which is selected, and its token
	// protocol (console.go), which is never echoed.
	Subprotocols: []string{StreamProtocol},
	// The stream needs the API token, so cross-origin pages without it get nothing.
	CheckOrigin: func(*http.Request) bool { return true },
}

// stream serves /api/v1/stream: a WebSocket of JSON events. Query filters:
// types (comma-separated, "deployment.*" matches a family), deployment, host.
func (s *Server) stream(w http.ResponseWriter, r *http.Request) error {
	if !websocket.IsWebSocketUpgrade(r) {
		return badRequest("/api/v1/stream is a WebSocket: connect with a WebSocket client (Upgrade: websocket)")
	}
	q := r.URL.Query()
	c := &streamClient{ch: make(chan []byte, 512), deployment: q.Get("deployment"), host: q.Get("host"), closeSignal: make(chan struct{})}
	if t := q.Get("types"); t != "" {
		for _, x := range strings.Split(t, ",") {
			if x = strings.TrimSpace(x); x != "" {
				c.types = append(c.types, x)
			}
		}
	}
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return nil // the upgrader already answered
	}
	s.hub.add(c)
	defer s.hub.remove(c)
	defer conn.Close()
	// Send a hello, then the current status of the watched deployment, so a
	// watcher never waits for a change that already happened.
	hello, _ := json.Marshal(Event{Type: api.EventHello, Time: time.Now().UTC(), Data: api.StreamHello{ServerID: s.cfg.ServerID}})
	if err := conn.WriteMessage(websocket.TextMessage, hello); err != nil {
		return nil
	}
	if c.deployment != "" {
		if d, st, err := s.deployments.StatusByName(r.Context(), c.deployment, true); err == nil {
			b, _ := json.Marshal(statusEvent(d, st))
			if conn.WriteMessage(websocket.TextMessage, b) != nil {
				return nil
			}
		}
	}
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				return
			}
		}
	}()
	ping := time.NewTicker(30 * time.Second)
	defer ping.Stop()
	for {
		select {
		case b := <-c.ch:
			_ = conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if err := conn.WriteMessage(websocket.TextMessage, b); err != nil {
				return nil
			}
			// Only after the buffer is drained: a resync read before older
			// buffered events would let those events undo what it re-read.
			if len(c.ch) == 0 {
				if n := c.dropped.Swap(0); n > 0 {
					rs, _ := json.Marshal(Event{Type: api.EventResync, Time: time.Now().UTC(), Data: api.StreamResync{Dropped: n}})
					if err := conn.WriteMessage(websocket.TextMessage, rs); err != nil {
						return nil
					}
				}
			}
		case <-ping.C:
			if err := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(10*time.Second)); err != nil {
				return nil
			}
		case <-readerDone:
			return nil
		case <-c.closeSignal:
			_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "server stopping"), time.Now().Add(time.Second))
			return nil
		}
	}
}

func statusEvent(d store.Deployment, st api.DeploymentStatus) Event {
	st.Deployment, st.Version = d.Name, d.Version
	return Event{Type: EventDeploymentStatus, Time: time.Now().UTC(), Deployment: d.Name, Data: st}
}

func (s *Server) markDirty(names ...string) {
	s.dirtyMu.Lock()
	for _, n := range names {
		if n != "" {
			s.dirtyDeps[n] = true
		}
	}
	s.dirtyMu.Unlock()
}

func (s *Server) deploymentEvent(ctx context.Context, c store.Change) {
	if c.Deleted {
		s.hub.publish(Event{Type: EventDeploymentDeleted, Deployment: c.Key})
		return
	}
	typ := EventDeploymentUpdated
	if c.Version == 1 {
		typ = EventDeploymentCreated
	}
	if s.hub.count() > 0 {
		if d, err := s.store.GetDeployment(ctx, c.Key); err == nil {
			s.hub.publish(Event{Type: typ, Deployment: c.Key, Data: viewDeployment(d, nil)})
		}
	}
	s.markDirty(c.Key)
}

func (s *Server) agentEvent(ctx context.Context, uid string) {
	if s.hub.count() == 0 {
		return
	}
	a, err := s.store.GetAgent(ctx, uid)
	if err != nil {
		return
	}
	view := s.viewAgent(a)
	hs := view.Status
	s.hub.publish(Event{Type: EventAgentUpdated, Deployment: hs.Deployment, Host: a.HostName, AgentUID: uid, Data: view})
	s.markDirty(hs.Deployment, a.DesiredDeployment)
}

// statusLoop publishes deployment.status for the deployments whose hosts
// changed, at most four times a second, and only when someone listens.
func (s *Server) statusLoop(ctx context.Context) {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.dirtyMu.Lock()
		names := s.dirtyDeps
		s.dirtyDeps = map[string]bool{}
		s.dirtyMu.Unlock()
		if len(names) == 0 || s.hub.count() == 0 {
			continue
		}
		agents, err := s.store.ListAgentRecords(ctx)
		if err != nil {
			continue
		}
		for name := range names {
			d, err := s.store.GetDeployment(ctx, name)
			if err != nil {
				continue
			}
			s.hub.publish(statusEvent(d, s.deployments.Status(d, agents, true)))
		}
	}
}
