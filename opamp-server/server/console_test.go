package server_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/phoenix-otel/phoenix/opamp-server/server"
)

// The stream takes the API token from a WebSocket subprotocol (what a
// browser can send), selects only the stream protocol in its answer, and
// refuses a wrong token and a token in the URL.
func TestStreamSubprotocolToken(t *testing.T) {
	ts := startServer(t, newConfig(t))
	url := "ws" + strings.TrimPrefix(ts.APIURL(), "http") + "/api/v1/stream"
	dial := func(u string, protocols ...string) (*websocket.Conn, *http.Response, error) {
		d := websocket.Dialer{HandshakeTimeout: 10 * time.Second, Subprotocols: protocols}
		return d.Dial(u, nil)
	}
	tokenProto := func(tok string) string { return "phoenix.bearer." + base64.RawURLEncoding.EncodeToString([]byte(tok)) }

	c, resp, err := dial(url, server.StreamProtocol, tokenProto(ts.APIToken()))
	if err != nil {
		t.Fatalf("dial with the token protocol: %v (%v)", err, resp)
	}
	defer c.Close()
	if got := resp.Header.Get("Sec-WebSocket-Protocol"); got != server.StreamProtocol {
		t.Fatalf("selected subprotocol %q, want %q (the token protocol must never be echoed)", got, server.StreamProtocol)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, msg, err := c.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	var hello struct{ Type string }
	if json.Unmarshal(msg, &hello); hello.Type != "hello" {
		t.Fatalf("first message %s", msg)
	}

	for name, try := range map[string]func() (*websocket.Conn, *http.Response, error){
		"wrong token": func() (*websocket.Conn, *http.Response, error) {
			return dial(url, server.StreamProtocol, tokenProto("nope"))
		},
		"not base64": func() (*websocket.Conn, *http.Response, error) {
			return dial(url, server.StreamProtocol, "phoenix.bearer.!!")
		},
		"no token": func() (*websocket.Conn, *http.Response, error) { return dial(url, server.StreamProtocol) },
		"token in the query": func() (*websocket.Conn, *http.Response, error) {
			return dial(url+"?access_token="+ts.APIToken(), server.StreamProtocol)
		},
	} {
		c, resp, err := try()
		if err == nil {
			c.Close()
			t.Errorf("%s: the stream opened", name)
			continue
		}
		if resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: %v, want 401", name, resp)
		}
	}
}

// GET / serves the console (or its placeholder) with the CSP, without a token.
func TestConsoleServedAtRoot(t *testing.T) {
	ts := startServer(t, newConfig(t))
	resp, err := http.Get(ts.APIURL() + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(b), "Phoenix") {
		t.Fatalf("GET / = %d\n%s", resp.StatusCode, b)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Fatalf("CSP %q", csp)
	}
	// The API is still the API: unknown API paths are problem+json 401/404, not the console.
	r2, err := http.Get(ts.APIURL() + "/api/v1/nothing")
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET /api/v1/nothing without a token: %d", r2.StatusCode)
	}
}
