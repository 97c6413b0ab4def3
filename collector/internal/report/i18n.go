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

	"m.availability": {"Ketersediaan = menit (naik + terdegradasi) / menit (naik + terdegradasi + putus). Menit pemeliharaan, menit tanpa data dan menit ketika sistem pemantau sendiri mati tidak dihitung.",
		"Availability = (up + degraded) minutes / (up + degraded + down) minutes. Maintenance minutes, minutes without data and minutes when the monitoring itself was down are left out."},
	"m.completeness": {"Kelengkapan = menit dengan data / (menit dengan data + menit tanpa data), di luar pemeliharaan dan saat pemantau mati.",
		"Completeness = minutes with data / (minutes with data + minutes without data), outside maintenance and monitoring downtime."},
	"m.worst": {"Kasus terburuk = menit tanpa data dihitung putus.", "Worst case = minutes without data counted as down."},
	"m.minute": {"Tiap menit tiap jalur diberi status dari probe ICMP: naik bila semua ronde menit itu dijawab dalam ambang rugi paket dan latensi jalur, putus bila tidak ada ronde yang dijawab, terdegradasi selain itu. Ambang bawaan per jenis jalur (serat optik, radio, VSAT, LEO); latensi satelit yang wajar tidak dihitung terdegradasi.",
		"Each minute of each link gets a state from ICMP probes: up when every round in it was answered within the link's loss and latency thresholds, down when no round was answered, degraded otherwise. Default thresholds depend on the link type (fibre, radio, VSAT, LEO); normal satellite latency does not count as degraded."},
	"m.outage": {"Gangguan = rangkaian menit putus berturut-turut; gangguan yang berselang kurang dari jeda penggabungan digabung. MTTR = rata-rata durasi gangguan; MTBF = menit tersedia / jumlah gangguan.",
		"An outage is a maximal run of down minutes; runs closer than the flap merge gap are merged. MTTR = mean outage duration; MTBF = available minutes / number of outages."},
	"m.cause": {"Penyebab: induk bila lokasi induk putus pada sedikitnya separuh menit gangguan; ISP bila agen di lokasi tetap melapor; listrik/agen bila agen lokasi juga diam; tidak diketahui bila lokasi tidak punya agen.",
		"Cause: parent when the parent site was down for at least half of the outage's minutes; ISP when the site's agent kept reporting; power/agent when the site's agent went silent too; unknown when the site has no agent."},
	"m.contract": {"Kontrak ISP per bulan: menit pemeliharaan dan penyebab yang dikecualikan kontrak tidak dihitung; gangguan lebih pendek dari batas minimum tidak dihitung. Restitusi hanya bila target bulan itu tidak tercapai: proporsional = biaya bulanan × menit terhitung / menit sebulan; kelebihan = biaya bulanan × (menit terhitung − menit yang diizinkan target) / menit sebulan; dibulatkan ke bawah ke rupiah.",
		"ISP contract per month: maintenance minutes and causes the contract excludes are not counted; outages shorter than the minimum are not counted. Restitution only when the month misses the target: proportional = monthly fee × counted minutes / minutes in the month; excess = monthly fee × (counted minutes − minutes the target allows) / minutes in the month; rounded down to the rupiah."},
	"m.service": {"Layanan (portal, e-office, perizinan, DNS) diperiksa plugin probe agen (http, dns, tcp): tiap menit naik bila semua pemeriksaan berhasil dalam ambang waktu respons, putus bila semua gagal, terdegradasi selain itu; ketersediaan, gangguan, MTTR dan MTBF dihitung seperti jalur, dengan kalender dan jendela pemeliharaan lokasi tempat layanan berada. Penyebab: jaringan bila semua jalur lokasi itu putus pada sedikitnya separuh menit gangguan; layanan itu sendiri bila jaringannya naik; tidak diketahui bila lokasi tidak punya jalur dengan data.",
		"Services (portal, e-office, licensing, DNS) are checked by the agent's probe plugins (http, dns, tcp): a minute is up when every check in it succeeded within the response-time threshold, down when all failed, degraded otherwise; availability, outages, MTTR and MTBF are computed as for links, with the calendar and maintenance windows of the hosting site. Cause: network when all of the site's links were down for at least half of the outage's minutes; the service itself when its network was up; unknown when the site has no link with data."},
	"m.site": {"Lokasi dengan beberapa jalur dihitung putus hanya bila semua jalurnya putus.", "A site with several links is down only when all of them are."},
	"m.capacity": {"Kapasitas per arah dari laju bit SNMP: rata-rata sampel; persentil ke-95 dari rata-rata 5 menit (peringkat terdekat); puncak sampel; jam tersibuk; volume; utilisasi terhadap bandwidth kontrak, atau kecepatan antarmuka bila tidak ada; prakiraan tanggal persentil ke-95 harian mencapai 80 % menurut tren linear.",
		"Capacity per direction from SNMP bit rates: mean of samples; 95th percentile of 5-minute averages (nearest rank); peak sample; busy hour; volume; utilization against the contracted bandwidth, or the interface speed when none; forecast date at which the daily 95th percentile reaches 80 % by a linear trend."},
	"m.coverage": {"Terhubung = lokasi punya jalur di inventaris; dipantau = salah satu jalurnya punya data pada periode. Riwayat bulanan dihitung per hari UTC.",
		"Connected = the site has a link in the inventory; monitored = one of its links has data in the period. The monthly history is computed by UTC day."},
	"m.evidence": {"Pemetaan ini menunjukkan indikator yang dapat didukung bukti dari bagian laporan; laporan ini tidak memberi nilai atau tingkat kematangan.",
		"The mapping shows which indicators a report section can support as evidence; this report assigns no score or maturity level."},
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
