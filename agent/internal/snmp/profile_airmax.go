package snmp

// Ubiquiti airOS airMAX, UBNT-AirMAX-MIB (ubntAirMAX =
// 1.3.6.1.4.1.41112.1.4; see testdata/profiles/README.md for the source
// and the units):
//
//	ubntRadioTable  4.1.1 INDEX ubntRadioIndex (a radio number, not an ifIndex)
//	ubntWlStatTable 4.5.1 INDEX ubntWlStatIndex (the same numbering)
//	ubntStaTable    4.7.1 INDEX { ubntWlStatIndex, ubntStaMac } (per peer)
//
// The radio number is not an ifIndex, so the points have no ifname tag:
// an airMAX device has one radio.
const (
	ubntAirMAX    = "1.3.6.1.4.1.41112.1.4"
	ubntRadio     = ubntAirMAX + ".1.1" // ubntRadioEntry
	ubntWlStat    = ubntAirMAX + ".5.1" // ubntWlStatEntry
	ubntSta       = ubntAirMAX + ".7.1" // ubntStaEntry
	airmaxSysID   = ubntAirMAX          // airOS 8 answers ubntAirMAX as sysObjectID
	frogfootSysID = "1.3.6.1.4.1.10002.1"
)

func init() {
	registerProfile(&Profile{
		Name: "airmax",
		// airOS 5/6 answers the Frogfoot Linux sysObjectID; other Linux
		// devices may too: they just have no airMAX tables.
		SysObjectIDs: []string{airmaxSysID, frogfootSysID},
		Tables: []TableDef{
			{
				Name: "ubntRadioTable", Measurement: MeasRadio, Index: []IndexPart{IndexInt},
				Columns: []ColumnDef{
					{ubntRadio + ".4", FieldDef{Field: "frequency_hertz", Scale: mega}}, // ubntRadioFreq (MHz)
				},
			},
			{
				Name: "ubntWlStatTable", Measurement: MeasRadio, Index: []IndexPart{IndexInt},
				Columns: []ColumnDef{
					{ubntWlStat + ".5", FieldDef{Field: "signal_dbm", ZeroAbsent: true}},   // ubntWlStatSignal (dBm)
					{ubntWlStat + ".7", FieldDef{Field: "ccq_ratio", Scale: percentRatio}}, // ubntWlStatCcq (%)
					{ubntWlStat + ".8", FieldDef{Field: "noise_dbm", ZeroAbsent: true}},    // ubntWlStatNoiseFloor (dBm)
					{ubntWlStat + ".9", FieldDef{Field: "tx_rate_bits_per_second"}},        // ubntWlStatTxRate (bit/s)
					{ubntWlStat + ".10", FieldDef{Field: "rx_rate_bits_per_second"}},       // ubntWlStatRxRate (bit/s)
				},
			},
			{
				Name: "ubntStaTable", Measurement: MeasRadio, Index: []IndexPart{IndexInt, IndexMAC},
				Columns: []ColumnDef{
					{ubntSta + ".3", FieldDef{Field: "signal_dbm", ZeroAbsent: true}},   // ubntStaSignal (dBm)
					{ubntSta + ".4", FieldDef{Field: "noise_dbm", ZeroAbsent: true}},    // ubntStaNoiseFloor (dBm)
					{ubntSta + ".6", FieldDef{Field: "ccq_ratio", Scale: percentRatio}}, // ubntStaCcq (%)
					{ubntSta + ".11", FieldDef{Field: "tx_rate_bits_per_second"}},       // ubntStaTxRate
					{ubntSta + ".12", FieldDef{Field: "rx_rate_bits_per_second"}},       // ubntStaRxRate
				},
			},
		},
	})
}
