package processmetrics

import (
	"math"

	"github.com/cespare/xxhash/v2"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

// HashString is the 64-bit string hash used throughout the package (xxh64).
func HashString(s string) uint64 { return xxhash.Sum64String(s) }

// HashAttributes is an order-independent 64-bit hash of an attribute map:
// the sum of mixed per-pair hashes, so maps with the same pairs in any order
// hash the same. It does not allocate.
func HashAttributes(m pcommon.Map) uint64 {
	var sum uint64
	for k, v := range m.All() {
		sum += mix(xxhash.Sum64String(k)*0xC2B2AE3D27D4EB4F + hashValue(v))
	}
	return sum
}

// Combine mixes b into a (order matters), for building composite keys.
func Combine(a, b uint64) uint64 { return mix(a*0x9E3779B185EBCA87 + b) }

func hashValue(v pcommon.Value) uint64 {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return mix(xxhash.Sum64String(v.Str()) ^ 0x94D049BB133111EB)
	case pcommon.ValueTypeInt:
		return mix(uint64(v.Int()) ^ 0xBF58476D1CE4E5B9)
	case pcommon.ValueTypeDouble:
		return mix(math.Float64bits(v.Double()) ^ 0xD6E8FEB86659FD93)
	case pcommon.ValueTypeBool:
		if v.Bool() {
			return mix(1 ^ 0xFF51AFD7ED558CCD)
		}
		return mix(0xFF51AFD7ED558CCD)
	case pcommon.ValueTypeBytes:
		return mix(xxhash.Sum64(v.Bytes().AsRaw()) ^ 0xC4CEB9FE1A85EC53)
	case pcommon.ValueTypeSlice:
		s := v.Slice()
		h := uint64(0x27BB2EE687B0B0FD) + uint64(s.Len())
		for i := 0; i < s.Len(); i++ {
			h = mix(h*0x9E3779B185EBCA87 + hashValue(s.At(i)))
		}
		return h
	case pcommon.ValueTypeMap:
		return mix(HashAttributes(v.Map()) ^ 0x85EBCA77C2B2AE63)
	}
	return 0x2545F4914F6CDD1D
}
