// Command phoenix is the command-line client of phoenix-server.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/phoenix-otel/phoenix/cli/internal/commands"
)

func main() {
	// Ctrl-C cancels the command's context: --watch stops cleanly and a
	// request in flight is abandoned.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := commands.Main(ctx, os.Args[1:], commands.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}, os.Getenv)
	stop()
	os.Exit(code)
}
