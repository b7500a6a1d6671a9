package agent

import (
	"context"
	"encoding/hex"

	"github.com/open-telemetry/opamp-go/protobufs"
)

// RetryCapability is the OpAMP custom capability through which the server
// asks the agent to try again a config it reported FAILED (POST
// /api/v1/hosts/{host}/retry, after the operator fixed the cause). Without
// that message the agent ignores a re-push of a hash that failed here, so a
// server that re-pushes by mistake cannot fight the agent's rollback.
const RetryCapability = "io.phoenix.retry"

// RetryType is the custom message type of RetryCapability; its data is the
// hex hash of the config to forget as failed. The server sends it in the
// same ServerToAgent message as the config.
const RetryType = "retry"

// forgetFailed drops a hash from the failed list (loop goroutine), so the
// config that comes with the retry message is applied again.
func (a *Agent) forgetFailed(_ context.Context, cm *protobufs.CustomMessage) {
	hash := string(cm.GetData())
	if _, err := hex.DecodeString(hash); err != nil || len(hash) != 64 {
		a.log.Warn("ignoring a retry message with a malformed hash")
		return
	}
	if _, ok := a.failed[hash]; !ok {
		return
	}
	delete(a.failed, hash)
	if err := a.dd.writeJSON(a.failed, "state", "failed_hashes.json"); err != nil {
		a.log.Error("persist failed hashes", "err", err)
	}
	a.log.Info("the server asked to retry a config that failed here", "hash", hash)
}
