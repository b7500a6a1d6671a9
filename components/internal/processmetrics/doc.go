// Package processmetrics recognises and measures process resources in pdata,
// as the hostmetrics process scraper (and Phoenix's loadgen receiver) emit
// them: one resource per process, identified by resource attributes.
//
// It is shared by the Phoenix processors that reason about processes (topk,
// adaptive filter, cardinality), so that they agree on what a process is, how
// it is identified across scrapes, which ones are critical, and how its CPU
// and memory are measured.
//
// The pieces:
//   - [IsProcessResource], [HostName], [Identify] / [Read]: what a process
//     resource is, its group (host) and its 64-bit identity. PIDs get reused,
//     so the identity is host + pid + start time (the StartTimestamp of its
//     cumulative data points, which the scraper sets to the process create
//     time), or host + pid + command line when no start time is known.
//   - [CriticalMatcher]: regexes on the executable name, the command
//     (argv[0]) or the command line; the catalog's OTTL conditions match the
//     same three attributes.
//   - [ReadSample]: CPU time, CPU utilisation and memory of one resource.
//   - [Tracker]: per-identity state: CPU rate from cumulative or delta CPU
//     time (first observation, counter resets), smoothed scores (EWMA or max
//     over N intervals), pruning of processes gone for N intervals and a hard
//     cap on the number of tracked processes. Steady state does not allocate.
package processmetrics
