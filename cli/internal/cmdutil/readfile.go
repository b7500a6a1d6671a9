package cmdutil

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/phoenix-otel/phoenix/pipelines"
)

// ReadFileArg reads a file argument; "-" is in (stdin).
func ReadFileArg(in io.Reader, name string) ([]byte, error) {
	if name == "-" {
		return readBounded(in, "stdin")
	}
	f, err := os.Open(name)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, NotFoundError(fmt.Errorf("file %s does not exist", name), "")
		}
		return nil, err
	}
	defer f.Close()
	return readBounded(f, name)
}

// readBounded reads at most pipelines.MaxConfigBytes: a larger file is
// refused (exit 4) before it is parsed or handed to a collector.
func readBounded(r io.Reader, name string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, pipelines.MaxConfigBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if len(b) > pipelines.MaxConfigBytes {
		return nil, ValidationError(fmt.Errorf("%s is over the limit of %d bytes (%d MiB) for a collector config", name, pipelines.MaxConfigBytes, pipelines.MaxConfigBytes>>20), "")
	}
	return b, nil
}
