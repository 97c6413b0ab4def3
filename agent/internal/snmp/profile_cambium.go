package snmp

// Cambium Networks (enterprise 17713). See testdata/profiles/README.md
// for the sources and what is uncertain.
//
// ePMP, CAMBIUM-PMP80211-MIB: cambiumRFStatus = 1.3.6.1.4.1.17713.21.1.2,
// scalars of the subscriber module's (SM's) link to its AP. The MIB
// gives frequency in MHz, RSSI "in dBm", SNR "in dBm" (a ratio: dB) and
// the uplink/downlink MCS as a number 1–15.
//
// PTP 650, CAMBIUM-PTP650-MIB (1.3.6.1.4.1.17713.7): rawReceivePower in
// tenths of a dBm, receive/transmit data rates in kbit/s.
const (
	cambiumRFStatus = "1.3.6.1.4.1.17713.21.1.2"
	epmpSysID       = "1.3.6.1.4.1.17713.21"
	ptp650          = "1.3.6.1.4.1.17713.7"
	kilo            = 1000
)

func radioScalar(oid, field string, fd FieldDef) ScalarDef {
	fd.Field = field
	return ScalarDef{OID: oid, Measurement: MeasRadio, FieldDef: fd}
}

func init() {
	registerProfile(&Profile{
		Name:         "epmp",
		SysObjectIDs: []string{epmpSysID},
		Scalars: []ScalarDef{
			radioScalar(cambiumRFStatus+".1.0", "frequency_hertz", FieldDef{Scale: mega}), // cambiumSTAConnectedRFFrequency (MHz)
			radioScalar(cambiumRFStatus+".3.0", "signal_dbm", FieldDef{ZeroAbsent: true}), // cambiumSTADLRSSI (dBm)
			radioScalar(cambiumRFStatus+".18.0", "snr_db", FieldDef{ZeroAbsent: true}),    // cambiumSTADLSNR
			radioScalar(cambiumRFStatus+".6.0", "tx_mcs_index", FieldDef{Conv: ConvInt}),  // cambiumSTAUplinkMCSMode
			radioScalar(cambiumRFStatus+".7.0", "rx_mcs_index", FieldDef{Conv: ConvInt}),  // cambiumSTADownlinkMCSMode
		},
	})
	registerProfile(&Profile{
		Name:         "ptp650",
		SysObjectIDs: []string{ptp650},
		Scalars: []ScalarDef{
			radioScalar(ptp650+".12.12.0", "signal_dbm", FieldDef{Scale: deci}),             // rawReceivePower (tenths of a dBm)
			radioScalar(ptp650+".20.1.0", "rx_rate_bits_per_second", FieldDef{Scale: kilo}), // receiveDataRate (kbit/s)
			radioScalar(ptp650+".20.2.0", "tx_rate_bits_per_second", FieldDef{Scale: kilo}), // transmitDataRate (kbit/s)
		},
	})
}
