package cmdutil

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/output"
)

// WatchFlags are --watch and --timeout.
type WatchFlags struct {
	Watch   bool
	Timeout time.Duration
}

// Add adds the flags; what is what --watch follows.
func (w *WatchFlags) Add(cmd *cobra.Command, what string) {
	cmd.Flags().BoolVarP(&w.Watch, "watch", "w", false, what+" (streams events; Ctrl-C stops watching)")
	cmd.Flags().DurationVar(&w.Timeout, "timeout", 0, "with --watch, give up after this long (exit 1); 0 waits until done or Ctrl-C")
}

// Context is ctx with the --timeout deadline, if any.
func (w WatchFlags) Context(ctx context.Context) (context.Context, context.CancelFunc) {
	if w.Timeout > 0 {
		return context.WithTimeout(ctx, w.Timeout)
	}
	return context.WithCancel(ctx)
}

// WatchTimeout turns the watch's deadline into a clear error.
func WatchTimeout(ctx context.Context, w WatchFlags, what string, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("timed out after %s waiting for %s", w.Timeout, what)
	}
	return err
}

// CtxErr is the context's error when it ended, else err.
func CtxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// Emit prints one watched state: a JSON/YAML document per change, or a
// line per change in a table.
func Emit(out io.Writer, p *output.Printer, raw json.RawMessage, line func() string) error {
	switch p.Format {
	case output.JSON:
		return output.WriteJSON(out, raw)
	case output.YAML:
		fmt.Fprintln(out, "---")
		return output.WriteYAML(out, raw)
	}
	fmt.Fprintln(out, line())
	return nil
}

// Stamp is the time of a watched change.
func Stamp() string { return time.Now().Format("15:04:05") }
