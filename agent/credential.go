package agent

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/open-telemetry/opamp-go/protobufs"
)

// The agent's own credential. phoenix-server issues it on the first
// connection (enrolment, with the shared enrollment token) through an OpAMP
// connection-settings offer: opamp.headers Authorization: Bearer <token>.
// The agent keeps it in <data-dir>/credential (0600) and presents it on
// every later connection; the server no longer accepts the enrollment token
// for this instance uid. The credential never appears in a file the
// collector reads, nor in what the agent reports.
const credentialFile = "credential"

// loadCredential returns the persisted credential, "" when there is none.
func (d *dataDir) loadCredential() (string, error) {
	p := d.path(credentialFile)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("%s is empty: delete it, then have an operator run `phoenix agent revoke` and `phoenix agent approve` for this agent so it may enrol again", p)
	}
	return tok, nil
}

func (d *dataDir) saveCredential(tok string) error {
	return writeFileAtomic(d.path(credentialFile), []byte(tok+"\n"))
}

// bearerOf returns the token of an "Authorization: Bearer <token>" header
// among hs, or "".
func bearerOf(hs *protobufs.Headers) string {
	for _, h := range hs.GetHeaders() {
		if strings.EqualFold(h.GetKey(), "Authorization") {
			v := h.GetValue()
			if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
				return strings.TrimSpace(v[7:])
			}
		}
	}
	return ""
}

// onOpampConnectionSettings takes the credential the server offers, keeps
// it (0600) and presents it from the next connection on. opamp-go calls it
// on its receive goroutine; the header function reads it under a.mu.
func (a *Agent) onOpampConnectionSettings(_ context.Context, s *protobufs.OpAMPConnectionSettings) error {
	tok := bearerOf(s.GetHeaders())
	if tok == "" {
		return errors.New("the OpAMP connection settings offer carries no Authorization: Bearer header; phoenix-agent accepts only its credential this way")
	}
	a.mu.Lock()
	same := tok == a.credential
	a.mu.Unlock()
	if same {
		return nil
	}
	if err := a.dd.saveCredential(tok); err != nil {
		return fmt.Errorf("keep the offered credential: %w", err)
	}
	a.mu.Lock()
	a.credential = tok
	a.mu.Unlock()
	a.log.Info("enrolled: the server issued this agent its own credential; it is kept in the data dir and presented from now on", "file", a.dd.path(credentialFile))
	return nil
}

// triesBeforeEnrolling is how many dials in a row with the credential must
// fail before the agent tries the enrollment token once: a server whose
// database was reset knows no credential and enrols this instance uid again;
// a server that knows it refuses the enrollment token for it.
const triesBeforeEnrolling = 3

// authorization is the bearer the agent presents on a dial (opamp-go calls
// it once per dial): its own credential once it has one, else the
// enrollment token.
func (a *Agent) authorization() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.credential == "" {
		return a.cfg.Token
	}
	if a.credTries < triesBeforeEnrolling || a.cfg.Token == "" {
		a.credTries++
		return a.credential
	}
	a.credTries = 0 // once, then the credential again
	a.log.Warn("the server keeps refusing this agent's credential: trying the enrollment token once (a server with a new database enrols the agent again)")
	return a.cfg.Token
}

// connected resets the count of failed dials.
func (a *Agent) connected() {
	a.mu.Lock()
	a.credTries = 0
	a.mu.Unlock()
}
