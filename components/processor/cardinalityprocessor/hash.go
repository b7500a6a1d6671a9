package cardinalityprocessor

import (
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/phoenix-otel/phoenix/components/internal/processmetrics"
)

// Series identity is a 64-bit hash of metric name + resource attributes +
// data-point attributes. Attribute maps are hashed order-independently by
// processmetrics.HashAttributes (every key/value pair hashed on its own, the
// pair hashes added), so two maps with the same pairs inserted in different
// orders hash the same without sorting or allocating. The steps are combined
// with an ordered mixer, so the bits are uniform enough for HyperLogLog and
// moving an attribute from the resource to the data point changes the series.

const prime2 = 0xC2B2AE3D27D4EB4F

// mix64 is the MurmurHash3 finalizer: a bijection with full avalanche.
func mix64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

func hashString(s string) uint64 { return processmetrics.HashString(s) }

func hashMap(attrs pcommon.Map) uint64 { return processmetrics.HashAttributes(attrs) }

func hashValue(v pcommon.Value) uint64 { return processmetrics.HashValue(v) }

// resourcePrefix combines the metric name and resource attribute hashes; it is
// computed once per metric and reused for every data point.
func resourcePrefix(nameHash, resourceHash uint64) uint64 {
	return processmetrics.Combine(nameHash, resourceHash)
}

// seriesHash finishes a series identity from the prefix and the data-point
// attribute hash.
func seriesHash(prefix, pointAttrsHash uint64) uint64 {
	return processmetrics.Combine(prefix, pointAttrsHash)
}
