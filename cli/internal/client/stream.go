package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/phoenix-otel/phoenix/internal/buildinfo"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

// StreamFilter selects events (the server filters).
type StreamFilter struct {
	Types      []string // e.g. "deployment.status", "loadsim.*"
	Deployment string
	Host       string
}

// Stream is an open event stream.
type Stream struct {
	conn *websocket.Conn
	done chan struct{}
}

// OpenStream connects to /api/v1/stream.
func (c *Client) OpenStream(ctx context.Context, f StreamFilter) (*Stream, error) {
	u, err := url.Parse(c.Base + "/api/v1/stream")
	if err != nil {
		return nil, err
	}
	switch u.Scheme {
	case "https":
		u.Scheme = "wss"
	default:
		u.Scheme = "ws"
	}
	q := url.Values{}
	if len(f.Types) > 0 {
		q.Set("types", strings.Join(f.Types, ","))
	}
	if f.Deployment != "" {
		q.Set("deployment", f.Deployment)
	}
	if f.Host != "" {
		q.Set("host", f.Host)
	}
	u.RawQuery = q.Encode()
	d := websocket.Dialer{HandshakeTimeout: 15 * time.Second, TLSClientConfig: c.TLS, Proxy: http.ProxyFromEnvironment}
	h := http.Header{}
	h.Set("User-Agent", "phoenix-cli/"+buildinfo.Version)
	if c.Token != "" {
		h.Set("Authorization", "Bearer "+c.Token)
	}
	conn, resp, err := d.DialContext(ctx, u.String(), h)
	if err != nil {
		if resp != nil {
			defer resp.Body.Close()
			var raw [4096]byte
			n, _ := resp.Body.Read(raw[:])
			return nil, decodeProblem(resp, raw[:n], http.MethodGet, "/api/v1/stream")
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &ConnError{Base: c.Base, Err: fmt.Errorf("event stream: %w", err)}
	}
	s := &Stream{conn: conn, done: make(chan struct{})}
	// Ctrl-C (the context) closes the socket, which ends Next.
	go func() {
		select {
		case <-ctx.Done():
			_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
			conn.Close()
		case <-s.done:
		}
	}()
	return s, nil
}

// Next returns the next event.
func (s *Stream) Next() (api.Event, error) {
	var e api.Event
	_, b, err := s.conn.ReadMessage()
	if err != nil {
		return e, fmt.Errorf("event stream closed: %w", err)
	}
	if err := json.Unmarshal(b, &e); err != nil {
		return e, fmt.Errorf("event stream: bad event: %w", err)
	}
	return e, nil
}

// Close ends the stream.
func (s *Stream) Close() {
	select {
	case <-s.done:
	default:
		close(s.done)
	}
	_ = s.conn.Close()
}
