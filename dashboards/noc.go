package dashboards

import "fmt"

// nocBoard is the NOC overview: the map, counts of what is down, and the
// worst links.
func nocBoard() *board {
	b := newBoard("pantau-noc", "Pantau · Ringkasan NOC",
		"Keadaan jaringan Pemda saat ini: peta lokasi menurut status, jumlah lokasi, jalur dan layanan yang putus, serta jalur terburuk menurut loss, latensi dan utilisasi.",
		"now-1h", "1m", districtVar(), opdVar(), siteVar(), linkVar())

	count := func(title, desc, expr, color string) panel {
		return panel{
			typ: "stat", title: title, desc: desc, unit: "none", decimals: intp(0),
			colorMode: "thresholds", thresholds: steps("green", 1, color),
			options: statOptions("value"), targets: []target{inst(expr, title)},
		}
	}
	b.add(4, 4, count("Lokasi putus", "Lokasi yang semua jalurnya putus sekarang (pantau_site_state).",
		"sum("+sel("pantau_site_state", fSite, `state="down"`)+")", "red"))
	b.add(4, 4, count("Lokasi terdegradasi", "Lokasi yang jalur terbaiknya terdegradasi (loss atau latensi di atas ambang) sekarang.",
		"sum("+sel("pantau_site_state", fSite, `state="degraded"`)+")", "orange"))
	up := count("Lokasi naik", "Lokasi dengan sedikitnya satu jalur naik sekarang.",
		"sum("+sel("pantau_site_state", fSite, `state="up"`)+")", "green")
	up.thresholds = steps("green")
	b.add(4, 4, up)
	b.add(3, 4, count("Lokasi tanpa data atau pemeliharaan", "Lokasi tanpa data pengukuran (belum ada jalur, agen senyap) atau dalam pemeliharaan terjadwal.",
		"sum("+sel("pantau_site_state", fSite, `state=~"nodata|monitoring|maintenance"`)+")", "#8e8e8e"))
	b.add(3, 4, count("Jalur putus", "Jalur inventaris yang putus sekarang (pantau_link_state).",
		"sum("+sel("pantau_link_state", fLink, `state="down"`)+")", "red"))
	b.add(3, 4, count("Layanan putus", "Layanan e-government (pemeriksaan plugin http, dns, tcp) yang putus sekarang (pantau_service_state).",
		"sum("+sel("pantau_service_state", fSvc, `state="down"`)+")", "red"))
	b.add(3, 4, count("Alarm aktif", "Alarm yang sedang menyala (firing) menurut aturan alerting kolektor (pantau_alerts); ada bila kolektor punya notifier.",
		`sum(pantau_alerts{state="firing"})`, "red"))

	// The map: pantau_site_info (name, coordinates) joined with the
	// site's current state code.
	mapExpr := fmt.Sprintf("max by (site, name, kind, opd, district, lat, lon) (%s)\n* on (site) group_left (state)\n%s",
		sel("pantau_site_info", fSite, `lat!=""`, `lon!=""`), stateCode("pantau_site_state", fSite, "site, state"))
	b.add(16, 15, panel{
		typ: "geomap", title: "Peta lokasi menurut status",
		desc:      "Setiap lokasi inventaris yang berkoordinat (lat, lon), diwarnai menurut status saat ini: hijau naik, oranye terdegradasi, merah putus, biru pemeliharaan, abu-abu tanpa data.",
		unit:      "none",
		colorMode: "thresholds", thresholds: stateThresholds(), mappings: stateMappings(),
		targets: []target{tbl(mapExpr)},
		transformations: []any{
			obj{"id": "convertFieldType", "options": obj{"fields": obj{}, "conversions": []any{
				obj{"targetField": "lat", "destinationType": "number"},
				obj{"targetField": "lon", "destinationType": "number"},
			}}},
			obj{"id": "organize", "options": obj{
				"excludeByName": obj{"Time": true}, "indexByName": obj{}, "includeByName": obj{},
				// Fields the layer reads (Value, name, lat, lon) keep their names.
				"renameByName": obj{"site": "Lokasi", "opd": "OPD", "district": "Distrik", "kind": "Jenis"},
			}},
		},
		options: obj{
			"view":     obj{"id": "fit", "lat": -2.5, "lon": 118, "zoom": 5, "allLayers": true},
			"controls": obj{"showZoom": true, "mouseWheelZoom": true, "showAttribution": true, "showScale": true, "showMeasure": false, "showDebug": false},
			"basemap":  obj{"type": "default", "name": "Peta dasar", "config": obj{}},
			"layers": []any{obj{
				"type": "markers", "name": "Lokasi", "tooltip": true,
				"location": obj{"mode": "coords", "latitude": "lat", "longitude": "lon"},
				"config": obj{
					"showLegend": true,
					"style": obj{
						"size":    obj{"fixed": 9, "min": 4, "max": 15},
						"color":   obj{"field": "Value", "fixed": "green"},
						"opacity": 0.9,
						"symbol":  obj{"mode": "fixed", "fixed": "img/icons/marker/circle.svg"},
						"text":    obj{"mode": "field", "field": "name", "fixed": ""},
						"textConfig": obj{"fontSize": 10, "offsetX": 0, "offsetY": -14,
							"textAlign": "center", "textBaseline": "bottom"},
					},
				},
			}},
			"tooltip": obj{"mode": "details"},
		},
	})
	b.add(8, 15, panel{
		typ: "table", title: "Status jalur saat ini",
		desc: "Status setiap jalur inventaris sekarang, yang terburuk di atas. Klik jalur untuk detailnya.",
		unit: "none", colorMode: "thresholds", thresholds: stateThresholds(), mappings: stateMappings(),
		custom:          tableCustom(),
		targets:         []target{tbl(stateCode("pantau_link_state", fLink, "link, site"))},
		transformations: tableTransforms([]string{"Status"}, labels("link", "site")),
		options:         tableOptions("Status", true),
		overrides: []any{
			override("Status", "custom.cellOptions", obj{"type": "color-background", "mode": "basic"}),
			linkLink("Jalur"), siteLink("Lokasi"),
		},
	})

	worst := func(title, desc, unit, valueName, expr string, th []any, maxV *float64) panel {
		return panel{
			typ: "table", title: title, desc: desc, unit: unit, decimals: intp(1), min: floatp(0), max: maxV,
			colorMode: "thresholds", thresholds: th, custom: tableCustom(),
			targets:         []target{tbl(expr)},
			transformations: tableTransforms([]string{valueName}, labels("link", "site")),
			options:         tableOptions(valueName, true),
			overrides: []any{
				override(valueName, "custom.cellOptions", obj{"type": "gauge", "mode": "basic", "valueDisplayMode": "text"}),
				linkLink("Jalur"), siteLink("Lokasi"),
			},
		}
	}
	b.add(8, 10, worst("Loss tertinggi", "Sepuluh jalur dengan packet loss ICMP rata-rata tertinggi dalam rentang waktu terpilih.",
		"percentunit", "Loss",
		"topk(10, max by (link, site) (avg_over_time("+sel("pantau_icmp_loss_ratio", fLink)+"[$__range])))",
		steps("green", 0.01, "orange", 0.05, "red"), floatp(1)))
	b.add(8, 10, worst("Latensi tertinggi", "Sepuluh jalur dengan RTT ICMP rata-rata tertinggi dalam rentang waktu terpilih (VSAT wajar sekitar 600 ms).",
		"s", "Latensi",
		"topk(10, max by (link, site) (avg_over_time("+sel("pantau_icmp_rtt_avg_seconds", fLink)+"[$__range])))",
		steps("green", 0.1, "orange", 0.7, "red"), nil))
	b.add(8, 10, worst("Utilisasi tertinggi", "Sepuluh jalur dengan utilisasi rata-rata tertinggi dalam rentang waktu terpilih: trafik terbesar (masuk atau keluar) dibagi bandwidth kontrak.",
		"percentunit", "Utilisasi",
		"topk(10,\n"+perBandwidth(peakRate("avg_over_time(%s[$__range])"))+"\n)",
		steps("green", 0.7, "orange", 0.9, "red"), floatp(1)))
	return b
}
