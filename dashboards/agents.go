package dashboards

import "fmt"

// agentsBoard shows the agents' heartbeats (measurement agent): when each
// was last heard from, its store-and-forward queue, version, dropped
// points and plugin failures, and how the collector receives their
// writes.
func agentsBoard() *board {
	b := newBoard("pantau-agents", "Pantau · Agen",
		"Kesehatan agen Pantau di setiap lokasi, dari detak (heartbeat) yang dikirim agen: kapan terakhir terdengar, antrean simpan-dan-teruskan, versi, titik data yang dibuang dan kegagalan plugin; serta penerimaan data di kolektor.",
		"now-6h", "1m", districtVar(), opdVar(), siteVar(), agentVar())

	const fA = fAgent + `, agent=~"$agent"`
	hb := sel("pantau_agent_uptime_seconds", fA)
	by := "agent, site, version"
	last := func(metric string) string {
		return fmt.Sprintf("max by (%s) (last_over_time(%s[$__range]))", by, sel(metric, fA))
	}

	stat := func(title, desc string, th []any, t target) panel {
		return panel{typ: "stat", title: title, desc: desc, unit: "none", decimals: intp(0),
			colorMode: "thresholds", thresholds: th, options: statOptions("value"), targets: []target{t}}
	}
	b.add(6, 4, stat("Agen aktif", "Agen yang detaknya diterima dalam 5 menit terakhir.", steps("green"),
		inst("count(max by (agent) ("+hb+"))", "aktif")))
	seen := fmt.Sprintf("max by (agent) (last_over_time(%s[$__range]))", hb)
	b.add(6, 4, stat("Agen senyap",
		"Agen yang terdengar dalam rentang waktu terpilih tetapi tidak dalam 5 menit terakhir: listrik padam, jalur putus, atau agen berhenti. Datanya menyusul dari antrean saat tersambung lagi.",
		steps("green", 1, "red"),
		inst(fmt.Sprintf("count(%s unless max by (agent) (%s))\nor\ncount(%s) * 0", seen, hb, seen), "senyap")))
	b.add(6, 4, stat("Titik dibuang", "Titik data yang dibuang agen (antrean penuh) dalam rentang waktu terpilih: data ini hilang.",
		steps("green", 1, "red"),
		inst("sum(increase("+sel("pantau_agent_queue_dropped_points_total", fA)+"[$__range]))", "dibuang")))
	b.add(6, 4, stat("Titik dalam antrean", "Jumlah titik data yang menunggu dikirim di semua agen terpilih sekarang.",
		steps("green", 10000, "orange", 1000000, "red"),
		inst("sum(max by (agent) ("+sel("pantau_agent_queue_points", fA)+"))", "antrean")))

	b.add(24, 9, panel{
		typ: "table", title: "Agen",
		desc:   "Setiap agen: berapa lama sejak detak terakhir, uptime, restart dalam rentang waktu, antrean (titik, byte, umur data tertua), jumlah target, dan titik yang dibuang dalam rentang waktu.",
		custom: tableCustom(),
		targets: []target{
			// The newest heartbeat: exact within the 5 minute lookback,
			// else found minute by minute over the range.
			tbl(fmt.Sprintf("time() - (\n  max by (%[1]s) (timestamp(%[2]s))\nor\n  max by (%[1]s) (max_over_time(timestamp(%[2]s)[$__range:1m]))\n)", by, hb)),
			tbl(last("pantau_agent_uptime_seconds")),
			tbl(fmt.Sprintf("sum by (%s) (resets(%s[$__range]))", by, hb)),
			tbl(last("pantau_agent_queue_points")),
			tbl(last("pantau_agent_queue_bytes")),
			tbl(last("pantau_agent_queue_oldest_age_seconds")),
			tbl(last("pantau_agent_targets")),
			tbl(fmt.Sprintf("sum by (%s) (increase(%s[$__range]))", by, sel("pantau_agent_queue_dropped_points_total", fA))),
		},
		transformations: tableTransforms(
			[]string{"Terakhir terdengar", "Uptime", "Restart", "Antrean (titik)", "Antrean (byte)", "Umur antrean", "Target", "Dibuang"},
			labels("agent", "site", "version")),
		options: tableOptions("Terakhir terdengar", true),
		overrides: []any{
			override("Terakhir terdengar", "unit", "dtdurations", "thresholds", obj{"mode": "absolute", "steps": steps("green", 300, "red")},
				"color", obj{"mode": "thresholds"}, "custom.cellOptions", obj{"type": "color-text"}),
			override("Uptime", "unit", "dtdurations"),
			override("Restart", "unit", "none", "decimals", 0),
			override("Antrean (titik)", "unit", "short"),
			override("Antrean (byte)", "unit", "bytes"),
			override("Umur antrean", "unit", "dtdurations"),
			override("Target", "unit", "none", "decimals", 0),
			override("Dibuang", "unit", "none", "decimals", 0, "thresholds", obj{"mode": "absolute", "steps": steps("green", 1, "red")},
				"color", obj{"mode": "thresholds"}, "custom.cellOptions", obj{"type": "color-text"}),
			siteLink("Lokasi"),
		},
	})

	queue := func(title, desc, unit, metric string) panel {
		return panel{typ: "timeseries", title: title, desc: desc, unit: unit, min: floatp(0),
			custom: tsCustom(10), options: tsLegendTable("max", "lastNotNull"),
			targets: []target{ts("max by (agent) ("+sel(metric, fA)+")", "{{agent}}")}}
	}
	b.add(8, 8, queue("Antrean (titik)", "Titik data di antrean disk agen yang belum diterima kolektor. Naik saat jalur putus, turun saat terkirim.", "short", "pantau_agent_queue_points"))
	b.add(8, 8, queue("Antrean (byte)", "Ukuran antrean disk agen.", "bytes", "pantau_agent_queue_bytes"))
	b.add(8, 8, queue("Umur data tertua di antrean", "Umur titik tertua yang belum terkirim: seberapa jauh data agen tertinggal.", "s", "pantau_agent_queue_oldest_age_seconds"))
	dropped := panel{typ: "timeseries", title: "Titik dibuang",
		desc: "Titik data yang dibuang agen per selang waktu (antrean penuh).", unit: "short", min: floatp(0),
		custom: tsCustom(80), options: tsLegendTable("sum"),
		targets: []target{ts("sum by (agent) (increase("+sel("pantau_agent_queue_dropped_points_total", fA)+"[$__rate_interval]))", "{{agent}}")}}
	dropped.custom["drawStyle"] = "bars"
	b.add(8, 8, dropped)
	b.add(8, 8, panel{typ: "piechart", title: "Versi agen",
		desc: "Jumlah agen per versi (label version detak agen) dalam rentang waktu terpilih.", unit: "none",
		options: obj{"reduceOptions": obj{"calcs": []any{"lastNotNull"}, "fields": "", "values": false},
			"pieType": "donut", "legend": obj{"displayMode": "table", "placement": "right", "showLegend": true, "values": []any{"value"}},
			"tooltip": obj{"mode": "single", "sort": "none"}, "displayLabels": []any{"name"}},
		targets: []target{inst(fmt.Sprintf("count by (version) (max by (agent, version) (last_over_time(%s[$__range])))", hb), "{{version}}")}})
	b.add(8, 8, panel{typ: "table", title: "Kegagalan plugin",
		desc: "Pemeriksaan plugin yang gagal total dalam rentang waktu (agen mengirim plugin,plugin=…,target=… ok=0 bila plugin tidak dapat memeriksa target: mogok, batas waktu, keluaran rusak).",
		unit: "none", decimals: intp(0), custom: tableCustom(), colorMode: "thresholds", thresholds: steps("orange"),
		targets:         []target{tbl("sum by (agent, plugin, target) (count_over_time(" + sel("pantau_plugin_ok", `agent=~"$agent"`) + "[$__range]))")},
		transformations: tableTransforms([]string{"Gagal"}, labels("agent", "plugin", "target")),
		options:         tableOptions("Gagal", true),
	})

	b.row("Kolektor")
	b.add(8, 8, panel{typ: "timeseries", title: "Titik diterima kolektor", desc: "Titik line protocol yang disimpan kolektor per detik.",
		unit: "short", min: floatp(0), custom: tsCustom(10), options: tsOptions(),
		targets: []target{ts("sum(rate(pantau_collector_ingest_points_total[$__rate_interval]))", "titik/detik")}})
	b.add(8, 8, panel{typ: "timeseries", title: "Titik ditolak kolektor",
		desc: "Titik yang ditolak kolektor per detik menurut alasan (malformed, timestamp, forbidden, series_limit, ...).",
		unit: "short", min: floatp(0), custom: tsCustom(10), options: tsOptions(),
		targets: []target{ts("sum by (reason) (rate(pantau_collector_ingest_rejected_points_total[$__rate_interval]))", "{{reason}}")}})
	b.add(8, 8, panel{typ: "timeseries", title: "Sejak penulisan terakhir per agen",
		desc: "Detik sejak kolektor terakhir menerima tulisan dari setiap agen (pantau_collector_agent_last_write_timestamp_seconds).",
		unit: "s", min: floatp(0), custom: tsCustom(0), options: tsLegendTable("max", "lastNotNull"),
		thresholds: steps("green", 300, "red"),
		targets:    []target{ts(`time() - max by (agent) (pantau_collector_agent_last_write_timestamp_seconds{agent=~"$agent"})`, "{{agent}}")}})
	return b
}
