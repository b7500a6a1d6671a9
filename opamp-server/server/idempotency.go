package server

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/api"
	"github.com/phoenix-otel/phoenix/opamp-server/deployment"
	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// Idempotency-Key (the IETF httpapi draft's header) on POST/PUT/PATCH of
// deployments: a client that lost the answer sends the same request with
// the same key and gets the first answer again (with Idempotent-Replayed:
// true) instead of a second write; the same key with another body is 422.
// The keys live in this replica's memory for idempotencyTTL; across
// replicas and restarts the spec-equality rule still makes a repeated
// deploy a no-op that says so.
const (
	HeaderIdempotencyKey = "Idempotency-Key"
	idempotencyTTL       = 24 * time.Hour
	maxIdempotencyKeys   = 10000
	maxIdempotencyKeyLen = 255
)

type idemEntry struct {
	fingerprint [32]byte
	status      int
	header      http.Header
	body        []byte
	at          time.Time
	done        chan struct{} // closed when the first request finished
}

type idempotencyCache struct {
	mu      sync.Mutex
	entries map[string]*idemEntry
}

func newIdempotencyCache() *idempotencyCache {
	return &idempotencyCache{entries: map[string]*idemEntry{}}
}

// recorder keeps what a handler wrote, and writes it through.
type recorder struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (r *recorder) WriteHeader(c int) { r.status = c; r.ResponseWriter.WriteHeader(c) }
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.buf.Write(b)
	return r.ResponseWriter.Write(b)
}

// idempotent wraps a write handler with Idempotency-Key replay.
func (s *Server) idempotent(h func(w http.ResponseWriter, r *http.Request) error) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		key := r.Header.Get(HeaderIdempotencyKey)
		if key == "" {
			return h(w, r)
		}
		if len(key) > maxIdempotencyKeyLen {
			return invalid("Idempotency-Key", "the Idempotency-Key header is over 255 characters")
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxJSONBody+1))
		if err != nil {
			return badRequest("reading the request body: " + err.Error())
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		fp := sha256.Sum256(append([]byte(r.Method+" "+r.URL.Path+"\n"), body...))
		c := s.idem
		c.mu.Lock()
		c.expire(time.Now())
		e, seen := c.entries[key]
		if !seen {
			e = &idemEntry{fingerprint: fp, at: time.Now(), done: make(chan struct{})}
			if len(c.entries) < maxIdempotencyKeys {
				c.entries[key] = e
			}
		}
		c.mu.Unlock()
		if seen {
			if e.fingerprint != fp {
				return &apiError{Status: http.StatusUnprocessableEntity, Title: "Idempotency-Key reused", Field: "Idempotency-Key",
					Detail: "this Idempotency-Key was used for a different request; use a new key for a new request"}
			}
			select {
			case <-e.done:
			case <-r.Context().Done():
				return r.Context().Err()
			}
			if e.status == 0 {
				return h(w, r) // the first attempt failed on the server: run it again
			}
			for k, v := range e.header {
				w.Header()[k] = v
			}
			w.Header().Set("Idempotent-Replayed", "true")
			w.WriteHeader(e.status)
			_, _ = w.Write(e.body)
			return nil
		}
		rec := &recorder{ResponseWriter: w}
		err = h(rec, r)
		if err != nil {
			s.writeError(rec, r, err)
		}
		c.mu.Lock()
		if rec.status >= 500 || rec.status == 0 {
			delete(c.entries, key) // a server error is not an answer: the retry runs again
		} else {
			e.status, e.header, e.body = rec.status, w.Header().Clone(), rec.buf.Bytes()
		}
		c.mu.Unlock()
		close(e.done)
		return nil
	}
}

func (c *idempotencyCache) expire(now time.Time) {
	for k, e := range c.entries {
		if now.Sub(e.at) > idempotencyTTL {
			select {
			case <-e.done:
				delete(c.entries, k)
			default:
			}
		}
	}
}

// writeView is the answer to a deployment write: the deployment, whether
// the write changed anything, and a warning naming target hosts that no
// agent has reported.
func (s *Server) writeView(r *http.Request, d store.Deployment, st *api.DeploymentStatus, o deployment.Outcome, t store.Target) (api.Deployment, error) {
	view := viewDeployment(d, st)
	if o.Unchanged {
		view.Unchanged = true
		view.Detail = fmt.Sprintf("unchanged: version %d already has this spec; nothing was written", o.Version.Version)
	}
	unknown, err := s.deployments.UnknownHosts(writeSummary(r.Context()), t) // agentwriter.go: bounded staleness
	if err != nil {
		return view, err
	}
	if len(unknown) > 0 {
		view.Warnings = append(view.Warnings, fmt.Sprintf("no agent has reported host(s) %s yet: the deployment waits for them (check the names with GET /api/v1/hosts)", strings.Join(unknown, ", ")))
	}
	return view, nil
}
