package processmetrics

import (
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

func TestHashValueIsTypedAndOrderIndependentForMaps(t *testing.T) {
	str, integer, dbl := pcommon.NewValueStr("1"), pcommon.NewValueInt(1), pcommon.NewValueDouble(1)
	if HashValue(str) == HashValue(integer) || HashValue(integer) == HashValue(dbl) || HashValue(str) == HashValue(dbl) {
		t.Fatal(`Str "1", Int 1 and Double 1 must hash differently`)
	}
	if HashValue(pcommon.NewValueStr("x")) != HashValue(pcommon.NewValueStr("x")) {
		t.Fatal("equal values must hash the same")
	}
	a, b := pcommon.NewValueMap(), pcommon.NewValueMap()
	a.Map().PutStr("k", "v")
	a.Map().PutInt("n", 2)
	b.Map().PutInt("n", 2)
	b.Map().PutStr("k", "v")
	if HashValue(a) != HashValue(b) {
		t.Fatal("maps with the same pairs in another order must hash the same")
	}
	s1, s2 := pcommon.NewValueSlice(), pcommon.NewValueSlice()
	s1.Slice().AppendEmpty().SetStr("a")
	s1.Slice().AppendEmpty().SetStr("b")
	s2.Slice().AppendEmpty().SetStr("b")
	s2.Slice().AppendEmpty().SetStr("a")
	if HashValue(s1) == HashValue(s2) {
		t.Fatal("slices are ordered")
	}
}
