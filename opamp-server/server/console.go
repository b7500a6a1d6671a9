package server

import (
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/phoenix-otel/phoenix/opamp-server/console"
)

// The stream's WebSocket subprotocols. A browser cannot set an
// Authorization header on a WebSocket, and a token in the URL would land in
// logs and history, so the console offers two subprotocols:
// StreamProtocol, which the server selects, and
// "phoenix.bearer.<base64url(token)>", which carries the API token (the same
// scheme as Kubernetes' "base64url.bearer.authorization.k8s.io."). The
// server never echoes the token protocol back.
const (
	StreamProtocol      = "phoenix.stream.v1"
	tokenProtocolPrefix = "phoenix.bearer."
)

// subprotocolToken returns the API token carried in the WebSocket
// handshake's Sec-WebSocket-Protocol header, or "".
func subprotocolToken(r *http.Request) string {
	for _, h := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, p := range strings.Split(h, ",") {
			p = strings.TrimSpace(p)
			if enc, ok := strings.CutPrefix(p, tokenProtocolPrefix); ok {
				b, err := base64.RawURLEncoding.DecodeString(enc)
				if err != nil {
					return ""
				}
				return string(b)
			}
		}
	}
	return ""
}

// mountConsole serves the web console at / (the page and its assets are
// public; every API call the console makes carries the token).
func mountConsole(mux *http.ServeMux) {
	mux.Handle("/", console.Handler())
}
