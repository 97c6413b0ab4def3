package snmp

// ENTITY-SENSOR-MIB (RFC 3433) with ENTITY-MIB's entPhysicalName for the
// sensor tag. Served by Cisco, Juniper, Arista, Huawei and many others;
// chosen only with `profile: entity-sensor` for now (vendor profiles may
// include its table).
const (
	entPhySensorEntry = "1.3.6.1.2.1.99.1.1.1"     // INDEX entPhysicalIndex
	entPhysicalName   = "1.3.6.1.2.1.47.1.1.1.1.7" // same index
	// entPhySensorOperStatus ok(1).
	entSensorOK = 1
)

// entitySensorTable is the entPhySensorTable definition: the value
// (column 4) in the unit of entPhySensorType (column 1) voltsAC(3),
// voltsDC(4), watts(6), celsius(8), rpm(10), scaled by
// entPhySensorScale (2) and entPhySensorPrecision (3), counted only while
// entPhySensorOperStatus (5) is ok(1).
var entitySensorTable = TableDef{
	Name: "entPhySensorTable", Measurement: MeasEnv, Index: []IndexPart{IndexInt},
	TagColumns: []TagColumnDef{{Column: entPhysicalName, Tag: "sensor"}},
	UnitColumns: []UnitColumnDef{{
		Value: entPhySensorEntry + ".4", Unit: entPhySensorEntry + ".1",
		Units: map[int64]FieldDef{
			3:  {Field: "voltage_volts"},
			4:  {Field: "voltage_volts"},
			6:  {Field: "power_watts"},
			8:  {Field: "temperature_celsius"},
			10: {Field: "fan_rpm"},
		},
		Status: entPhySensorEntry + ".5", StatusOK: entSensorOK,
		Exp10: entPhySensorEntry + ".2", Precision: entPhySensorEntry + ".3",
	}},
}

func init() {
	registerProfile(&Profile{Name: "entity-sensor", Tables: []TableDef{entitySensorTable}})
}
