package snmp

// Ubiquiti airFiber and LTU (see testdata/profiles/README.md for the
// sources and what is uncertain).
//
// UBNT-AirFIBER-MIB (1.3.6.1.4.1.41112.1.3): airFiberConfigTable (3.1.1)
// and airFiberStatusTable (3.2.1), both indexed by a radio number.
//
// UBNT-AFLTU-MIB (afLTU = 1.3.6.1.4.1.41112.1.10.1): afLTUFrequency
// (MHz), afLTUCpuUsage and afLTUMemoryUsage (%), and afLTUStationTable
// (INDEX afLTUStaRemoteMac: per peer) with capacities in kbit/s and the
// receive power of each chain in dBm.
const (
	airFiber       = "1.3.6.1.4.1.41112.1.3"
	airFiberConfig = airFiber + ".1.1"
	airFiberStatus = airFiber + ".2.1"
	afLTU          = "1.3.6.1.4.1.41112.1.10.1"
	afLTUStation   = afLTU + ".4.1"
)

func init() {
	registerProfile(&Profile{
		Name:         "airfiber",
		SysObjectIDs: []string{airFiber},
		Tables: []TableDef{
			{
				Name: "airFiberConfigTable", Measurement: MeasRadio, Index: []IndexPart{IndexInt},
				Columns: []ColumnDef{
					{airFiberConfig + ".5", FieldDef{Field: "frequency_hertz", Scale: mega}}, // txFrequency (MHz)
				},
			},
			{
				Name: "airFiberStatusTable", Measurement: MeasRadio, Index: []IndexPart{IndexInt},
				Columns: []ColumnDef{
					{airFiberStatus + ".5", FieldDef{Field: "rx_rate_bits_per_second"}},       // rxCapacity (bit/s)
					{airFiberStatus + ".6", FieldDef{Field: "tx_rate_bits_per_second"}},       // txCapacity (bit/s)
					{airFiberStatus + ".11", FieldDef{Field: "signal_dbm", ZeroAbsent: true}}, // rxPower0 (dBm, chain 0)
				},
			},
		},
	})
	registerProfile(&Profile{
		Name:         "ltu",
		SysObjectIDs: []string{"1.3.6.1.4.1.41112.1.10"},
		Scalars: []ScalarDef{
			radioScalar(afLTU+".2.2.0", "frequency_hertz", FieldDef{Scale: mega}),                                                 // afLTUFrequency (MHz)
			{OID: afLTU + ".3.5.0", Measurement: MeasDevice, FieldDef: FieldDef{Field: "memory_used_ratio", Scale: percentRatio}}, // afLTUMemoryUsage (%)
			{OID: afLTU + ".3.6.0", Measurement: MeasDevice, FieldDef: FieldDef{Field: "cpu_load_ratio", Scale: percentRatio}},    // afLTUCpuUsage (%)
		},
		Tables: []TableDef{
			{
				Name: "afLTUStationTable", Measurement: MeasRadio, Index: []IndexPart{IndexMAC},
				Columns: []ColumnDef{
					{afLTUStation + ".3", FieldDef{Field: "tx_rate_bits_per_second", Scale: kilo}}, // afLTUStaTxCapacity (Kbps)
					{afLTUStation + ".4", FieldDef{Field: "rx_rate_bits_per_second", Scale: kilo}}, // afLTUStaRxCapacity (Kbps)
					{afLTUStation + ".5", FieldDef{Field: "signal_dbm", ZeroAbsent: true}},         // afLTUStaRxPower0 (dBm, chain 0)
				},
			},
		},
	})
}
