// Package loadgen describes populations of processes over time ("load
// profiles") and plays them back, either as synthetic metrics (the loadgen
// receiver) or as real OS processes (the Spawner).
//
// A Profile is a list of Groups. A Group is a set of processes that share a
// command-line template, a CPU and a memory pattern, a lifetime and a churn
// rate. A Simulation advances a Profile in logical time, deterministically for
// a given seed: the same seed and the same steps give the same processes, PIDs
// and values.
package loadgen
