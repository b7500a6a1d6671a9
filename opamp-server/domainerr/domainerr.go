// Package domainerr holds the errors of phoenix-server's domain packages
// (deployment, experiment): what is wrong, in the domain's words. The REST
// layer maps each kind to one HTTP status and a problem+json document; the
// domain never speaks HTTP.
package domainerr

import (
	"errors"
	"fmt"
)

// Invalid is a request field with a bad value (HTTP 422). Field names it as
// the API spells it ("template", "params.k", "candidates[1].template").
type Invalid struct {
	Field  string
	Detail string
	// Extra are details a client can act on (e.g. the accepted values).
	Extra map[string]any
}

func (e *Invalid) Error() string { return e.Detail }

// NotFound is a missing object (HTTP 404).
type NotFound struct{ Detail string }

func (e *NotFound) Error() string { return e.Detail }

// Conflict is a request that the current state refuses (HTTP 409): an
// overlap, a name taken, a stale version, an operation not allowed in the
// object's current state.
type Conflict struct {
	Title  string // short, e.g. "Target overlaps another deployment"
	Field  string
	Detail string
	Extra  map[string]any
}

func (e *Conflict) Error() string { return e.Detail }

// Invalidf makes an *Invalid.
func Invalidf(field, format string, args ...any) *Invalid {
	return &Invalid{Field: field, Detail: fmt.Sprintf(format, args...)}
}

// NotFoundf makes a *NotFound.
func NotFoundf(format string, args ...any) *NotFound {
	return &NotFound{Detail: fmt.Sprintf(format, args...)}
}

// IsDomain reports whether err is (or wraps) one of the kinds above.
func IsDomain(err error) bool {
	var i *Invalid
	var n *NotFound
	var c *Conflict
	return errors.As(err, &i) || errors.As(err, &n) || errors.As(err, &c)
}
