// Command phoenix-agent is the OpAMP agent that supervises phoenix-otelcol.
// See agent/README.md.
package main

import (
	"context"
	"os"

	"github.com/phoenix-otel/phoenix/agent/agentcmd"
	"github.com/phoenix-otel/phoenix/loadgen"
)

func main() {
	// Load-simulation children re-execute this binary; they must turn into
	// load processes before anything else runs.
	loadgen.RunChildIfRequested()
	os.Exit(agentcmd.Execute(context.Background(), os.Args[1:]))
}
