package server

import (
	"errors"
	"net/http"

	"github.com/phoenix-otel/phoenix/opamp-server/domainerr"
	"github.com/phoenix-otel/phoenix/opamp-server/internal/loadsim"
)

// apiError is an error with an HTTP status and, for validation errors, the
// field it is about. It becomes an application/problem+json response
// (writeError, the one error writer).
type apiError struct {
	Status int
	Title  string
	Detail string
	Field  string
	Extra  map[string]any
}

func (e *apiError) Error() string { return e.Detail }

func badRequest(detail string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Title: "Bad request", Detail: detail}
}

func invalid(field, detail string) *apiError {
	return &apiError{Status: http.StatusUnprocessableEntity, Title: "Validation failed", Field: field, Detail: detail}
}

func notFound(detail string) *apiError {
	return &apiError{Status: http.StatusNotFound, Title: "Not found", Detail: detail}
}

// httpError maps an error to its HTTP form: domain errors by kind, anything
// else is an internal error (logged by writeError).
func httpError(err error) (*apiError, bool) {
	var ae *apiError
	var inv *domainerr.Invalid
	var nf *domainerr.NotFound
	var cf *domainerr.Conflict
	var lf *loadsim.FieldError
	var lnf *loadsim.NotFoundError
	var lc *loadsim.ConflictError
	switch {
	case errors.As(err, &lf):
		return &apiError{Status: http.StatusUnprocessableEntity, Title: "Invalid load simulation", Field: lf.Field, Detail: lf.Error()}, true
	case errors.As(err, &lnf):
		return notFound(lnf.Error()), true
	case errors.As(err, &lc):
		return &apiError{Status: http.StatusConflict, Title: "Conflict", Detail: lc.Error()}, true
	case errors.As(err, &ae):
		return ae, true
	case errors.As(err, &inv):
		return &apiError{Status: http.StatusUnprocessableEntity, Title: "Validation failed", Field: inv.Field, Detail: inv.Detail, Extra: inv.Extra}, true
	case errors.As(err, &nf):
		return notFound(nf.Detail), true
	case errors.As(err, &cf):
		title := cf.Title
		if title == "" {
			title = "Conflict"
		}
		return &apiError{Status: http.StatusConflict, Title: title, Field: cf.Field, Detail: cf.Detail, Extra: cf.Extra}, true
	}
	return &apiError{Status: http.StatusInternalServerError, Title: "Internal error", Detail: err.Error()}, false
}
