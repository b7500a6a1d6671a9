package cardinalityprocessor

import (
	"math"

	"github.com/cespare/xxhash/v2"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

// Series identity is a 64-bit hash of metric name + resource attributes +
// data-point attributes. Attribute maps are hashed order-independently: every
// key/value pair is hashed on its own and the pair hashes are added, so two
// maps with the same pairs inserted in different orders hash the same without
// sorting or allocating. Every step is finished with a strong mixer so the bits
// are uniform enough for HyperLogLog.

const (
	prime1 = 0x9E3779B185EBCA87
	prime2 = 0xC2B2AE3D27D4EB4F
	prime3 = 0x165667B19E3779F9

	// Type tags keep Str "1", Int 1 and Double 1 apart.
	tagEmpty  = 0x2545F4914F6CDD1D
	tagStr    = 0x94D049BB133111EB
	tagInt    = 0xBF58476D1CE4E5B9
	tagDouble = 0xD6E8FEB86659FD93
	tagBool   = 0xFF51AFD7ED558CCD
	tagBytes  = 0xC4CEB9FE1A85EC53
	tagSlice  = 0x27BB2EE687B0B0FD
	tagMap    = 0x85EBCA77C2B2AE63
)

// mix64 is the MurmurHash3 finalizer: a bijection with full avalanche.
func mix64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

func hashString(s string) uint64 { return xxhash.Sum64String(s) }

// hashValue hashes one attribute value, recursing into slices (in order) and
// maps (order-independent).
func hashValue(v pcommon.Value) uint64 {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return mix64(xxhash.Sum64String(v.Str()) ^ tagStr)
	case pcommon.ValueTypeInt:
		return mix64(uint64(v.Int()) ^ tagInt)
	case pcommon.ValueTypeDouble:
		return mix64(math.Float64bits(v.Double()) ^ tagDouble)
	case pcommon.ValueTypeBool:
		if v.Bool() {
			return mix64(1 ^ tagBool)
		}
		return mix64(tagBool)
	case pcommon.ValueTypeBytes:
		return mix64(xxhash.Sum64(v.Bytes().AsRaw()) ^ tagBytes)
	case pcommon.ValueTypeSlice:
		s := v.Slice()
		h := uint64(tagSlice) + uint64(s.Len())
		for i := 0; i < s.Len(); i++ {
			h = mix64(h*prime1 + hashValue(s.At(i)))
		}
		return h
	case pcommon.ValueTypeMap:
		return mix64(hashMap(v.Map()) ^ tagMap)
	default:
		return tagEmpty
	}
}

// pairHash hashes one key/value pair; key and value are not interchangeable.
func pairHash(keyHash, valueHash uint64) uint64 {
	return mix64(keyHash*prime2 + valueHash)
}

// hashMap is the order-independent hash of an attribute map: the sum of its
// pair hashes (keys are unique, so the sum is a set hash).
func hashMap(m pcommon.Map) uint64 {
	var sum uint64
	for k, v := range m.All() {
		sum += pairHash(hashString(k), hashValue(v))
	}
	return sum
}

// resourcePrefix combines the metric name and resource attribute hashes; it is
// computed once per metric and reused for every data point.
func resourcePrefix(nameHash, resourceHash uint64) uint64 {
	return mix64(nameHash*prime1+resourceHash) * prime3
}

// seriesHash finishes a series identity from the prefix and the data-point
// attribute hash. Resource and data-point attributes enter at different steps,
// so moving an attribute from one to the other changes the series.
func seriesHash(prefix, pointAttrsHash uint64) uint64 {
	return mix64(prefix + pointAttrsHash)
}
