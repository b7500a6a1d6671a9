// Package console serves the web console (console/, TypeScript built by
// Vite) from assets embedded in phoenix-server, so the server stays one file.
//
// The build writes into dist/app; until it has run, the embedded folder
// holds only a README and Handler serves a page that says how to build the
// console, so a fresh clone compiles with plain `go build ./...`.
package console

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed all:dist
var dist embed.FS

// ContentSecurityPolicy allows only the console's own scripts, styles and
// connections (the REST API and the stream on the same origin): no inline
// script, no other origin, no framing. What an agent reports (a host name,
// an error) can therefore never run as script even if it reached the DOM
// unescaped.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
	"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"

// Built reports whether the console's build output is embedded.
func Built() bool {
	_, err := fs.Stat(dist, "dist/app/index.html")
	return err == nil
}

// Handler serves the console at /: index.html for "/" and the hashed assets
// under /assets/. Routes live in the URL fragment, so no other path exists.
func Handler() http.Handler {
	app, _ := fs.Sub(dist, "dist/app")
	built := Built()
	files := http.FileServerFS(app)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		p := path.Clean("/" + r.URL.Path)
		switch {
		case p == "/" || p == "/index.html":
			h.Set("Cache-Control", "no-cache")
			if !built {
				h.Set("Content-Type", "text/html; charset=utf-8")
				_, _ = w.Write([]byte(notBuilt))
				return
			}
			b, err := fs.ReadFile(app, "index.html")
			if err != nil {
				http.Error(w, "console index missing", http.StatusInternalServerError)
				return
			}
			h.Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write(b)
		case built && strings.HasPrefix(p, "/assets/"):
			// File names carry a content hash: cache them for good.
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
			files.ServeHTTP(w, r)
		default:
			http.NotFound(w, r)
		}
	})
}

const notBuilt = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Phoenix console not built</title></head>
<body><h1>The Phoenix console is not built into this binary</h1>
<p>Build it with <code>make build</code> (it runs <code>npm ci</code> and <code>npm run build</code> in <code>console/</code>
before the Go build), then restart phoenix-server. The REST API is at <code>/api/v1</code>.</p></body></html>
`
