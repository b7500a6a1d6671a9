// Package cmdutil is what a command package (cli/internal/cmd/<noun>) gets
// from the invocation, in the manner of gh's cmdutil.Factory: the streams,
// the API client, the -o printer, and errors that carry an exit code.
package cmdutil

import (
	"fmt"
	"io"

	"github.com/phoenix-otel/phoenix/cli/internal/client"
	"github.com/phoenix-otel/phoenix/cli/internal/output"
)

// Factory gives commands their dependencies, resolved lazily (flags are
// parsed by then).
type Factory struct {
	In       io.Reader
	Out, Err io.Writer
	Client   func() (*client.Client, error)
	Printer  func() (*output.Printer, error)
	// OutputFlag is the raw -o value (for formats only one command has,
	// such as compare's html).
	OutputFlag func() string
}

// Exit codes (the same as package commands).
const (
	ExitFailure    = 1
	ExitUsage      = 2
	ExitNotFound   = 3
	ExitValidation = 4
)

// ExitError is an error with its exit code and what to do about it.
type ExitError struct {
	Code int
	Err  error
	Hint string
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// UsageError is a bad command line (exit code 2).
func UsageError(format string, args ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, args...)}
}

// PrinterClient returns the printer and the client, in that order (a bad
// -o is reported before a bad server setting).
func (f *Factory) PrinterClient() (*output.Printer, *client.Client, error) {
	p, err := f.Printer()
	if err != nil {
		return nil, nil, err
	}
	c, err := f.Client()
	if err != nil {
		return nil, nil, err
	}
	return p, c, nil
}
