package snmp

// MikroTik RouterOS, MIKROTIK-MIB (enterprise 14988). OIDs and units are
// from the MIB's definitions (see testdata/profiles/README.md):
//
//	mtxrWireless = 1.3.6.1.4.1.14988.1.1.1
//	mtxrHealth   = 1.3.6.1.4.1.14988.1.1.3 (Voltage, Temperature and
//	               Power text conventions are DISPLAY-HINT "d-1": tenths)
//	mtxrOptical  = 1.3.6.1.4.1.14988.1.1.19 (power IDiv1000: thousandths of a dBm)
const (
	mtxr          = "1.3.6.1.4.1.14988.1.1"
	mtxrWlStat    = mtxr + ".1.1.1"   // mtxrWlStatEntry (station mode), INDEX mtxrWlStatIndex (ifIndex)
	mtxrWlRtab    = mtxr + ".1.2.1"   // mtxrWlRtabEntry, INDEX mtxrWlRtabAddr (MAC), mtxrWlRtabIface
	mtxrWlAp      = mtxr + ".1.3.1"   // mtxrWlApEntry (AP mode), INDEX mtxrWlApIndex (ifIndex)
	mtxrHealth    = mtxr + ".3"       // mtxrHl* scalars
	mtxrGauge     = mtxr + ".3.100.1" // mtxrGaugeTableEntry, INDEX mtxrGaugeIndex
	mtxrOptical   = mtxr + ".19.1.1"  // mtxrOpticalEntry, INDEX mtxrOpticalIndex
	mtxrHlGroup   = "mtxrHl"
	deci          = 0.1
	milli         = 0.001
	mega          = 1e6
	percentRatio  = 0.01
	mikrotikSysID = "1.3.6.1.4.1.14988.1" // mtXRouterOs: every RouterOS device's sysObjectID
)

// mikrotikHealthUnits maps mtxrGaugeUnit to the field: celsius(1),
// rpm(2), dV(3), dW(5). dA(4) and status(6) have no field in the schema.
var mikrotikHealthUnits = map[int64]FieldDef{
	1: {Field: "temperature_celsius"},
	2: {Field: "fan_rpm"},
	3: {Field: "voltage_volts", Scale: deci},
	5: {Field: "power_watts", Scale: deci},
}

func mtxrHl(col, sensor, field string, scale float64) ScalarDef {
	return ScalarDef{OID: mtxrHealth + "." + col + ".0", Measurement: MeasEnv, Tags: map[string]string{"sensor": sensor},
		FieldDef: FieldDef{Field: field, Scale: scale}, Group: mtxrHlGroup}
}

func init() {
	registerProfile(&Profile{
		Name:         "mikrotik",
		SysObjectIDs: []string{mikrotikSysID},
		Scalars: []ScalarDef{
			// The old health scalars (RouterOS 6); RouterOS 7 has the
			// gauge table instead, which supersedes them when it has rows.
			mtxrHl("1", "core", "voltage_volts", deci),               // mtxrHlCoreVoltage
			mtxrHl("8", "voltage", "voltage_volts", deci),            // mtxrHlVoltage
			mtxrHl("5", "sensor", "temperature_celsius", deci),       // mtxrHlSensorTemperature
			mtxrHl("6", "cpu", "temperature_celsius", deci),          // mtxrHlCpuTemperature
			mtxrHl("7", "board", "temperature_celsius", deci),        // mtxrHlBoardTemperature
			mtxrHl("10", "temperature", "temperature_celsius", deci), // mtxrHlTemperature
			mtxrHl("11", "processor", "temperature_celsius", deci),   // mtxrHlProcessorTemperature
			mtxrHl("12", "power", "power_watts", deci),               // mtxrHlPower
			mtxrHl("17", "fan1", "fan_rpm", 1),                       // mtxrHlFanSpeed1
			mtxrHl("18", "fan2", "fan_rpm", 1),                       // mtxrHlFanSpeed2
		},
		Tables: []TableDef{
			{
				Name: "mtxrGaugeTable", Measurement: MeasEnv, Index: []IndexPart{IndexInt},
				TagColumns:  []TagColumnDef{{Column: mtxrGauge + ".2", Tag: "sensor"}}, // mtxrGaugeName
				UnitColumns: []UnitColumnDef{{Value: mtxrGauge + ".3", Unit: mtxrGauge + ".4", Units: mikrotikHealthUnits}},
				Supersedes:  mtxrHlGroup,
			},
			{
				Name: "mtxrWlApTable", Measurement: MeasRadio, Index: []IndexPart{IndexIfIndex},
				Columns: []ColumnDef{
					{mtxrWlAp + ".2", FieldDef{Field: "tx_rate_bits_per_second"}},         // mtxrWlApTxRate
					{mtxrWlAp + ".3", FieldDef{Field: "rx_rate_bits_per_second"}},         // mtxrWlApRxRate
					{mtxrWlAp + ".6", FieldDef{Field: "clients"}},                         // mtxrWlApClientCount
					{mtxrWlAp + ".7", FieldDef{Field: "frequency_hertz", Scale: mega}},    // mtxrWlApFreq (MHz)
					{mtxrWlAp + ".9", FieldDef{Field: "noise_dbm", ZeroAbsent: true}},     // mtxrWlApNoiseFloor
					{mtxrWlAp + ".10", FieldDef{Field: "ccq_ratio", Scale: percentRatio}}, // mtxrWlApOverallTxCCQ (%)
				},
			},
			{
				Name: "mtxrWlStatTable", Measurement: MeasRadio, Index: []IndexPart{IndexIfIndex},
				Columns: []ColumnDef{
					{mtxrWlStat + ".2", FieldDef{Field: "tx_rate_bits_per_second"}},        // mtxrWlStatTxRate
					{mtxrWlStat + ".3", FieldDef{Field: "rx_rate_bits_per_second"}},        // mtxrWlStatRxRate
					{mtxrWlStat + ".4", FieldDef{Field: "signal_dbm", ZeroAbsent: true}},   // mtxrWlStatStrength
					{mtxrWlStat + ".7", FieldDef{Field: "frequency_hertz", Scale: mega}},   // mtxrWlStatFreq (MHz)
					{mtxrWlStat + ".9", FieldDef{Field: "ccq_ratio", Scale: percentRatio}}, // mtxrWlStatTxCCQ (%)
				},
			},
			{
				Name: "mtxrWlRtabTable", Measurement: MeasRadio, Index: []IndexPart{IndexMAC, IndexIfIndex},
				Columns: []ColumnDef{
					{mtxrWlRtab + ".3", FieldDef{Field: "signal_dbm", ZeroAbsent: true}}, // mtxrWlRtabStrength
					{mtxrWlRtab + ".8", FieldDef{Field: "tx_rate_bits_per_second"}},      // mtxrWlRtabTxRate
					{mtxrWlRtab + ".9", FieldDef{Field: "rx_rate_bits_per_second"}},      // mtxrWlRtabRxRate
					{mtxrWlRtab + ".12", FieldDef{Field: "snr_db", ZeroAbsent: true}},    // mtxrWlRtabSignalToNoise (0: not measured)
				},
			},
			{
				Name: "mtxrOpticalTable", Measurement: MeasEnv, Index: []IndexPart{IndexInt},
				TagColumns: []TagColumnDef{{Column: mtxrOptical + ".2", Tag: "sensor"}}, // mtxrOpticalName
				Columns: []ColumnDef{
					{mtxrOptical + ".9", FieldDef{Field: "optical_tx_dbm", Scale: milli}},  // mtxrOpticalTxPower
					{mtxrOptical + ".10", FieldDef{Field: "optical_rx_dbm", Scale: milli}}, // mtxrOpticalRxPower
				},
			},
		},
	})
}
