package server

import (
	"testing"

	"github.com/phoenix-otel/phoenix/agent"
)

// The server's retry message is the one phoenix-agent handles.
func TestRetryMessageMatchesTheAgent(t *testing.T) {
	if retryCapability != agent.RetryCapability || retryType != agent.RetryType {
		t.Fatalf("server sends %s/%s, phoenix-agent handles %s/%s", retryCapability, retryType, agent.RetryCapability, agent.RetryType)
	}
}
