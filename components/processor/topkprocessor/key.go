package topkprocessor

import (
	"hash/maphash"
	"math"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// Series keys only live in this process's memory, so they use the runtime's
// AES-based string hash (maphash), several times cheaper than xxhash on the
// short names and values of process metrics.
var seed = maphash.MakeSeed()

func hashStr(s string) uint64 { return maphash.String(seed, s) }

// seriesKey identifies one data-point series of one metric: the metric name
// hash combined with an order-independent hash of the point's attributes.
func seriesKey(nameHash uint64, attrs pcommon.Map) uint64 {
	var sum uint64
	if attrs.Len() > 0 {
		for k, v := range attrs.All() {
			sum += mix(hashStr(k)*0xC2B2AE3D27D4EB4F + valueHash(v))
		}
	}
	return mix(nameHash*0x9E3779B185EBCA87 + sum)
}

func valueHash(v pcommon.Value) uint64 {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return hashStr(v.Str())
	case pcommon.ValueTypeInt:
		return mix(uint64(v.Int()) ^ 0xBF58476D1CE4E5B9)
	case pcommon.ValueTypeDouble:
		return mix(math.Float64bits(v.Double()) ^ 0xD6E8FEB86659FD93)
	case pcommon.ValueTypeBool:
		if v.Bool() {
			return 0xFF51AFD7ED558CCD
		}
		return 0x2545F4914F6CDD1D
	}
	// Bytes, slices and maps are rare on data points: hash their string form.
	return hashStr(v.AsString()) ^ 0x27BB2EE687B0B0FD
}

func mix(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}
