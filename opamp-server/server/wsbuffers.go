package server

import (
	"bufio"
	"net"
	"net/http"
	"strings"
)

// wsBufferSize is the read and write buffer of each agent's WebSocket.
// gorilla/websocket (under opamp-go) reuses the bufio buffers a hijack
// returns, and net/http hands over 4 KiB ones: 8 KiB per agent held for the
// connection's life. opamp-go does not expose the upgrader's buffer
// settings, so the handler gives the hijack smaller buffers instead. Large
// messages (a 5 KB config) go through them in several reads and frames.
const wsBufferSize = 512

// smallWSBuffers wraps the OpAMP handler so WebSocket upgrades get
// wsBufferSize buffers; plain-HTTP polling is untouched.
func smallWSBuffers(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if hj, ok := w.(http.Hijacker); ok && strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			w = &smallHijack{ResponseWriter: w, hj: hj}
		}
		h(w, r)
	}
}

type smallHijack struct {
	http.ResponseWriter
	hj http.Hijacker
}

func (s *smallHijack) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := s.hj.Hijack()
	if err != nil || brw.Reader.Buffered() > 0 {
		return c, brw, err // data already read must not be lost (gorilla refuses it anyway)
	}
	// net/http's hijack writer is new and empty; its reader holds nothing.
	return c, bufio.NewReadWriter(bufio.NewReaderSize(c, wsBufferSize), bufio.NewWriterSize(c, wsBufferSize)), nil
}
