package cmdutil

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/client"
)

// NotFoundError is something that does not exist (exit code 3).
func NotFoundError(err error, hint string) error {
	return &ExitError{Code: ExitNotFound, Err: err, Hint: hint}
}

// ValidationError is input that was checked and refused (exit code 4).
func ValidationError(err error, hint string) error {
	return &ExitError{Code: ExitValidation, Err: err, Hint: hint}
}

// FromAPI maps the server's problem+json status to an exit code and a hint.
func FromAPI(api *client.APIError) *ExitError {
	e := &ExitError{Code: ExitFailure, Err: api}
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

// Hint adds a hint to a server's answer (not found, refused) unless it
// already has one; other errors pass unchanged.
func Hint(err error, format string, args ...any) error {
	api, ok := errors.AsType[*client.APIError](err)
	if !ok {
		return err
	}
	e := FromAPI(api)
	if e.Hint == "" {
		e.Hint = fmt.Sprintf(format, args...)
	}
	return e
}

// ProblemLine is one problem as file:line:column: path: reason.
func ProblemLine(file string, p client.Problem) string {
	loc := fmt.Sprintf("%d:%d", p.Line, p.Column)
	if file != "" {
		loc = file + ":" + loc
	}
	if p.Path != "" {
		return fmt.Sprintf("%s: %s: %s", loc, p.Path, p.Message)
	}
	return fmt.Sprintf("%s: %s", loc, p.Message)
}

// RunError marks an error of a command's own code, as opposed to cobra's
// parsing, so that it is not taken for a usage error (exit 1 unless it
// carries another code).
type RunError struct{ Err error }

func (e *RunError) Error() string { return e.Err.Error() }
func (e *RunError) Unwrap() error { return e.Err }

// Run wraps a command body so that its errors are RunErrors.
func Run(f func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := f(cmd, args); err != nil {
			return &RunError{Err: err}
		}
		return nil
	}
}
