package report

import (
	"fmt"
	"strings"
)

// Languages.
const (
	LangID = "id" // Bahasa Indonesia, the default
	LangEN = "en"
)

// ParseLang accepts id, en (and the long forms).
func ParseLang(s string) (string, error) {
	switch strings.ToLower(s) {
	case "", "id", "id-id", "indonesia", "bahasa":
		return LangID, nil
	case "en", "en-us", "en-gb", "english":
		return LangEN, nil
	}
	return "", fmt.Errorf("unknown language %q (want id or en)", s)
}

// text holds every user-facing string in both languages: [id, en].
var text = map[string][2]string{
	"title":                 {"Laporan Infrastruktur SPBE: Ketersediaan dan Kapasitas Jaringan", "SPBE Infrastructure Report: Network Availability and Capacity"},
	"scope.pemda":           {"Seluruh Pemda", "Whole local government"},
	"scope.opd":             {"OPD", "OPD"},
	"scope.site":            {"Lokasi", "Site"},
	"tz.per_site":           {"Zona waktu masing-masing lokasi (WIB/WITA/WIT)", "Each site's own time zone (WIB/WITA/WIT)"},
	"generated":             {"Dibuat", "Generated"},
	"period":                {"Periode", "Period"},
	"timezone":              {"Zona waktu", "Time zone"},
	"summary":               {"Ringkasan", "Summary"},
	"coverage":              {"Cakupan", "Coverage"},
	"sites":                 {"Ketersediaan per Lokasi", "Availability per Site"},
	"links":                 {"Ketersediaan per Jalur", "Availability per Link"},
	"services":              {"Ketersediaan Layanan", "Service Availability"},
	"incidents":             {"Daftar Gangguan", "Incidents"},
	"contracts":             {"Kontrak ISP dan Restitusi", "ISP Contracts and Restitution"},
	"capacity":              {"Kapasitas", "Capacity"},
	"reviews":               {"Reviu Berkala", "Periodic Reviews"},
	"followups":             {"Tindak Lanjut", "Follow-up"},
	"changes":               {"Catatan perubahan", "Change record"},
	"changes.pemda_only":    {"Catatan perubahan hanya dimuat dalam laporan seluruh Pemda untuk pengguna tanpa batasan OPD: log audit tidak mencatat OPD pemilik objek yang diubah.", "The change record is only in whole-Pemda reports for users without an OPD scope: the audit log does not record which OPD a changed object belongs to."},
	"actor.token":           {"token API", "API token"},
	"actor.user":            {"pengguna", "user"},
	"actor.anonymous":       {"anonim", "anonymous"},
	"actor.cli":             {"baris perintah", "command line"},
	"actor.unknown":         {"tidak diketahui", "unknown"},
	"assets":                {"Daftar Aset TIK", "TIK Asset Register"},
	"expiries":              {"Kontrak dan Garansi yang Akan Berakhir", "Contracts and Warranties Ending Soon"},
	"evidence":              {"Pemetaan ke Indikator SPBE", "Mapping to SPBE Indicators"},
	"methods":               {"Metode", "Methods"},
	"coverage_hist":         {"Cakupan per Bulan", "Coverage by Month"},
	"not_monitored":         {"Belum Dipantau", "Not Monitored"},
	"cause.isp":             {"jalur ISP", "ISP link"},
	"cause.parent":          {"induk/inti putus", "parent or core down"},
	"cause.power":           {"listrik/agen lokasi", "site power or agent"},
	"cause.unknown":         {"tidak diketahui", "unknown"},
	"cause.service":         {"layanan itu sendiri", "the service itself"},
	"cause.network":         {"jaringan lokasi putus", "site network down"},
	"reason.no_link":        {"belum terhubung (tidak ada jalur di inventaris)", "not connected (no link in the inventory)"},
	"reason.no_data":        {"terhubung tetapi tidak ada data pada periode ini", "connected but no data in the period"},
	"yes":                   {"ya", "yes"},
	"no":                    {"tidak", "no"},
	"dir.in":                {"masuk", "in"},
	"dir.out":               {"keluar", "out"},
	"what.isp_contract":     {"kontrak ISP", "ISP contract"},
	"what.warranty":         {"garansi", "warranty"},
	"what.support_contract": {"kontrak pemeliharaan", "support contract"},
	"src.contract":          {"kontrak", "contract"},
	"src.interface":         {"kecepatan antarmuka", "interface speed"},
	"src.unknown":           {"tidak diketahui", "unknown"},
	"formula.proportional":  {"proporsional", "proportional"},
	"formula.excess":        {"kelebihan", "excess"},
	"formula.none":          {"tanpa restitusi", "none"},
	"formula.":              {"", ""},
	"kind.opd":              {"OPD", "OPD"},
	"kind.district":         {"distrik", "district"},
	"kind.campus":           {"kampus", "campus"},
	"kind.datacenter":       {"pusat data", "data centre"},
	"fig.minute":            {"status per menit", "minute state"},
	"fig.availability":      {"ketersediaan", "availability"},
	"fig.completeness":      {"kelengkapan data", "data completeness"},
	"fig.worst":             {"kasus terburuk", "worst case"},
	"fig.site":              {"lokasi dengan jalur cadangan", "sites with redundant links"},
	"fig.outage":            {"gangguan, MTTR, MTBF", "outages, MTTR, MTBF"},
	"fig.cause":             {"penyebab gangguan", "outage cause"},
	"fig.service":           {"ketersediaan layanan", "service availability"},
	"fig.contract":          {"kontrak ISP dan restitusi", "ISP contract and restitution"},
	"fig.capacity":          {"kapasitas", "capacity"},
	"fig.coverage":          {"cakupan", "coverage"},
	"fig.evidence":          {"pemetaan indikator SPBE", "SPBE indicator mapping"},
	"status.belum":          {"belum", "not started"},
	"status.proses":         {"proses", "in progress"},
	"status.selesai":        {"selesai", "done"},
	"beyond_horizon":        {"di luar horizon", "beyond the horizon"},

	"m.availability": {"Ketersediaan = waktu (naik + terdegradasi) / waktu (naik + terdegradasi + putus), dihitung dalam detik. Menit pemeliharaan, menit tanpa data dan menit ketika sistem pemantau sendiri mati tidak dihitung. Angka menit = detik / 60.",
		"Availability = (up + degraded) time / (up + degraded + down) time, counted in seconds. Maintenance minutes, minutes without data and minutes when the monitoring itself was down are left out. Minute figures = seconds / 60."},
	"m.completeness": {"Kelengkapan = waktu dengan data / (waktu dengan data + waktu tanpa data), di luar pemeliharaan dan saat pemantau mati.",
		"Completeness = time with data / (time with data + time without data), outside maintenance and monitoring downtime."},
	"m.worst": {"Kasus terburuk = waktu tanpa data dihitung putus.",
		"Worst case = time without data counted as down."},
	"m.minute": {"Tiap ronde probe ICMP diberi kelas saat tiba: putus bila tidak ada balasan, terdegradasi bila rugi paket atau latensinya melewati ambang jalur, naik selain itu. Tiap menit dibagi enam slot 10 detik; ronde menandai slot waktunya. Slot putus bila rondenya putus; slot tanpa ronde mengikuti ronde terakhir sebelumnya dalam 60 detik, atau ronde pertama sesudahnya dalam menit itu. Waktu putus sebuah menit = 10 detik per slot putus; sisanya naik, atau terdegradasi bila ada ronde terdegradasi pada menit itu. Menit tanpa ronde: tanpa data. Ambang bawaan per jenis jalur (serat optik, radio, VSAT, LEO); latensi satelit yang wajar tidak dihitung terdegradasi.",
		"Each ICMP probe round is classified on arrival: down when no reply came, degraded when its loss or latency is over the link's thresholds, up otherwise. Each minute has six 10-second slots; a round marks the slot of its time. A slot is down when its round was down; a slot without a round follows the latest round in the 60 s before it, else the first round after it in that minute. A minute's down time is 10 s per down slot; the rest is up, or degraded when a degraded round was seen in the minute. A minute without rounds has no data. Default thresholds depend on the link type (fibre, radio, VSAT, LEO); normal satellite latency does not count as degraded."},
	"m.outage": {"Gangguan = rangkaian slot putus berturut-turut, dari ronde gagal pertama sampai ronde baik pertama sesudahnya (ketelitian 10 detik); gangguan yang berselang kurang dari jeda penggabungan digabung. MTTR = rata-rata durasi gangguan; MTBF = waktu tersedia / jumlah gangguan.",
		"An outage is a maximal run of down slots, from its first failed round to the first good round after it (10-second resolution); runs closer than the flap merge gap are merged. MTTR = mean outage duration; MTBF = available time / number of outages."},
	"m.cause": {"Penyebab: induk bila lokasi induk putus pada sedikitnya separuh waktu putus gangguan; ISP bila agen di lokasi tetap melapor (per menit); listrik/agen bila agen lokasi juga diam; tidak diketahui bila lokasi tidak punya agen.",
		"Cause: parent when the parent site was down for at least half of the outage's down time; ISP when the site's agent kept reporting (per minute); power/agent when the site's agent went silent too; unknown when the site has no agent."},
	"m.contract": {"Kontrak ISP per bulan kalender, selalu sebulan penuh walau periode laporan hanya sebagian bulan: waktu pemeliharaan dan penyebab yang dikecualikan kontrak tidak dihitung; gangguan yang sisa waktu putusnya kurang dari batas minimum tidak dihitung; waktu dihitung dalam detik, menit yang diizinkan = ⌊menit sebulan × (100 − target) / 100⌋. Restitusi hanya bila target bulan itu tidak tercapai: proporsional = biaya bulanan × detik terhitung / detik sebulan; kelebihan = biaya bulanan × (detik terhitung − detik yang diizinkan) / detik sebulan; dibulatkan ke bawah ke rupiah. Bulan yang masih berjalan belum final. Restitusi yang dapat diklaim menjumlahkan bulan yang sudah selesai dan hari terakhirnya ada dalam periode laporan, sehingga tiap bulan diklaim sekali.",
		"ISP contract per calendar month, always the whole month even when the report period covers part of it: maintenance time and causes the contract excludes are not counted; outages whose remaining down time is under the minimum are not counted; time is counted in seconds, allowed minutes = ⌊minutes in the month × (100 − target) / 100⌋. Restitution only when the month misses the target: proportional = monthly fee × counted seconds / seconds in the month; excess = monthly fee × (counted seconds − allowed seconds) / seconds in the month; rounded down to the rupiah. A month still running is not final. Claimable restitution adds up the months that have ended and whose last day is in the report period, so each month is claimed once."},
	"m.service": {"Layanan (portal, e-office, perizinan, DNS) diperiksa plugin probe agen (http, dns, tcp): tiap pemeriksaan putus bila gagal, terdegradasi bila melewati ambang waktu respons, naik selain itu, dan menandai slot 10 detiknya seperti ronde ICMP; ketersediaan, gangguan, MTTR dan MTBF dihitung seperti jalur, dengan kalender dan jendela pemeliharaan lokasi tempat layanan berada. Penyebab: jaringan bila semua jalur lokasi itu putus pada sedikitnya separuh waktu putus gangguan; layanan itu sendiri bila jaringannya naik; tidak diketahui bila lokasi tidak punya jalur dengan data.",
		"Services (portal, e-office, licensing, DNS) are checked by the agent's probe plugins (http, dns, tcp): each check is down when it failed, degraded when over the response-time threshold, up otherwise, and marks its 10-second slot as an ICMP round does; availability, outages, MTTR and MTBF are computed as for links, with the calendar and maintenance windows of the hosting site. Cause: network when all of the site's links were down for at least half of the outage's down time; the service itself when its network was up; unknown when the site has no link with data."},
	"m.site": {"Lokasi dengan beberapa jalur dihitung putus hanya bila semua jalurnya putus, slot demi slot.",
		"A site with several links is down only when all of them are, slot by slot."},
	"m.capacity": {"Kapasitas per arah dari laju bit SNMP: rata-rata sampel; persentil ke-95 dari rata-rata 5 menit (peringkat terdekat); puncak sampel; jam tersibuk; volume; utilisasi terhadap bandwidth kontrak, atau kecepatan antarmuka bila tidak ada; prakiraan tanggal persentil ke-95 harian mencapai 80 % menurut tren linear; \"di luar horizon\" bila tren tidak mencapainya dalam horizon prakiraan sejak tanggal laporan (report.forecast_horizon, bawaan 2 tahun), termasuk tren datar atau menurun.",
		"Capacity per direction from SNMP bit rates: mean of samples; 95th percentile of 5-minute averages (nearest rank); peak sample; busy hour; volume; utilization against the contracted bandwidth, or the interface speed when none; forecast date at which the daily 95th percentile reaches 80 % by a linear trend; \"beyond the horizon\" when the trend does not reach it within the forecast horizon of the report date (report.forecast_horizon, default 2 years), a flat or falling trend included."},
	"m.coverage": {"Terhubung = lokasi punya jalur di inventaris; dipantau = salah satu jalurnya punya data pada periode. Riwayat bulanan dihitung per hari UTC.",
		"Connected = the site has a link in the inventory; monitored = one of its links has data in the period. The monthly history is computed by UTC day."},
	"m.evidence": {"Pemetaan ini menunjukkan indikator yang dapat didukung bukti dari bagian laporan; laporan ini tidak memberi nilai atau tingkat kematangan.",
		"The mapping shows which indicators a report section can support as evidence; this report assigns no score or maturity level."},
	// monitoring coverage and contract completeness (coverage.go)
	"data.incomplete": {"data tidak lengkap (< %g %%)", "incomplete data (< %g %%)"},
	"data.complete":   {"lengkap", "complete"},
	"data.running":    {"bulan berjalan", "month running"},
	"m.gap": {"Menit tanpa data adalah celah pemantauan (tidak dihitung) hanya bila collector sendiri mati, tidak ada agen lokasi yang hidup (heartbeat) dan tidak ada rentang terpantau yang dinyatakan; menit tanpa data ketika agen lokasi hidup, juga data susulan yang dikirim agen setelah collector hidup kembali, adalah tanpa data dan mengurangi kelengkapan.",
		"A minute without data is a monitoring gap (left out) only when the collector itself was not running, no agent of the site was alive (heartbeats) and no declared monitored span covers it; a minute without data while the site's agent was alive, including a backlog an agent delivered after the collector came back, is nodata and lowers completeness."},
	"m.contract_completeness": {"Kelengkapan kontrak = waktu bulan kontrak dengan keadaan diketahui (data atau jendela pemeliharaan) / waktu sebulan. Bulan selesai dengan kelengkapan di bawah %g %% ditandai data tidak lengkap dan tidak mengklaim restitusi: waktu yang hilang bisa menyembunyikan gangguan maupun waktu naik.",
		"Contract completeness = time of the contract month with a known state (data or a maintenance window) / time in the month. A finished month under %g %% completeness is marked incomplete data and claims no restitution: the missing time could hide outages as well as up time."},
	"m.monitored_spans": {"Rentang terpantau yang dinyatakan untuk riwayat impor tanpa heartbeat (pantau-collector sla mark-monitored), menit tanpa data di dalamnya dihitung tanpa data: %s.",
		"Declared monitored spans of history imported without heartbeats (pantau-collector sla mark-monitored), in which a minute without data is nodata: %s."},
	"fig.gap":                   {"celah pemantauan", "monitoring gaps"},
	"fig.contract_completeness": {"kelengkapan kontrak", "contract completeness"},
	"fig.monitored_spans":       {"rentang terpantau", "monitored spans"},
	"span.all":                  {"semua lokasi", "every site"},
	"span.site":                 {"lokasi", "site"},
	"span.agent":                {"agen", "agent"},
}

// T returns the text of key in lang.
func T(lang, key string) string {
	v, ok := text[key]
	if !ok {
		return key
	}
	if lang == LangEN {
		return v[1]
	}
	return v[0]
}
