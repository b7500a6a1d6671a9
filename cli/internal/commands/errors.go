package commands

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/phoenix-otel/phoenix/cli/internal/client"
	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
)

// Exit codes that scripts can rely on.
const (
	ExitOK         = 0
	ExitError      = 1 // anything else: the server failed, a conflict, the network
	ExitUsage      = 2 // bad command line: unknown command or flag, wrong arguments
	ExitNotFound   = 3 // the deployment, template, agent or job does not exist
	ExitValidation = 4 // the input was checked and refused: bad YAML, bad parameter
)

// Error is an error with its exit code and, optionally, what to do about it.
type Error struct {
	Code int
	Err  error
	Hint string
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

func usageErr(format string, args ...any) error {
	return &Error{Code: ExitUsage, Err: fmt.Errorf(format, args...)}
}

func validationErr(err error, hint string) error {
	return &Error{Code: ExitValidation, Err: err, Hint: hint}
}

func notFoundErr(err error, hint string) error {
	return &Error{Code: ExitNotFound, Err: err, Hint: hint}
}

// classify turns any error a command returns into an *Error with the exit
// code scripts expect for it. Errors that did not come from a command's
// RunE (cobra's own: unknown command, unknown flag) are usage errors.
func classify(err error, fromRun bool, server string) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if ce, ok := errors.AsType[*cmdutil.ExitError](err); ok {
		return &Error{Code: ce.Code, Err: ce.Err, Hint: ce.Hint}
	}
	var api *client.APIError
	if errors.As(err, &api) {
		return fromAPI(api)
	}
	var conn *client.ConnError
	if errors.As(err, &conn) {
		return &Error{Code: ExitError, Err: err,
			Hint: fmt.Sprintf("is phoenix-server running at %s? Start it with `make run`, or point the CLI elsewhere with --server, $PHOENIX_SERVER or `phoenix config set-server`", server)}
	}
	if errors.Is(err, context.Canceled) {
		return &Error{Code: ExitError, Err: errors.New("interrupted")}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &Error{Code: ExitError, Err: fmt.Errorf("timed out: %w", err)}
	}
	if !fromRun {
		return &Error{Code: ExitUsage, Err: err}
	}
	return &Error{Code: ExitError, Err: err}
}

// fromAPI maps the server's problem+json status to an exit code and a hint.
func fromAPI(api *client.APIError) *Error {
	e := &Error{Code: ExitError, Err: api}
	switch api.Status {
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		e.Code = ExitValidation
	case http.StatusNotFound:
		e.Code = ExitNotFound
	case http.StatusUnauthorized:
		e.Hint = "the server refused the API token: give the one phoenix-server printed on first start with --token, $PHOENIX_TOKEN or `phoenix config set-token`"
	case http.StatusForbidden:
		e.Hint = "the API token is not allowed to do this"
	case http.StatusConflict:
		e.Hint = "the request conflicts with the server's current state (see the message); change it and retry"
	}
	if api.Status >= 500 {
		e.Hint = "the server failed: see phoenix-server's log"
	}
	return e
}

// hintf adds a hint to a server's answer (not found, refused) unless it
// already has one; other errors pass unchanged.
func hintf(err error, format string, args ...any) error {
	api, ok := errors.AsType[*client.APIError](err)
	if !ok {
		return err
	}
	e := fromAPI(api)
	if e.Hint == "" {
		e.Hint = fmt.Sprintf(format, args...)
	}
	return e
}

// formatError is the message printed on stderr.
func formatError(e *Error) string {
	var b strings.Builder
	b.WriteString("Error: ")
	b.WriteString(e.Error())
	if api, ok := errors.AsType[*client.APIError](e.Err); ok {
		for _, p := range api.Problems() {
			fmt.Fprintf(&b, "\n  %s", problemLine("", p))
		}
	}
	b.WriteString("\n")
	if e.Hint != "" {
		b.WriteString("Hint: " + e.Hint + "\n")
	}
	return b.String()
}

func problemLine(file string, p client.Problem) string {
	loc := fmt.Sprintf("%d:%d", p.Line, p.Column)
	if file != "" {
		loc = file + ":" + loc
	}
	if p.Path != "" {
		return fmt.Sprintf("%s: %s: %s", loc, p.Path, p.Message)
	}
	return fmt.Sprintf("%s: %s", loc, p.Message)
}
