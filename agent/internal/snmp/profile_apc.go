package snmp

// APC PowerNet-MIB (enterprise 318), ups(1.3.6.1.4.1.318.1.1.1): the
// "Adv" scalars every APC network management card serves, whether or not
// its RFC 1628 agent is enabled.
const (
	apcUPS = "1.3.6.1.4.1.318.1.1.1"
	// upsBasicOutputStatus onBattery(3).
	apcOutputOnBattery = 3
)

func apcScalar(oid, field string, fd FieldDef) ScalarDef {
	fd.Field = field
	return ScalarDef{OID: apcUPS + "." + oid, Measurement: MeasUPS, FieldDef: fd}
}

func init() {
	registerProfile(&Profile{
		Name:         "apc",
		SysObjectIDs: []string{"1.3.6.1.4.1.318"},
		Scalars: []ScalarDef{
			apcScalar("4.1.1.0", "on_battery", FieldDef{Conv: ConvEquals, Arg: apcOutputOnBattery}), // upsBasicOutputStatus
			apcScalar("2.2.1.0", "battery_charge_ratio", FieldDef{Scale: percentRatio}),             // upsAdvBatteryCapacity (%)
			apcScalar("2.2.3.0", "battery_runtime_seconds", FieldDef{Scale: 0.01}),                  // upsAdvBatteryRunTimeRemaining (TimeTicks)
			apcScalar("3.2.1.0", "input_voltage_volts", FieldDef{}),                                 // upsAdvInputLineVoltage (V)
			apcScalar("4.2.3.0", "load_ratio", FieldDef{Scale: percentRatio}),                       // upsAdvOutputLoad (%)
		},
	})
}
