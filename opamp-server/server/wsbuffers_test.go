package server

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

// A WebSocket upgrade's hijack gets the small buffers; other requests are
// left alone.
func TestSmallWSBuffers(t *testing.T) {
	got := make(chan int, 2)
	h := smallWSBuffers(func(w http.ResponseWriter, r *http.Request) {
		hj, ok := w.(http.Hijacker)
		if !ok {
			got <- -1
			return
		}
		c, brw, err := hj.Hijack()
		if err != nil {
			got <- -2
			return
		}
		got <- brw.Reader.Size()
		_, _ = brw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		_ = brw.Flush()
		c.Close()
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, upgrade := range []string{"websocket", ""} {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		req := "GET / HTTP/1.1\r\nHost: x\r\n"
		if upgrade != "" {
			req += "Upgrade: websocket\r\nConnection: Upgrade\r\n"
		}
		if _, err := c.Write([]byte(req + "\r\n")); err != nil {
			t.Fatal(err)
		}
		if _, err := http.ReadResponse(bufio.NewReader(c), nil); err != nil {
			t.Fatal(err)
		}
		c.Close()
		size := <-got
		if upgrade != "" && size != wsBufferSize {
			t.Fatalf("upgrade: hijacked reader of %d bytes, want %d", size, wsBufferSize)
		}
		if upgrade == "" && size == wsBufferSize {
			t.Fatal("a plain request got the WebSocket buffers")
		}
	}
}
