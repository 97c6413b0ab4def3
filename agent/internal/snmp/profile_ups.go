package snmp

// UPS-MIB (RFC 1628), upsMIB = 1.3.6.1.2.1.33. The snmp_ups point has
// only the device tag, so the per-line tables are read at line 1.
const (
	upsObjects = "1.3.6.1.2.1.33.1"
	// upsOutputSource battery(5).
	upsOutputSourceBattery = 5
)

func upsScalar(oid, field string, fd FieldDef) ScalarDef {
	fd.Field = field
	return ScalarDef{OID: upsObjects + "." + oid, Measurement: MeasUPS, FieldDef: fd}
}

func init() {
	registerProfile(&Profile{
		Name: "ups",
		// UPS-MIB has no sysObjectID of its own: the enterprises of
		// network cards known to implement it. Others: profile: ups.
		// APC has its own profile (apc), as its cards may have RFC 1628
		// turned off.
		SysObjectIDs: []string{
			"1.3.6.1.4.1.534", // Eaton (Powerware)
			"1.3.6.1.4.1.705", // Eaton (MGE)
			"1.3.6.1.2.1.33",  // agents that give upsMIB itself as sysObjectID
		},
		Scalars: []ScalarDef{
			upsScalar("4.1.0", "on_battery", FieldDef{Conv: ConvEquals, Arg: upsOutputSourceBattery}), // upsOutputSource
			upsScalar("2.4.0", "battery_charge_ratio", FieldDef{Scale: percentRatio}),                 // upsEstimatedChargeRemaining (%)
			upsScalar("2.3.0", "battery_runtime_seconds", FieldDef{Scale: 60}),                        // upsEstimatedMinutesRemaining
			upsScalar("3.3.1.3.1", "input_voltage_volts", FieldDef{}),                                 // upsInputVoltage.1 (RMS V)
			upsScalar("4.4.1.5.1", "load_ratio", FieldDef{Scale: percentRatio}),                       // upsOutputPercentLoad.1 (%)
		},
	})
}
