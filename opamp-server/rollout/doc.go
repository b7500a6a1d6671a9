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
//
// Why these defaults. The first two are Bindplane's (a first batch of 3,
// growing ×5 up to a cap): a bad config shows on 3 hosts, then 15, before
// it can reach many. The cap is a share of the fleet (10 %, at least 100)
// rather than a number of hosts, so the count of batches stays 13–15 from
// 1,000 to 100,000 hosts instead of growing with the fleet, and a
// rollout's time is about (batches − 1) × soak plus each batch's apply.
// Measured (benchmarks/README.md, "Staged rollouts"): 10,000 hosts on
// SQLite in 12 min 47 s, 14 batches, 6.5 min of it soaks, on a shared
// 2-core machine at a load average of about 28; 1,000 hosts in 6 min 47 s.
// That is under the quarter of an hour a user would wait, so the defaults
// stay: a faster rollout needs larger steps (a 20 % cap is 9 batches and
// 4 min of soak, but 2,000 hosts reached per step at 10,000) or a shorter
// soak (less time for a degraded exporter to show); both are per-deployment
// options (first_batch, factor, max_batch, soak).
package rollout
