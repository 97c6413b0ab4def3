package point

import (
	"slices"
	"testing"
	"time"
)

func TestConformDropsWhatTheCollectorRefuses(t *testing.T) {
	at := time.Unix(1700000000, 0)
	p := New("snmp_radio", at).Tag("device", "r1").
		Float("signal_dbm", -61).
		Float("ccq_ratio", 2.55). // a raw 255 % read as a percentage
		Float("tx_rate_bits_per_second", 1.3e8)
	if got := p.Conform(); !slices.Equal(got, []string{"ccq_ratio"}) {
		t.Fatalf("dropped %v, want [ccq_ratio]", got)
	}
	if _, ok := p.FieldValue("ccq_ratio"); ok {
		t.Error("ccq_ratio kept")
	}
	if v, _ := p.FieldValue("signal_dbm"); v != -61 || len(p.Fields) != 2 {
		t.Errorf("fields after Conform: %+v", p.Fields)
	}

	ups := New("snmp_ups", at).Tag("device", "u1").
		Float("on_battery", 1). // must be an integer
		Float("battery_charge_ratio", -0.1).
		Float("load_ratio", 1.2) // an overloaded UPS: not bounded
	if got := ups.Conform(); !slices.Equal(got, []string{"on_battery", "battery_charge_ratio"}) {
		t.Fatalf("dropped %v", got)
	}
	if v, ok := ups.FieldValue("load_ratio"); !ok || v != 1.2 {
		t.Error("load_ratio 1.2 dropped")
	}

	ok := New("snmp_ups", at).Int("on_battery", 0).Float("battery_charge_ratio", 1).Float("battery_charge_ratio_x", 7)
	if got := ok.Conform(); got != nil || len(ok.Fields) != 3 {
		t.Errorf("a valid point lost %v", got)
	}
	free := New("snmp_power", at).Float("x_ratio", 9)
	if got := free.Conform(); got != nil {
		t.Errorf("a measurement outside v1 lost %v", got)
	}
}
