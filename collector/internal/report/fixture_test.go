package report

import (
	"time"

	"github.com/pantau-noc/pantau/collector/internal/sla"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// Fixed zones, so the fixture does not depend on the system's tzdata.
var (
	fixWIB = time.FixedZone("WIB", 7*3600)
	fixWIT = time.FixedZone("WIT", 9*3600)
)

func fixPct(v float64) *float64 { return &v }

func fixBool(b bool) *bool { return &b }

// fixFigures fills the seconds of figures given in minutes.
func fixFigures(f sla.Figures) sla.Figures {
	sec := func(m float64) int64 { return int64(60 * m) }
	f.Seconds, f.UpSeconds, f.DegradedSeconds, f.DownSeconds = sec(f.Minutes), sec(f.Up), sec(f.Degraded), sec(f.Down)
	f.MaintSeconds, f.NoDataSeconds, f.MonitoringSeconds = sec(f.Maint), sec(f.NoData), sec(f.Monitoring)
	return f
}

// fixDowntime is the down time by cause in minutes, and MTTR and MTBF.
func fixDowntime(byCause map[string]int, mttr, mtbf *float64) sla.Downtime {
	d := sla.Downtime{DowntimeByCause: map[string]float64{}, DowntimeByCauseSeconds: map[string]int64{}, MTTRMinutes: mttr, MTBFMinutes: mtbf}
	for k, v := range byCause {
		d.DowntimeByCause[k], d.DowntimeByCauseSeconds[k] = float64(v), 60*int64(v)
	}
	if mttr != nil {
		a, b := 60**mttr, 60**mtbf
		d.MTTRSeconds, d.MTBFSeconds = &a, &b
	}
	return d
}

// fixDaily is 31 days at 100 % with some days changed (nil: no data).
func fixDaily(changes map[int]*float64) []*float64 {
	out := make([]*float64, 31)
	for i := range out {
		if v, ok := changes[i+1]; ok {
			out[i] = v
			continue
		}
		out[i] = fixPct(100)
	}
	return out
}

// fixtureReport is a small but complete report for October 2026 of a
// kabupaten with sites in WIB and WIT, built by hand (not by Build) so the
// renderers can be tested on their own. Its numbers are consistent with
// each other. Some free text carries characters HTML must escape.
func fixtureReport(lang string) *Report {
	if lang != LangEN {
		lang = LangID
	}
	const month = 31 * 1440
	r := &Report{
		Lang:        lang,
		Title:       T(lang, "title"),
		Scope:       Scope{Kind: "pemda", Name: T(lang, "scope.pemda")},
		Period:      "2026-10",
		Start:       time.Date(2026, 10, 1, 0, 0, 0, 0, fixWIB),
		End:         time.Date(2026, 11, 1, 0, 0, 0, 0, fixWIB),
		TimeZone:    T(lang, "tz.per_site"),
		GeneratedAt: time.Date(2026, 11, 2, 8, 30, 0, 0, fixWIB),
		Generator:   "pantau-collector v0.9.0-test",
	}
	for _, k := range []string{"m.minute", "m.availability", "m.completeness", "m.worst", "m.contract", "m.evidence"} {
		r.Methods = append(r.Methods, Note{Figure: k[2:], Method: T(lang, k)})
	}

	r.Summary = Summary{
		Sites: 3, Links: 3, LinksWithData: 3, LinksMeetingSLA: 2, LinksMissingSLA: 1,
		Availability:     fixPct(99.21887084300077),
		Completeness:     fixPct(96.72351885098743),
		WorstCase:        fixPct(95.96798324356672),
		SiteAvailability: fixPct(99.02145720348973),
		Services:         2, ServicesWithData: 2, ServicesMeetingSLA: 1, ServicesMissingSLA: 1,
		ServiceAvailability: fixPct(99.49443882709808), ServiceOutages: 3, ServiceDowntimeMinutes: 450, ServiceDowntimeSeconds: 27000,
		Outages:         6,
		DowntimeMinutes: 1010,
		DowntimeSeconds: 60600,
		// dinkes 30 + dist-sentani 800 (the sites below)
		SiteDowntimeMinutes: 830, SiteDowntimeSeconds: 49800,
		DowntimeByCause:        map[string]float64{"isp": 770, "parent": 30, "power": 210},
		DowntimeByCauseSeconds: map[string]int64{"isp": 46200, "parent": 1800, "power": 12600},
		Restitution:            173611,
		RestitutionProvisional: 0,
		CoverageOPD:            fixPct(100),
		CoverageDistrict:       fixPct(50),
		OpenFollowUps:          1, ClosedFollowUps: 1, ExpiringWithin90d: 3,
	}
	r.Coverage = Coverage{
		OPDTotal: 1, OPDMonitored: 1, DistrictTotal: 2, DistrictMonitored: 1,
		NotMonitored: []Unmonitored{{Site: "dist-waena", Name: "Kantor Distrik Waena", Kind: "district", OPD: "kominfo", Reason: T(lang, "reason.no_link")}},
		History: []CoverageMonth{
			{Month: "2026-08", OPDTotal: 1, OPDMonitored: 1, DistrictTotal: 2, DistrictMonitored: 0},
			{Month: "2026-09", OPDTotal: 1, OPDMonitored: 1, DistrictTotal: 2, DistrictMonitored: 1},
			{Month: "2026-10", OPDTotal: 1, OPDMonitored: 1, DistrictTotal: 2, DistrictMonitored: 1},
		},
	}

	vsatDaily := fixDaily(map[int]*float64{
		3: fixPct(99.65277777777777), 9: fixPct(99.30555555555556), 14: fixPct(77.08333333333333), 18: fixPct(87.5),
		24: fixPct(99.30555555555556), 25: nil, 26: nil, 27: nil, 30: fixPct(95.13888888888889), 31: fixPct(86.52482269503547),
	})
	r.Sites = []SiteRow{
		{
			Site: "dinkes", Name: "Dinas Kesehatan", Kind: "opd", OPD: "dinkes", TimeZone: "WIB (Asia/Jakarta)", Links: 2,
			Figures: fixFigures(sla.Figures{Minutes: month, Up: 44470, Degraded: 20, Down: 30, Maint: 120,
				Availability: fixPct(99.93261455525607), Completeness: fixPct(100), WorstCase: fixPct(99.93261455525607)}),
			Target: 99.5, Met: fixBool(true), Outages: 1, Downtime: fixDowntime(map[string]int{"parent": 30}, fixPct(30), fixPct(44490)),
			Daily: fixDaily(map[int]*float64{21: fixPct(97.91666666666667)}),
		},
		{
			Site: "dist-sentani", Name: "Kantor Distrik Sentani", Kind: "district", OPD: "kominfo", District: "Sentani", TimeZone: "WIT (Asia/Jayapura)", Links: 1,
			Figures: fixFigures(sla.Figures{Minutes: month, Up: 38000, Degraded: 1500, Down: 800, NoData: 4340,
				Availability: fixPct(98.01488833746899), Completeness: fixPct(90.27777777777779), WorstCase: fixPct(88.48566308243727)}),
			Target: 99, Met: fixBool(false), Outages: 3, Downtime: fixDowntime(map[string]int{"isp": 620, "power": 180}, fixPct(266.6666666666667), fixPct(13166.666666666666)),
			Daily: vsatDaily,
		},
		{
			Site: "dist-waena", Name: "Kantor Distrik Waena", Kind: "district", OPD: "kominfo", District: "Waena", TimeZone: "WIT (Asia/Jayapura)",
			Figures: fixFigures(sla.Figures{Minutes: month, NoData: month}),
			Target:  99, Downtime: fixDowntime(map[string]int{}, nil, nil),
		},
	}
	r.Links = []LinkRow{
		{
			Link: "dinkes-fo", Name: "Dinkes serat optik Telkom", Site: "dinkes", OPD: "dinkes", Type: "fibre", ISP: "Telkom", Circuit: "4700123-INET", TimeZone: "WIB (Asia/Jakarta)",
			Figures: fixFigures(sla.Figures{Minutes: month, Up: 44100, Degraded: 200, Down: 180, Maint: 120, NoData: 40,
				Availability: fixPct(99.59532374100719), Completeness: fixPct(99.91015274034142), WorstCase: fixPct(99.5058400718778)}),
			Target: 99.5, Met: fixBool(true), Outages: 2, Downtime: fixDowntime(map[string]int{"isp": 150, "power": 30}, fixPct(90), fixPct(22150)),
			Daily: fixDaily(map[int]*float64{12: fixPct(89.58333333333333), 21: fixPct(97.91666666666667)}),
		},
		{
			Link: "dinkes-radio", Name: "Dinkes radio cadangan", Site: "dinkes", OPD: "dinkes", Type: "radio", ISP: "Diskominfo", Circuit: "", TimeZone: "WIB (Asia/Jakarta)",
			Figures: fixFigures(sla.Figures{Minutes: month, Up: 44470, Degraded: 20, Down: 30, Maint: 120,
				Availability: fixPct(99.93261455525607), Completeness: fixPct(100), WorstCase: fixPct(99.93261455525607)}),
			Target: 99, Met: fixBool(true), Outages: 1, Downtime: fixDowntime(map[string]int{"parent": 30}, fixPct(30), fixPct(44490)),
			Daily: fixDaily(map[int]*float64{21: fixPct(97.91666666666667)}),
		},
		{
			Link: "sentani-vsat", Name: "Sentani VSAT Telkomsat", Site: "dist-sentani", OPD: "kominfo", Type: "vsat", ISP: "Telkomsat", Circuit: "VSAT-SNT-01", TimeZone: "WIT (Asia/Jayapura)",
			Figures: fixFigures(sla.Figures{Minutes: month, Up: 38000, Degraded: 1500, Down: 800, NoData: 4340,
				Availability: fixPct(98.01488833746899), Completeness: fixPct(90.27777777777779), WorstCase: fixPct(88.48566308243727)}),
			Target: 99, Met: fixBool(false), Outages: 3, Downtime: fixDowntime(map[string]int{"isp": 620, "power": 180}, fixPct(266.6666666666667), fixPct(13166.666666666666)),
			Daily: vsatDaily,
		},
	}
	r.Services = []ServiceRow{
		{
			Service: "portal", Name: "Portal Resmi Pemda <www>", Category: "portal", URL: "https://portal.example.go.id/", Site: "dinkes", OPD: "kominfo",
			Check: "http portal", TimeZone: "WIB (Asia/Jakarta)",
			Figures: fixFigures(sla.Figures{Minutes: month, Up: 44500, Degraded: 60, Down: 50, Maint: 30,
				Availability: fixPct(99.88791750728537), Completeness: fixPct(100), WorstCase: fixPct(99.88791750728537)}),
			Target: 99, Met: fixBool(true), Outages: 2, Downtime: fixDowntime(map[string]int{"service": 35, "network": 15}, fixPct(25), fixPct(22280)),
			Daily: fixDaily(map[int]*float64{12: fixPct(97.56944444444444), 21: fixPct(98.95833333333334)}),
		},
		{
			Service: "eoffice", Name: "E-Office", Category: "e-office", Site: "dinkes", OPD: "dinkes",
			Check: "http eoffice", TimeZone: "WIB (Asia/Jakarta)",
			Figures: fixFigures(sla.Figures{Minutes: month, Up: 44000, Down: 400, NoData: 240,
				Availability: fixPct(99.09909909909909), Completeness: fixPct(99.46236559139785), WorstCase: fixPct(98.56630824372759)}),
			Target: 99.5, Met: fixBool(false), Outages: 1, Downtime: fixDowntime(map[string]int{"service": 400}, fixPct(400), fixPct(44000)),
			Daily: fixDaily(map[int]*float64{7: fixPct(83.33333333333334), 8: fixPct(88.88888888888889)}),
		},
	}
	r.Incidents = []Incident{
		{Service: "eoffice", Site: "dinkes", Start: time.Date(2026, 10, 7, 20, 0, 0, 0, fixWIB), End: time.Date(2026, 10, 8, 2, 40, 0, 0, fixWIB),
			DurationMinutes: 400, DownMinutes: 400, InPeriodMinutes: 400, Cause: "service"},
		{Link: "dinkes-fo", Site: "dinkes", Start: time.Date(2026, 10, 12, 9, 15, 0, 0, fixWIB), End: time.Date(2026, 10, 12, 11, 45, 0, 0, fixWIB),
			DurationMinutes: 150, DownMinutes: 150, InPeriodMinutes: 150, Cause: "isp", ContractCounted: true},
		{Service: "portal", Site: "dinkes", Start: time.Date(2026, 10, 12, 13, 0, 0, 0, fixWIB), End: time.Date(2026, 10, 12, 13, 35, 0, 0, fixWIB),
			DurationMinutes: 35, DownMinutes: 35, InPeriodMinutes: 35, Cause: "service"},
		{Link: "sentani-vsat", Site: "dist-sentani", Start: time.Date(2026, 10, 14, 13, 5, 0, 0, fixWIT), End: time.Date(2026, 10, 14, 18, 35, 0, 0, fixWIT),
			DurationMinutes: 330, DownMinutes: 330, InPeriodMinutes: 330, Cause: "isp", ContractCounted: true},
		{Link: "sentani-vsat", Site: "dist-sentani", Start: time.Date(2026, 10, 18, 2, 0, 0, 0, fixWIT), End: time.Date(2026, 10, 18, 5, 0, 0, 0, fixWIT),
			DurationMinutes: 180, DownMinutes: 180, InPeriodMinutes: 180, Cause: "power"},
		{Link: "dinkes-fo", Site: "dinkes", Start: time.Date(2026, 10, 21, 19, 40, 0, 0, fixWIB), End: time.Date(2026, 10, 21, 20, 10, 0, 0, fixWIB),
			DurationMinutes: 30, DownMinutes: 30, InPeriodMinutes: 30, Cause: "power"},
		{Link: "dinkes-radio", Site: "dinkes", Start: time.Date(2026, 10, 21, 19, 40, 0, 0, fixWIB), End: time.Date(2026, 10, 21, 20, 10, 0, 0, fixWIB),
			DurationMinutes: 30, DownMinutes: 30, InPeriodMinutes: 30, Cause: "parent"},
		{Service: "portal", Site: "dinkes", Start: time.Date(2026, 10, 21, 19, 40, 0, 0, fixWIB), End: time.Date(2026, 10, 21, 19, 55, 0, 0, fixWIB),
			DurationMinutes: 15, DownMinutes: 15, InPeriodMinutes: 15, Cause: "network"},
		{Link: "sentani-vsat", Site: "dist-sentani", Start: time.Date(2026, 10, 30, 22, 50, 0, 0, fixWIT), End: time.Date(2026, 10, 31, 3, 40, 0, 0, fixWIT),
			DurationMinutes: 320, DownMinutes: 290, MaintenanceMinutes: 30, InPeriodMinutes: 290, Cause: "isp", ContractCounted: true},
	}
	r.Contracts = []ContractRow{
		{Link: "dinkes-fo", ISP: "Telkom", Circuit: "4700123-INET", ContractMonth: sla.ContractMonth{
			Month: "2026-10", Active: true, PeriodMinutes: month, PeriodSeconds: 60 * month, CountedMinutes: 150, CountedSeconds: 9000,
			ExcludedMinutes: map[string]float64{"maintenance": 120, "power": 30}, ExcludedSeconds: map[string]int64{"maintenance": 7200, "power": 1800},
			AllowedMinutes: 223, AllowedSeconds: 13380,
			Availability: 99.66397849462365, Target: 99.5, Met: true, MonthlyFee: 7500000, Formula: "proportional", Restitution: 0,
			Final: true, Claimable: true, Outages: []int{0}, CountedOutages: 1}},
		{Link: "sentani-vsat", ISP: "Telkomsat", Circuit: "VSAT-SNT-01", ContractMonth: sla.ContractMonth{
			Month: "2026-10", Active: true, PeriodMinutes: month, PeriodSeconds: 60 * month, CountedMinutes: 620, CountedSeconds: 37200,
			ExcludedMinutes: map[string]float64{"power": 180}, ExcludedSeconds: map[string]int64{"power": 10800},
			AllowedMinutes: 446, AllowedSeconds: 26760,
			Availability: 98.61111111111111, Target: 99, Met: false, MonthlyFee: 12500000, Formula: "proportional", Restitution: 173611,
			Final: true, Claimable: true, Outages: []int{0, 2}, CountedOutages: 2}},
	}
	for i := range r.Incidents {
		in := &r.Incidents[i]
		in.DurationSeconds, in.DownSeconds = int64(60*in.DurationMinutes), int64(60*in.DownMinutes)
		in.MaintenanceSeconds, in.InPeriodSeconds = int64(60*in.MaintenanceMinutes), int64(60*in.InPeriodMinutes)
	}
	r.Capacity = []CapacityRow{
		{Link: "dinkes-fo", Site: "dinkes", Direction: "in", CapacityBps: 100e6, CapacitySource: "contract", Samples: 8928,
			MeanBps: 34.5e6, P95Bps: 78.25e6, PeakBps: 96.1e6, BusyHour: 10, VolumeBytes: 11536416000000,
			MeanUtilization: fixPct(34.5), P95Utilization: fixPct(78.25), PeakUtilization: fixPct(96.1),
			TrendBpsPerDay: fixPct(120000.5), Forecast80: func() *time.Time { t := time.Date(2026, 12, 15, 0, 0, 0, 0, fixWIB); return &t }()},
		{Link: "dinkes-fo", Site: "dinkes", Direction: "out", CapacityBps: 100e6, CapacitySource: "contract", Samples: 8928,
			MeanBps: 8.2e6, P95Bps: 19.75e6, PeakBps: 41e6, BusyHour: 14, VolumeBytes: 2741990400000,
			MeanUtilization: fixPct(8.2), P95Utilization: fixPct(19.75), PeakUtilization: fixPct(41)},
		{Link: "sentani-vsat", Site: "dist-sentani", Direction: "in", CapacitySource: "unknown", BusyHour: -1},
	}
	r.Reviews = []statedb.Review{
		{ID: 1, Month: "2026-10", HeldOn: "2026-10-28", Participants: "Diskominfo (Bidang TIK) & Dinkes; Distrik Sentani",
			Findings: "VSAT Sentani di bawah target: rugi paket > 2 % pada jam sibuk <14:00–16:00>."},
	}
	r.FollowUps = []statedb.FollowUp{
		{ID: 1, ReviewID: 1, Opened: "2026-10-28", Item: "Minta Telkomsat memeriksa VSAT Sentani dan klaim restitusi Oktober", Owner: "Bidang TIK Diskominfo",
			Due: "2026-11-15", Status: statedb.StatusBelum, Updated: "2026-10-31"},
		{ID: 2, ReviewID: 1, Opened: "2026-10-28", Item: "Pasang UPS di Kantor Distrik Sentani", Owner: "Distrik Sentani",
			Due: "2026-10-31", Status: statedb.StatusSelesai, Evidence: "BA-017/2026", Updated: "2026-10-30"},
	}
	r.Changes = []Change{
		{At: time.Date(2026, 10, 19, 16, 2, 11, 0, fixWIB), ActorKind: "user", ActorID: "budi", Actor: "budi",
			Action: "POST /api/v1/maintenance", Object: "maintenance/7", Summary: "link dinkes-fo 2026-10-20 08:00–10:00 WIB: ganti perangkat <ONT> & kabel"},
		{At: time.Date(2026, 10, 28, 14, 30, 0, 0, fixWIB), ActorKind: "cli", ActorID: "root", Actor: "root",
			Action: "cli review add", Object: "review/1", Summary: "review 2026-10 held 2026-10-28"},
	}
	r.Assets = []Asset{
		{Device: "dinkes-rtr1", Site: "dinkes", OPD: "dinkes", Vendor: "MikroTik", Model: "CCR2004-16G-2S+", Serial: "HE108A1B2C3", YearAcquired: 2023,
			AssetCode: "02.06.02.01.001", WarrantyEnd: "2026-12-31"},
		{Device: "sentani-modem", Site: "dist-sentani", OPD: "kominfo", Vendor: "Hughes", Model: "HT2000W", Serial: "HT2K-00931",
			AssetCode: "02.06.02.04.017", WarrantyEnd: "2026-11-20", ContractEnd: "2027-03-31"},
	}
	r.Expiries = []Expiry{
		{What: "warranty", ID: "sentani-modem", Site: "dist-sentani", Detail: "Hughes HT2000W HT2K-00931", Ends: "2026-11-20", DaysLeft: 18},
		{What: "isp_contract", ID: "dinkes-fo", Site: "dinkes", Detail: "Telkom 4700123-INET", Ends: "2026-12-31", DaysLeft: 59},
		{What: "warranty", ID: "dinkes-rtr1", Site: "dinkes", Detail: "MikroTik CCR2004-16G-2S+ HE108A1B2C3", Ends: "2026-12-31", DaysLeft: 59},
	}
	intra := Indicator{Number: 17, Name: "Layanan Jaringan Intra", Aspect: "Teknologi Informasi dan Komunikasi"}
	dc := Indicator{Number: 16, Name: "Layanan Pusat Data", Aspect: "Teknologi Informasi dan Komunikasi"}
	svc := Indicator{Number: 28, Name: "Manajemen Layanan SPBE", Aspect: "Penerapan Manajemen SPBE"}
	asset := Indicator{Number: 24, Name: "Manajemen Aset TIK", Aspect: "Penerapan Manajemen SPBE"}
	note := func(id, en string) string {
		if lang == LangEN {
			return en
		}
		return id
	}
	r.Evidence = []Evidence{
		{Section: "summary", Title: T(lang, "summary"), Indicators: []Indicator{intra, dc},
			Note: note("Ketersediaan jaringan intra dan pusat data, diukur tiap menit.", "Availability of the intra network and data centre, measured every minute.")},
		{Section: "contracts", Title: T(lang, "contracts"), Indicators: []Indicator{svc},
			Note: note("Pemenuhan SLA kontrak ISP dan restitusi yang dapat diklaim.", "ISP contract SLA compliance and the restitution that can be claimed.")},
		{Section: "assets", Title: T(lang, "assets"), Indicators: []Indicator{asset},
			Note: note("Daftar aset TIK dengan kode BMD, garansi dan kontrak.", "TIK asset register with asset code, warranty and contracts.")},
	}
	fixIncidentRecords(r)
	return r
}

// fixIncidentRecords gives the fixture's incidents their kinds and three
// operators' records, one with a cause override, and the Pareto and MTTR.
func fixIncidentRecords(r *Report) {
	for i := range r.Incidents {
		in := &r.Incidents[i]
		in.Detected, in.Kind = true, KindLink
		if in.Service != "" {
			in.Kind = KindService
		}
	}
	rec := func(i int, ticket, cat, src, officer, impact, action, override, reason string) {
		in := &r.Incidents[i]
		target := in.Link
		if in.Service != "" {
			target = in.Service
		}
		r.Incidents[i].Record = &statedb.Incident{ID: int64(i + 1), Scope: in.Kind, Target: target, Start: in.Start.UTC(), Detected: true,
			Ticket: ticket, Category: cat, Source: src, Officer: officer, Impact: impact, Action: action, CauseOverride: override, OverrideReason: reason,
			Created: r.GeneratedAt.UTC(), Updated: r.GeneratedAt.UTC()}
	}
	rec(1, "TIK/2026/10/017", "fo_putus", "whatsapp", "Andi", "Dinkes & 3 puskesmas tanpa internet", "Sambung ulang FO <ruas Jl. Merdeka>", "", "")
	rec(3, "TS-88812", "isp", "otomatis", "Yohanis", "Distrik Sentani tanpa internet", "Eskalasi ke Telkomsat", "", "")
	rec(4, "", "listrik", "telepon", "Yohanis", "Distrik Sentani", "Genset dinyalakan", "", "")
	rec(5, "TIK/2026/10/031", "perangkat", "tiket", "Andi", "Dinkes", "Ganti UPS", "parent", "UPS DC rusak, bukan listrik lokasi")
	r.IncidentPareto, r.IncidentMTTR = categoryTables(r.Lang, r.Incidents)
	r.UnmatchedIncidentRecords = []statedb.Incident{}
}
