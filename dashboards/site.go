package dashboards

import "fmt"

// siteBoard is the detail of sites and their links: state, latency and
// loss, a Smokeping-style latency band per link, traffic against the
// contracted bandwidth, interface errors, and the devices.
func siteBoard() *board {
	b := newBoard("pantau-site", "Pantau · Detail lokasi dan jalur",
		"Detail lokasi dan jalurnya: status, latensi dan loss ICMP, sebaran latensi gaya Smokeping, trafik terhadap bandwidth kontrak, error dan discard antarmuka, serta CPU, memori dan uptime perangkat.",
		"now-6h", "1m", districtVar(), opdVar(), siteVar(), linkVar())

	b.row("Status")
	b.add(24, 4, panel{
		typ: "stat", title: "Status jalur saat ini", desc: "Status setiap jalur terpilih sekarang (pantau_link_state).",
		unit: "none", colorMode: "thresholds", thresholds: stateThresholds(), mappings: stateMappings(),
		options: statOptions("value_and_name"),
		targets: []target{inst(stateCode("pantau_link_state", fLink, "link"), "{{link}}")},
	})
	b.add(24, 7, stateTimeline("Riwayat status jalur",
		"Status setiap jalur sepanjang waktu: naik, terdegradasi, putus, pemeliharaan, tanpa data.",
		stateCode("pantau_link_state", fLink, "link"), "{{link}}"))

	b.row("Latensi dan loss")
	lat := func(title, desc, metric string) panel {
		return panel{
			typ: "timeseries", title: title, desc: desc, unit: "s", decimals: intp(1), min: floatp(0),
			custom: tsCustom(0), options: tsLegendTable("mean", "max", "lastNotNull"),
			targets: []target{ts("max by (link) ("+sel(metric, fLink)+")", "{{link}}")},
		}
	}
	b.add(12, 8, lat("Latensi rata-rata (RTT)", "RTT ICMP rata-rata per putaran pengukuran, per jalur.", "pantau_icmp_rtt_avg_seconds"))
	b.add(12, 8, panel{
		typ: "timeseries", title: "Packet loss", desc: "Bagian paket ICMP yang hilang per putaran pengukuran, per jalur.",
		unit: "percentunit", decimals: intp(1), min: floatp(0), max: floatp(1),
		custom: tsCustom(10), options: tsLegendTable("mean", "max", "lastNotNull"),
		thresholds: steps("green", 0.02, "orange", 0.5, "red"),
		targets:    []target{ts("max by (link) ("+sel("pantau_icmp_loss_ratio", fLink)+")", "{{link}}")},
	})
	b.add(12, 8, lat("Jitter", "Variasi RTT antarpaket (jitter) per jalur.", "pantau_icmp_jitter_seconds"))
	b.add(12, 8, lat("Simpangan baku RTT", "Simpangan baku RTT dalam satu putaran pengukuran, per jalur.", "pantau_icmp_rtt_stddev_seconds"))

	b.row("Latensi gaya Smokeping per jalur")
	rtt := func(agg, metric string) string { return fmt.Sprintf("%s by (link) (%s)", agg, sel(metric, fLink)) }
	avg, sd := rtt("avg", "pantau_icmp_rtt_avg_seconds"), rtt("avg", "pantau_icmp_rtt_stddev_seconds")
	band := func(c string) []any { return []any{"custom.lineWidth", 0, "color", fixedColor(c)} }
	b.add(12, 9, panel{
		typ: "timeseries", title: "Sebaran latensi $link", repeat: "link",
		desc: "Gaya Smokeping: pita abu-abu dari RTT minimum sampai maksimum, pita biru rata-rata ± simpangan baku, garis rata-rata, dan batang merah loss (sumbu kanan).",
		unit: "s", decimals: intp(1), min: floatp(0), custom: tsCustom(0), options: tsOptions(),
		targets: []target{
			ts(rtt("min", "pantau_icmp_rtt_min_seconds"), "min"),
			ts(rtt("max", "pantau_icmp_rtt_max_seconds"), "maks"),
			ts(avg+" + "+sd, "rata-rata + simpangan baku"),
			ts("clamp_min("+avg+" - "+sd+", 0)", "rata-rata − simpangan baku"),
			ts(avg, "rata-rata"),
			ts(rtt("max", "pantau_icmp_loss_ratio"), "loss"),
		},
		overrides: []any{
			override("min", band("#c8c8c8")...),
			override("maks", append(band("#c8c8c8"), "custom.fillBelowTo", "min", "custom.fillOpacity", 40)...),
			override("rata-rata − simpangan baku", band("#8ab8ff")...),
			override("rata-rata + simpangan baku", append(band("#8ab8ff"), "custom.fillBelowTo", "rata-rata − simpangan baku", "custom.fillOpacity", 50)...),
			override("rata-rata", "custom.lineWidth", 2, "color", fixedColor("dark-blue")),
			override("loss", "unit", "percentunit", "min", 0, "max", 1, "custom.axisPlacement", "right",
				"custom.drawStyle", "bars", "custom.fillOpacity", 80, "color", fixedColor("red")),
		},
	})

	b.row("Trafik")
	rate := func(metric string) string { return fmt.Sprintf("max by (link) (%s)", sel(metric, fLink)) }
	b.add(12, 9, panel{
		typ: "timeseries", title: "Trafik $link", repeat: "link",
		desc: "Trafik masuk dan keluar antarmuka SNMP jalur ini, dengan garis putus-putus merah bandwidth kontrak (CIR) dari inventaris.",
		unit: "bps", decimals: intp(1), min: floatp(0), custom: tsCustom(15), options: tsLegendTable("mean", "max", "lastNotNull"),
		targets: []target{
			ts(rate("pantau_snmp_if_receive_bits_per_second"), "masuk"),
			ts(rate("pantau_snmp_if_transmit_bits_per_second"), "keluar"),
			ts(rate("pantau_link_bandwidth_bytes_per_second")+" * 8", "bandwidth kontrak"),
		},
		overrides: []any{
			override("bandwidth kontrak", "custom.lineStyle", dashed, "custom.fillOpacity", 0, "custom.lineWidth", 2, "color", fixedColor("red")),
			override("masuk", "color", fixedColor("green")),
			override("keluar", "color", fixedColor("blue")),
		},
	})
	util := panel{
		typ: "timeseries", title: "Utilisasi jalur",
		desc: "Trafik terbesar (masuk atau keluar) dibagi bandwidth kontrak, per jalur. Garis 80 % menandai jalur yang perlu ditambah kapasitasnya.",
		unit: "percentunit", decimals: intp(0), min: floatp(0), custom: tsCustom(0), options: tsLegendTable("mean", "max"),
		thresholds: steps("green", 0.8, "red"),
		targets:    []target{ts(perBandwidth(peakRate("%s")), "{{link}}")},
	}
	util.custom["thresholdsStyle"] = obj{"mode": "dashed"}
	b.add(24, 8, util)
	ifRate := func(metric string) string {
		return fmt.Sprintf("sum by (link, ifname) (rate(%s[$__rate_interval]))", sel(metric, fLink))
	}
	b.add(12, 8, panel{
		typ: "timeseries", title: "Error antarmuka", desc: "Paket error per detik di antarmuka SNMP jalur (ifInErrors, ifOutErrors).",
		unit: "pps", decimals: intp(2), min: floatp(0), custom: tsCustom(10), options: tsLegendTable("mean", "max"),
		targets: []target{
			ts(ifRate("pantau_snmp_if_receive_errors_total"), "{{link}} {{ifname}} masuk"),
			ts(ifRate("pantau_snmp_if_transmit_errors_total"), "{{link}} {{ifname}} keluar"),
		},
	})
	b.add(12, 8, panel{
		typ: "timeseries", title: "Discard antarmuka", desc: "Paket yang dibuang per detik di antarmuka SNMP jalur (ifInDiscards, ifOutDiscards), biasanya tanda antrean penuh.",
		unit: "pps", decimals: intp(2), min: floatp(0), custom: tsCustom(10), options: tsLegendTable("mean", "max"),
		targets: []target{
			ts(ifRate("pantau_snmp_if_receive_discards_total"), "{{link}} {{ifname}} masuk"),
			ts(ifRate("pantau_snmp_if_transmit_discards_total"), "{{link}} {{ifname}} keluar"),
		},
	})
	oper := stateTimeline("Status operasional antarmuka",
		"ifOperStatus antarmuka SNMP jalur sepanjang waktu.",
		"max by (link, ifname) ("+sel("pantau_snmp_if_oper_status", fLink)+")", "{{link}} {{ifname}}")
	oper.mappings = valueMappings(
		"1", "Naik", "green", "2", "Putus", "red", "3", "Pengujian", "blue", "4", "Tidak diketahui", "#8e8e8e",
		"5", "Dorman", "yellow", "6", "Tidak ada", "#8e8e8e", "7", "Lapisan bawah putus", "red")
	oper.thresholds = steps("green", 2, "red")
	b.add(24, 6, oper)

	b.row("Radio dan daya")
	radio := func(title, desc, metric, unit string, th []any) panel {
		return panel{
			typ: "timeseries", title: title, desc: desc, unit: unit, decimals: intp(0),
			custom: tsCustom(0), options: tsLegendTable("mean", "min", "lastNotNull"), thresholds: th,
			targets: []target{ts("min by (device, ifname) ("+sel(metric, fAgent)+")", "{{device}} {{ifname}}")},
		}
	}
	b.add(12, 8, radio("Sinyal radio",
		"Sinyal terima terlemah per antarmuka radio (antarmuka sendiri dan setiap peer tabel registrasi; snmp_radio signal_dbm). Di bawah ambang thresholds.signal_dbm jalur (radio: −75 dBm) menit SLA jalur terdegradasi.",
		"pantau_snmp_radio_signal_dbm", "dBm", steps("red", -75, "green")))
	b.add(12, 8, radio("Kualitas koneksi radio (CCQ)",
		"CCQ terendah per antarmuka radio (0–100 %): turun sebelum jalur radio putus.",
		"pantau_snmp_radio_ccq_ratio", "percentunit", steps("red", 0.6, "orange", 0.8, "green")))
	ups := stateTimeline("Status UPS",
		"Apakah UPS di lokasi memakai baterai (listrik PLN padam). Gangguan jalur selama UPS memakai baterai berpenyebab listrik.",
		"max by (device) ("+sel("pantau_snmp_ups_on_battery", fAgent)+")", "{{device}}")
	ups.mappings = valueMappings("0", "Listrik PLN", "green", "1", "Baterai", "red")
	ups.thresholds = steps("green", 1, "red")
	b.add(12, 6, ups)
	b.add(12, 6, panel{
		typ: "timeseries", title: "Baterai UPS", desc: "Sisa muatan baterai UPS di lokasi.",
		unit: "percentunit", decimals: intp(0), min: floatp(0), max: floatp(1), custom: tsCustom(10),
		options: tsLegendTable("min", "lastNotNull"), thresholds: steps("red", 0.3, "green"),
		targets: []target{ts("min by (device) ("+sel("pantau_snmp_ups_battery_charge_ratio", fAgent)+")", "{{device}}")},
	})
	b.add(24, 7, panel{
		typ: "timeseries", title: "Suhu perangkat", desc: "Suhu sensor perangkat (snmp_env temperature_celsius) di lokasi terpilih.",
		unit: "celsius", decimals: intp(0), custom: tsCustom(0), options: tsLegendTable("mean", "max", "lastNotNull"),
		thresholds: steps("green", 60, "red"),
		targets:    []target{ts("max by (device, sensor) ("+sel("pantau_snmp_env_temperature_celsius", fAgent)+")", "{{device}} {{sensor}}")},
	})

	b.row("Perangkat")
	dev := func(title, desc, metric string) panel {
		return panel{
			typ: "timeseries", title: title, desc: desc, unit: "percentunit", decimals: intp(0),
			min: floatp(0), max: floatp(1), custom: tsCustom(10), options: tsLegendTable("mean", "max", "lastNotNull"),
			thresholds: steps("green", 0.8, "red"),
			targets:    []target{ts("max by (device) ("+sel(metric, fAgent)+")", "{{device}}")},
		}
	}
	b.add(8, 8, dev("Beban CPU perangkat", "Beban CPU perangkat SNMP di lokasi terpilih.", "pantau_snmp_device_cpu_load_ratio"))
	b.add(8, 8, dev("Memori terpakai perangkat", "Bagian memori perangkat SNMP yang terpakai.", "pantau_snmp_device_memory_used_ratio"))
	b.add(8, 8, panel{
		typ: "table", title: "Uptime perangkat",
		desc: "Uptime setiap perangkat SNMP, berapa kali dinyalakan ulang dalam rentang waktu terpilih, dan apakah SNMP-nya merespons.",
		unit: "dtdurations", custom: tableCustom(),
		targets: []target{
			tbl("max by (device, site) (" + sel("pantau_snmp_device_uptime_seconds", fAgent) + ")"),
			tbl("max by (device, site) (resets(" + sel("pantau_snmp_device_uptime_seconds", fAgent) + "[$__range]))"),
			tbl("min by (device, site) (last_over_time(" + sel("pantau_snmp_device_up", fAgent) + "[$__range]))"),
		},
		transformations: tableTransforms([]string{"Uptime", "Restart", "SNMP"}, labels("device", "site")),
		options:         tableOptions("Uptime", false),
		overrides: []any{
			override("Restart", "unit", "none", "decimals", 0),
			override("SNMP", "unit", "none", "mappings", valueMappings("1", "merespons", "green", "0", "tidak merespons", "red"),
				"custom.cellOptions", obj{"type": "color-text"}),
		},
	})
	return b
}

// stateTimeline draws one row per series of state codes.
func stateTimeline(title, desc, expr, legend string) panel {
	return panel{
		typ: "state-timeline", title: title, desc: desc, unit: "none",
		colorMode: "thresholds", thresholds: stateThresholds(), mappings: stateMappings(),
		custom:  obj{"lineWidth": 0, "fillOpacity": 80},
		options: obj{"mergeValues": true, "showValue": "never", "alignValue": "left", "rowHeight": 0.9, "legend": legendOpts("list"), "tooltip": obj{"mode": "single", "sort": "none"}},
		targets: []target{ts(expr, legend)},
	}
}

// valueMappings maps values to text and colour: value, text, colour
// triples.
func valueMappings(triples ...string) []any {
	opts := obj{}
	for i := 0; i+2 < len(triples); i += 3 {
		opts[triples[i]] = obj{"text": triples[i+1], "color": triples[i+2], "index": i / 3}
	}
	return []any{obj{"type": "value", "options": opts}}
}
