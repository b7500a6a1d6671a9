// Package rollout is the staged rollout of a deployment's new version: a
// first batch of hosts (3 by default), then batches growing ×5 up to a cap
// (10% of the targeted hosts, at least 100), each applied and healthy for a
// soak time (30s) before the next starts; a host that fails or degrades on
// the new version pauses it on its own, and the hosts not yet reached keep
// the previous version all along.
//
// It is a link of a host's desired state, right after the deployment
// (deployment -> rollout -> experiment -> load simulation): for a version
// that is rolling out, a host not admitted to a batch gets the render of the
// version it ran before. The state (one record per deployment) is in the
// store, so it survives a restart; on replicas one holds a lease and drives
// it, waking on the store's change notifications and on soak deadlines.
//
// Plan and the record's methods are the state machine; Manager is the
// driver, the layer and the operator's actions (pause, resume, abort).
package rollout
