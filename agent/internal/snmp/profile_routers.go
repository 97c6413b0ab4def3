package snmp

// Routers and switches: CPU and memory go to the snmp_device point's
// cpu_load_ratio and memory_used_ratio (MeasDevice, see deviceLoad),
// temperatures to snmp_env. Sources in testdata/profiles/README.md.
const (
	// CISCO-PROCESS-MIB cpmCPUTotalEntry, INDEX cpmCPUTotalIndex.
	cpmCPUTotal = "1.3.6.1.4.1.9.9.109.1.1.1.1"
	// CISCO-MEMORY-POOL-MIB ciscoMemoryPoolEntry, INDEX ciscoMemoryPoolType.
	ciscoMemoryPool = "1.3.6.1.4.1.9.9.48.1.1.1"
	// JUNIPER-MIB jnxOperatingEntry, INDEX jnxOperatingContentsIndex,
	// jnxOperatingL1Index, jnxOperatingL2Index, jnxOperatingL3Index.
	jnxOperating = "1.3.6.1.4.1.2636.3.1.13.1"
	// HUAWEI-ENTITY-EXTENT-MIB hwEntityStateEntry, INDEX entPhysicalIndex.
	hwEntityState = "1.3.6.1.4.1.2011.5.25.31.1.1.1.1"
)

var jnxIndex = []IndexPart{IndexInt, IndexInt, IndexInt, IndexInt}

func init() {
	registerProfile(&Profile{
		Name:         "cisco",
		SysObjectIDs: []string{"1.3.6.1.4.1.9"}, // ciscoSystems: ciscoProducts (9.1) and the rest
		Tables: []TableDef{
			{
				Name: "cpmCPUTotalTable", Measurement: MeasDevice, Index: []IndexPart{IndexInt},
				Columns: []ColumnDef{
					{cpmCPUTotal + ".8", FieldDef{Field: "cpu_load_ratio", Scale: percentRatio}}, // cpmCPUTotal5minRev (%)
				},
			},
			{
				Name: "ciscoMemoryPoolTable", Measurement: MeasDevice, Index: []IndexPart{IndexInt},
				Columns: []ColumnDef{
					{ciscoMemoryPool + ".5", FieldDef{Field: "memory_used_bytes"}}, // ciscoMemoryPoolUsed (bytes)
					{ciscoMemoryPool + ".6", FieldDef{Field: "memory_free_bytes"}}, // ciscoMemoryPoolFree (bytes)
				},
			},
			entitySensorTable,
		},
	})
	registerProfile(&Profile{
		Name:         "juniper",
		SysObjectIDs: []string{"1.3.6.1.4.1.2636.1"}, // jnxProducts
		Tables: []TableDef{
			{
				// Every component has a row; those without a CPU or
				// buffer (fans, power supplies) answer 0, so 0 is absent.
				Name: "jnxOperatingTable", Measurement: MeasDevice, Index: jnxIndex,
				Columns: []ColumnDef{
					{jnxOperating + ".8", FieldDef{Field: "cpu_load_ratio", Scale: percentRatio, ZeroAbsent: true}},     // jnxOperatingCPU (%)
					{jnxOperating + ".11", FieldDef{Field: "memory_used_ratio", Scale: percentRatio, ZeroAbsent: true}}, // jnxOperatingBuffer (%)
				},
			},
			{
				Name: "jnxOperatingTable", Measurement: MeasEnv, Index: jnxIndex,
				TagColumns: []TagColumnDef{{Column: jnxOperating + ".5", Tag: "sensor"}}, // jnxOperatingDescr
				Columns: []ColumnDef{
					{jnxOperating + ".7", FieldDef{Field: "temperature_celsius", ZeroAbsent: true}}, // jnxOperatingTemp (°C)
				},
			},
		},
	})
	registerProfile(&Profile{
		Name:         "huawei",
		SysObjectIDs: []string{"1.3.6.1.4.1.2011.2"}, // huawei products
		Tables: []TableDef{
			{
				// Entities without a CPU (ports, fans) answer 0.
				Name: "hwEntityStateTable", Measurement: MeasDevice, Index: []IndexPart{IndexInt},
				Columns: []ColumnDef{
					{hwEntityState + ".5", FieldDef{Field: "cpu_load_ratio", Scale: percentRatio, ZeroAbsent: true}},    // hwEntityCpuUsage (%)
					{hwEntityState + ".7", FieldDef{Field: "memory_used_ratio", Scale: percentRatio, ZeroAbsent: true}}, // hwEntityMemUsage (%)
				},
			},
			{
				Name: "hwEntityStateTable", Measurement: MeasEnv, Index: []IndexPart{IndexInt},
				TagColumns: []TagColumnDef{{Column: entPhysicalName, Tag: "sensor"}},
				Columns: []ColumnDef{
					{hwEntityState + ".11", FieldDef{Field: "temperature_celsius", ZeroAbsent: true}}, // hwEntityTemperature (°C)
				},
			},
		},
	})
}
