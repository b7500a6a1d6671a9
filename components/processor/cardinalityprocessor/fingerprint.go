package cardinalityprocessor

import (
	"hash/maphash"
	"math"
	"math/bits"
	"unsafe"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/phoenix-otel/phoenix/components/internal/processmetrics"
)

// A resource fingerprint is an order-dependent 64-bit hash of everything
// that defines the resource's series and process identity: its attributes,
// its metric names and types, its data points' attributes and start times.
// It is only a cache key ("this exact resource was measured in this
// window"), never a counted identity, so it can be cheap: the runtime's
// AES-based string hash and one multiply per step, no per-series hashing.
// The same resource with its attributes in another order gets another
// fingerprint and simply takes the full path, which is order-independent.
type fingerprinter struct {
	seed maphash.Seed
	k    uint64 // per-processor key of the short-string hash
}

func newFingerprinter() fingerprinter {
	seed := maphash.MakeSeed()
	return fingerprinter{seed: seed, k: maphash.String(seed, "phoenix") | 1}
}

func step(h, x uint64) uint64 { return bits.RotateLeft64(h^x, 29) * prime2 }

// str hashes s. Attribute keys, metric names and most values are short:
// up to 16 bytes they are read as two (overlapping) words and folded with one
// 128-bit multiply, inline, as wyhash does; the runtime's string hash, a call
// per string, is for longer ones (command lines).
func (f fingerprinter) str(s string) uint64 {
	n := len(s)
	var a, b uint64
	p := unsafe.Pointer(unsafe.StringData(s))
	switch {
	case n > 16:
		return maphash.String(f.seed, s)
	case n >= 8:
		a = *(*uint64)(p)
		b = *(*uint64)(unsafe.Add(p, n-8))
	case n >= 4:
		a = uint64(*(*uint32)(p))
		b = uint64(*(*uint32)(unsafe.Add(p, n-4)))
	case n > 0:
		a = uint64(*(*byte)(p))<<16 | uint64(*(*byte)(unsafe.Add(p, n>>1)))<<8 | uint64(*(*byte)(unsafe.Add(p, n-1)))
	}
	hi, lo := bits.Mul64(a^f.k, b^prime2^uint64(n))
	return hi ^ lo
}

func (f fingerprinter) value(h uint64, v pcommon.Value) uint64 {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return step(step(h, 1), f.str(v.Str()))
	case pcommon.ValueTypeInt:
		return step(step(h, 2), uint64(v.Int()))
	case pcommon.ValueTypeDouble:
		return step(step(h, 3), math.Float64bits(v.Double()))
	case pcommon.ValueTypeBool:
		if v.Bool() {
			return step(h, 4)
		}
		return step(h, 5)
	default:
		return step(step(h, 6), processmetrics.HashValue(v))
	}
}

func (f fingerprinter) attrs(h uint64, m pcommon.Map) uint64 {
	h = step(h, uint64(m.Len()))
	for k, v := range m.All() {
		h = f.value(step(h, f.str(k)), v)
	}
	return h
}

// resource returns the fingerprint of rm and its number of data points.
func (f fingerprinter) resource(rm pmetric.ResourceMetrics) (uint64, int) {
	h := f.attrs(0x9E3779B97F4A7C15, rm.Resource().Attributes())
	points := 0
	sms := rm.ScopeMetrics()
	for j := 0; j < sms.Len(); j++ {
		ms := sms.At(j).Metrics()
		h = step(h, uint64(ms.Len()))
		for k := 0; k < ms.Len(); k++ {
			m := ms.At(k)
			h = step(h+uint64(m.Type()), f.str(m.Name()))
			switch m.Type() {
			case pmetric.MetricTypeGauge:
				dps := m.Gauge().DataPoints()
				points += dps.Len()
				for l := 0; l < dps.Len(); l++ {
					dp := dps.At(l)
					h = f.attrs(step(h, uint64(dp.StartTimestamp())), dp.Attributes())
				}
			case pmetric.MetricTypeSum:
				dps := m.Sum().DataPoints()
				points += dps.Len()
				for l := 0; l < dps.Len(); l++ {
					dp := dps.At(l)
					h = f.attrs(step(h, uint64(dp.StartTimestamp())), dp.Attributes())
				}
			case pmetric.MetricTypeHistogram:
				dps := m.Histogram().DataPoints()
				points += dps.Len()
				for l := 0; l < dps.Len(); l++ {
					dp := dps.At(l)
					h = f.attrs(step(h, uint64(dp.StartTimestamp())), dp.Attributes())
				}
			case pmetric.MetricTypeExponentialHistogram:
				dps := m.ExponentialHistogram().DataPoints()
				points += dps.Len()
				for l := 0; l < dps.Len(); l++ {
					dp := dps.At(l)
					h = f.attrs(step(h, uint64(dp.StartTimestamp())), dp.Attributes())
				}
			case pmetric.MetricTypeSummary:
				dps := m.Summary().DataPoints()
				points += dps.Len()
				for l := 0; l < dps.Len(); l++ {
					dp := dps.At(l)
					h = f.attrs(step(h, uint64(dp.StartTimestamp())), dp.Attributes())
				}
			}
		}
	}
	return mix64(h), points
}
