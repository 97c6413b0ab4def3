package dashboards

import "fmt"

// slaBoard is availability against the SLA targets per OPD, site, link
// and service over the selected range, outages, capacity headroom, and
// contract and warranty expiry.
func slaBoard() *board {
	b := newBoard("pantau-sla", "Pantau · SLA dan ketersediaan",
		"Ketersediaan = (naik + terdegradasi) / (naik + terdegradasi + putus) dalam rentang waktu terpilih, dihitung dari status yang dicatat kolektor; pemeliharaan dan tanpa data tidak dihitung. Angka resmi untuk evaluasi SPBE ada di laporan (pantau-collector report), yang memakai catatan per menit.",
		"now-30d", "", districtVar(), opdVar(), siteVar(), linkVar())

	linkAvail := func(by, window string) string { return availability("pantau_link_state", fLink, by, window) }
	linkTarget := func(by string) string {
		return fmt.Sprintf("max by (%s) (%s)", by, sel("pantau_link_sla_target_ratio", fLink))
	}
	pct := func(p *panel) {
		p.unit, p.decimals, p.mappings = "percentunit", intp(2), nanMapping()
	}

	b.row("Ringkasan")
	all := panel{
		typ: "stat", title: "Ketersediaan jalur",
		desc:      "Ketersediaan seluruh jalur terpilih dalam rentang waktu. Merah bila di bawah target SLA tertinggi di antara jalur terpilih.",
		colorMode: "thresholds", thresholds: steps("red", 0.995, "green"), options: statOptions("value"),
		targets: []target{
			inst(linkAvail("", "$__range"), "Ketersediaan"),
			inst("max("+sel("pantau_link_sla_target_ratio", fLink)+")", "Target"),
		},
		// The highest target of the selected links (query B, not shown)
		// becomes the threshold.
		transformations: []any{obj{"id": "configFromData", "options": obj{
			"configRefId": "B",
			"mappings":    []any{obj{"fieldName": "Target", "handlerKey": "threshold1"}},
		}}},
	}
	pct(&all)
	b.add(6, 5, all)
	site := panel{
		typ: "stat", title: "Ketersediaan lokasi",
		desc:      "Ketersediaan seluruh lokasi terpilih: lokasi hanya putus bila semua jalurnya putus (pantau_site_state).",
		colorMode: "thresholds", thresholds: steps("red", 0.99, "orange", 0.995, "green"), options: statOptions("value"),
		targets: []target{inst(availability("pantau_site_state", fSite, "", "$__range"), "Ketersediaan")},
	}
	pct(&site)
	b.add(6, 5, site)
	// met is 1 for each link whose availability reaches its target, else 0.
	met := func(by string) string {
		return fmt.Sprintf("(\n%s\n) >= bool on (%s) %s", linkAvail(by, "$__range"), by, linkTarget(by))
	}
	b.add(6, 5, panel{
		typ: "stat", title: "Jalur memenuhi target SLA",
		desc: "Jumlah jalur yang ketersediaannya dalam rentang waktu mencapai target SLA-nya, dari seluruh jalur terpilih.",
		unit: "none", decimals: intp(0), colorMode: "thresholds", thresholds: steps("blue"), options: statOptions("value_and_name"),
		targets: []target{
			inst("sum(\n"+met("link, site")+"\n)", "memenuhi"),
			inst("count("+linkTarget("link, site")+")", "jalur"),
		},
	})
	svc := panel{
		typ: "stat", title: "Ketersediaan layanan",
		desc:      "Ketersediaan seluruh layanan e-government terpilih (pemeriksaan plugin) dalam rentang waktu.",
		colorMode: "thresholds", thresholds: steps("red", 0.99, "green"), options: statOptions("value"),
		targets: []target{inst(availability("pantau_service_state", fSvc, "", "$__range"), "Ketersediaan")},
	}
	pct(&svc)
	b.add(6, 5, svc)

	b.row("Per OPD dan lokasi")
	opd := panel{
		typ: "table", title: "Ketersediaan per OPD",
		desc:   "Ketersediaan gabungan jalur setiap OPD dan berapa jalurnya yang memenuhi target SLA masing-masing.",
		custom: tableCustom(), colorMode: "thresholds", thresholds: steps("red", 0.99, "orange", 0.995, "green"),
		targets: []target{
			tbl(noOPD(linkAvail("opd", "$__range"))),
			tbl(noOPD(fmt.Sprintf("sum by (opd) (\n%s\n)", met("link, site, opd")))),
			tbl(noOPD("count by (opd) (" + linkTarget("link, site, opd") + ")")),
		},
		transformations: tableTransforms([]string{"Ketersediaan", "Jalur memenuhi target", "Jumlah jalur"}, labels("opd")),
		options:         tableOptions("Ketersediaan", false),
		overrides: []any{
			override("Ketersediaan", "unit", "percentunit", "decimals", 2, "mappings", nanMapping(), "custom.cellOptions", obj{"type": "color-text"}),
			override("Jalur memenuhi target", "unit", "none", "decimals", 0),
			override("Jumlah jalur", "unit", "none", "decimals", 0),
		},
	}
	b.add(12, 9, opd)
	b.add(12, 9, panel{
		typ: "table", title: "Ketersediaan per lokasi",
		desc:   "Ketersediaan setiap lokasi (putus hanya bila semua jalurnya putus) dalam rentang waktu, terendah di atas.",
		custom: tableCustom(), unit: "percentunit", decimals: intp(2), mappings: nanMapping(),
		colorMode: "thresholds", thresholds: steps("red", 0.99, "orange", 0.995, "green"),
		targets:         []target{tbl(noOPD(availability("pantau_site_state", fSite, "site, opd, district", "$__range")))},
		transformations: tableTransforms([]string{"Ketersediaan"}, labels("site", "opd", "district")),
		options:         tableOptions("Ketersediaan", false),
		overrides: []any{
			override("Ketersediaan", "custom.cellOptions", obj{"type": "color-text"}),
			siteLink("Lokasi"),
		},
	})
	trend := panel{
		typ: "timeseries", title: "Ketersediaan 24 jam per OPD",
		desc: "Ketersediaan jalur setiap OPD dalam 24 jam yang berakhir di setiap titik, dengan target SLA tertinggi di antara jalur terpilih sebagai garis putus-putus merah.",
		unit: "percentunit", decimals: intp(2), max: floatp(1), custom: tsCustom(0), options: tsLegendTable("min", "mean"),
		targets: []target{
			{expr: noOPD(linkAvail("opd", "1d")), legend: "{{opd}}", interval: "1h"},
			{expr: "max(" + sel("pantau_link_sla_target_ratio", fLink) + ")", legend: "target SLA", interval: "1h"},
		},
		overrides: []any{override("target SLA", "custom.lineStyle", dashed, "custom.lineWidth", 2, "color", fixedColor("red"))},
	}
	trend.custom["axisSoftMin"] = 0.95
	b.add(24, 8, trend)

	b.row("Per jalur")
	b.add(24, 9, panel{
		typ: "table", title: "SLA per jalur",
		desc:   "Ketersediaan setiap jalur dalam rentang waktu, target SLA-nya (dari inventaris: jalur, kontrak, lokasi atau jenis jalur) dan selisihnya; selisih negatif berarti target tidak tercapai.",
		custom: tableCustom(),
		targets: []target{
			tbl(linkAvail("link, site, opd", "$__range")),
			tbl(linkTarget("link, site, opd")),
			tbl(fmt.Sprintf("(\n%s\n) - on (link, site, opd) %s", linkAvail("link, site, opd", "$__range"), linkTarget("link, site, opd"))),
		},
		transformations: tableTransforms([]string{"Ketersediaan", "Target SLA", "Selisih"}, labels("link", "site", "opd")),
		options:         tableOptions("Selisih", false),
		overrides: []any{
			override("Ketersediaan", "unit", "percentunit", "decimals", 2, "mappings", nanMapping()),
			override("Target SLA", "unit", "percentunit", "decimals", 1),
			override("Selisih", "unit", "percentunit", "decimals", 2, "mappings", nanMapping(), "thresholds", obj{"mode": "absolute", "steps": steps("red", 0, "green")},
				"color", obj{"mode": "thresholds"}, "custom.cellOptions", obj{"type": "color-background", "mode": "basic"}),
			linkLink("Jalur"), siteLink("Lokasi"),
		},
	})

	b.row("Gangguan")
	b.add(24, 10, stateTimeline("Riwayat status jalur",
		"Status setiap jalur sepanjang rentang waktu; merah adalah putus.",
		stateCode("pantau_link_state", fLink, "link"), "{{link}}"))
	down := sel("pantau_link_state", fLink, `state="down"`)
	b.add(24, 8, panel{
		typ: "table", title: "Jalur dengan waktu putus",
		desc:   "Jalur yang pernah putus dalam rentang waktu: perkiraan lama putus (bagian waktu berstatus putus × rentang), jumlah gangguan (perubahan ke dan dari putus), dan ketersediaannya. Rincian gangguan beserta penyebabnya ada di laporan SPBE.",
		custom: tableCustom(),
		targets: []target{
			tbl(fmt.Sprintf("max by (link, site, opd) (avg_over_time(%s[$__range])) * $__range_s", down)),
			tbl(fmt.Sprintf("max by (link, site, opd) (ceil(changes(%s[$__range]) / 2))", down)),
			tbl(linkAvail("link, site, opd", "$__range")),
		},
		// Links never down in the range are filtered out here, not in
		// PromQL, so that an empty table means no data, not no outage.
		transformations: append(tableTransforms([]string{"Lama putus", "Gangguan", "Ketersediaan"}, labels("link", "site", "opd")),
			obj{"id": "filterByValue", "options": obj{"type": "include", "match": "all", "filters": []any{
				obj{"fieldName": "Lama putus", "config": obj{"id": "greater", "options": obj{"value": 0}}},
			}}}),
		options: tableOptions("Lama putus", true),
		overrides: []any{
			override("Lama putus", "unit", "dtdurations"),
			override("Gangguan", "unit", "none", "decimals", 0),
			override("Ketersediaan", "unit", "percentunit", "decimals", 2, "mappings", nanMapping()),
			linkLink("Jalur"), siteLink("Lokasi"),
		},
	})

	b.row("Kapasitas")
	p95 := func(metric string) string {
		return fmt.Sprintf("max by (link, site) (quantile_over_time(0.95, %s[$__range]))", sel(metric, fLink))
	}
	b.add(24, 9, panel{
		typ: "table", title: "Ruang kapasitas jalur",
		desc:   "Ruang kapasitas = 1 − (persentil ke-95 trafik terbesar, masuk atau keluar, dalam rentang waktu ÷ bandwidth kontrak). Di bawah 20 % berarti jalur hampir penuh pada jam sibuk; negatif berarti trafik melebihi kontrak.",
		custom: tableCustom(),
		targets: []target{
			tbl("1 - (\n" + perBandwidth(peakRate("quantile_over_time(0.95, %s[$__range])")) + "\n)"),
			tbl(p95("pantau_snmp_if_receive_bits_per_second")),
			tbl(p95("pantau_snmp_if_transmit_bits_per_second")),
			tbl("max by (link, site) (" + sel("pantau_link_bandwidth_bytes_per_second", fLink) + ") * 8"),
		},
		transformations: tableTransforms([]string{"Ruang kapasitas", "P95 masuk", "P95 keluar", "Bandwidth kontrak"}, labels("link", "site")),
		options:         tableOptions("Ruang kapasitas", false),
		overrides: []any{
			override("Ruang kapasitas", "unit", "percentunit", "decimals", 0, "min", 0, "max", 1,
				"thresholds", obj{"mode": "absolute", "steps": steps("red", 0.2, "orange", 0.4, "green")}, "color", obj{"mode": "thresholds"},
				"custom.cellOptions", obj{"type": "gauge", "mode": "basic", "valueDisplayMode": "text"}),
			override("P95 masuk", "unit", "bps", "decimals", 1),
			override("P95 keluar", "unit", "bps", "decimals", 1),
			override("Bandwidth kontrak", "unit", "bps", "decimals", 0),
			linkLink("Jalur"), siteLink("Lokasi"),
		},
	})

	b.row("Layanan")
	svcBy := "service, site, opd"
	b.add(12, 9, panel{
		typ: "table", title: "SLA per layanan",
		desc:   "Ketersediaan setiap layanan e-government dalam rentang waktu, target SLA-nya dan selisihnya.",
		custom: tableCustom(),
		targets: []target{
			tbl(availability("pantau_service_state", fSvc, svcBy, "$__range")),
			tbl("max by (" + svcBy + ") (" + sel("pantau_service_sla_target_ratio", fSvc) + ")"),
			tbl(fmt.Sprintf("(\n%s\n) - on (%s) max by (%[2]s) (%s)", availability("pantau_service_state", fSvc, svcBy, "$__range"), svcBy, sel("pantau_service_sla_target_ratio", fSvc))),
		},
		transformations: tableTransforms([]string{"Ketersediaan", "Target SLA", "Selisih"}, labels("service", "site", "opd")),
		options:         tableOptions("Selisih", false),
		overrides: []any{
			override("Ketersediaan", "unit", "percentunit", "decimals", 2, "mappings", nanMapping()),
			override("Target SLA", "unit", "percentunit", "decimals", 1),
			override("Selisih", "unit", "percentunit", "decimals", 2, "mappings", nanMapping(), "thresholds", obj{"mode": "absolute", "steps": steps("red", 0, "green")},
				"color", obj{"mode": "thresholds"}, "custom.cellOptions", obj{"type": "color-background", "mode": "basic"}),
		},
	})
	b.add(12, 9, stateTimeline("Riwayat status layanan",
		"Status setiap layanan sepanjang rentang waktu (pantau_service_state).",
		stateCode("pantau_service_state", fSvc, "service"), "{{service}}"))
	b.add(12, 8, panel{
		typ: "timeseries", title: "Waktu respons HTTP",
		desc: "Lama pemeriksaan HTTP (plugin http, total_seconds) per target.",
		unit: "s", decimals: intp(2), min: floatp(0), custom: tsCustom(0), options: tsLegendTable("mean", "max"),
		targets: []target{ts("max by (target) ("+sel("pantau_http_total_seconds", fPlugin)+")", "{{target}}")},
	})
	b.add(12, 8, panel{
		typ: "table", title: "Sertifikat TLS berakhir",
		desc:   "Sisa masa berlaku sertifikat TLS yang diperiksa plugin http dan tcp; merah bila kurang dari 14 hari.",
		custom: tableCustom(), unit: "dtdurations",
		colorMode: "thresholds", thresholds: steps("red", 14*86400, "orange", 30*86400, "green"),
		targets: []target{tbl(fmt.Sprintf("min by (target) (\n  label_replace(last_over_time(%s[$__range]), \"plugin\", \"http\", \"__name__\", \".*\")\n  or\n  label_replace(last_over_time(%s[$__range]), \"plugin\", \"tcp\", \"__name__\", \".*\")\n)",
			sel("pantau_http_tls_cert_expiry_seconds", fPlugin), sel("pantau_tcp_tls_cert_expiry_seconds", fPlugin)))},
		transformations: tableTransforms([]string{"Sisa masa berlaku"}, labels("target")),
		options:         tableOptions("Sisa masa berlaku", false),
		overrides:       []any{override("Sisa masa berlaku", "custom.cellOptions", obj{"type": "color-text"})},
	})

	b.row("Kontrak dan aset")
	days := func(expr string) string { return fmt.Sprintf("floor((%s - time()) / 86400)", expr) }
	expiry := steps("red", 30, "orange", 90, "green")
	b.add(12, 8, panel{
		typ: "table", title: "Kontrak ISP berakhir",
		desc:   "Hari tersisa sampai kontrak ISP setiap jalur berakhir (dari inventaris).",
		custom: tableCustom(), unit: "suffix: hari", decimals: intp(0), colorMode: "thresholds", thresholds: expiry,
		targets:         []target{tbl(days("max by (link, site, opd, isp, circuit) (" + sel("pantau_link_contract_expiry_timestamp_seconds", `opd=~"$opd", site=~"$site", link=~"$link"`) + ")"))},
		transformations: tableTransforms([]string{"Sisa"}, labels("link", "site", "opd", "isp", "circuit")),
		options:         tableOptions("Sisa", false),
		overrides:       []any{override("Sisa", "custom.cellOptions", obj{"type": "color-text"}), linkLink("Jalur")},
	})
	b.add(12, 8, panel{
		typ: "table", title: "Garansi dan kontrak perangkat berakhir",
		desc:   "Hari tersisa sampai garansi dan kontrak dukungan setiap perangkat berakhir (daftar aset TIK di inventaris).",
		custom: tableCustom(), unit: "suffix: hari", decimals: intp(0), colorMode: "thresholds", thresholds: expiry,
		targets: []target{
			tbl(days("max by (device, site, asset_code) (" + sel("pantau_device_warranty_expiry_timestamp_seconds", fAgent) + ")")),
			tbl(days("max by (device, site, asset_code) (" + sel("pantau_device_contract_expiry_timestamp_seconds", fAgent) + ")")),
		},
		transformations: tableTransforms([]string{"Garansi", "Kontrak dukungan"}, labels("device", "site", "asset_code")),
		options:         tableOptions("Garansi", false),
		overrides: []any{
			override("Garansi", "custom.cellOptions", obj{"type": "color-text"}),
			override("Kontrak dukungan", "custom.cellOptions", obj{"type": "color-text"}),
		},
	})
	return b
}

// nanMapping shows a ratio of no known minutes (0/0: only maintenance or
// no data in the range) as "tanpa data".
func nanMapping() []any {
	return []any{obj{"type": "special", "options": obj{"match": "nan", "result": obj{"text": "tanpa data", "index": 0}}}}
}
