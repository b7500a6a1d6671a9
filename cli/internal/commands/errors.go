package commands

import (
	"context"
	"errors"
	"fmt"
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

// Error is an error with its exit code and, optionally, what to do about it
// (the same type as the command packages' cmdutil.ExitError).
type Error = cmdutil.ExitError

func usageErr(format string, args ...any) error { return cmdutil.UsageError(format, args...) }

// classify turns any error a command returns into an *Error with the exit
// code scripts expect for it. Errors that did not come from a command's
// RunE (cobra's own: unknown command, unknown flag) are usage errors.
func classify(err error, fromRun bool, server string) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var api *client.APIError
	if errors.As(err, &api) {
		return cmdutil.FromAPI(api)
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

// formatError is the message printed on stderr.
func formatError(e *Error) string {
	var b strings.Builder
	b.WriteString("Error: ")
	b.WriteString(e.Error())
	if api, ok := errors.AsType[*client.APIError](e.Err); ok {
		for _, p := range api.Problems() {
			fmt.Fprintf(&b, "\n  %s", cmdutil.ProblemLine("", p))
		}
	}
	b.WriteString("\n")
	if e.Hint != "" {
		b.WriteString("Hint: " + e.Hint + "\n")
	}
	return b.String()
}

var validationErr = cmdutil.ValidationError
