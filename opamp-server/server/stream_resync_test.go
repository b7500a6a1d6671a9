package server

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

// A client that reads too slowly loses events, but never silently: every
// event published for it is either delivered or counted in a stream.resync
// (sent once the buffered events are out, whatever types the client asked
// for; events newer than a resync may follow it).
func TestSlowStreamClientGetsResync(t *testing.T) {
	s := authTestServer(t)
	url := "ws" + strings.TrimPrefix(s.APIURL(), "http") + "/api/v1/stream?types=" + EventAgentUpdated
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second,
		Subprotocols: []string{StreamProtocol, "phoenix.bearer." + base64.RawURLEncoding.EncodeToString([]byte(s.APIToken()))}}
	c, _, err := d.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	var hello api.Event
	if err := c.ReadJSON(&hello); err != nil || hello.Type != api.EventHello {
		t.Fatalf("first message %+v (%v), want hello", hello, err)
	}
	var h api.StreamHello
	if err := json.Unmarshal(hello.Data, &h); err != nil || h.ServerID != "auth-test" {
		t.Fatalf("hello data %s (%v), want server_id auth-test", hello.Data, err)
	}
	for s.hub.count() == 0 {
		time.Sleep(time.Millisecond)
	}

	// Nobody reads while these go out: the socket's buffers and the
	// client's 512-event queue fill, and the rest must be dropped.
	const published = 20000
	pad := strings.Repeat("x", 1024)
	for i := range published {
		s.hub.publish(Event{Type: EventAgentUpdated, AgentUID: fmt.Sprint(i), Data: pad})
	}
	s.hub.publish(Event{Type: EventLoadSim, Data: "not wanted by this client"})

	delivered, last := 0, -1
	var dropped int64
	for delivered+int(dropped) < published {
		var e api.Event
		if err := c.ReadJSON(&e); err != nil {
			t.Fatalf("after %d delivered and %d dropped of %d: %v", delivered, dropped, published, err)
		}
		switch e.Type {
		case EventAgentUpdated:
			var n int
			fmt.Sscan(e.AgentUID, &n)
			if n <= last {
				t.Fatalf("event %d after %d: out of order", n, last)
			}
			last = n
			delivered++
		case api.EventResync:
			var r api.StreamResync
			if err := json.Unmarshal(e.Data, &r); err != nil || r.Dropped <= 0 {
				t.Fatalf("resync data %s (%v)", e.Data, err)
			}
			dropped += r.Dropped
		default:
			t.Fatalf("unexpected event %q", e.Type)
		}
	}
	if dropped == 0 {
		t.Fatalf("all %d events were delivered: the test did not overflow the client, so it shows nothing", published)
	}
	if delivered+int(dropped) != published {
		t.Fatalf("%d delivered + %d dropped != %d published", delivered, dropped, published)
	}
	t.Logf("%d delivered, %d dropped and announced in stream.resync", delivered, dropped)
}
