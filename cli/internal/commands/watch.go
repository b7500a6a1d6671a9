package commands

import (
	"github.com/phoenix-otel/phoenix/cli/internal/client"
	"github.com/phoenix-otel/phoenix/cli/internal/output"
)

// printerClient returns the printer and the client.
func (app *App) printerClient() (*output.Printer, *client.Client, error) {
	return app.factory().PrinterClient()
}
