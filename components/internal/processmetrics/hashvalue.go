package processmetrics

import "go.opentelemetry.io/collector/pdata/pcommon"

// HashValue is the 64-bit hash of one attribute value, the same one
// HashAttributes uses per pair (typed: Str "1", Int 1 and Double 1 differ;
// slices in order, maps order-independently). The cardinality processor
// counts distinct values per attribute key with it.
func HashValue(v pcommon.Value) uint64 { return hashValue(v) }
