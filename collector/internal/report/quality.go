package report

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/sla"
	pstore "github.com/pantau-noc/pantau/collector/internal/storage"
)

// QualitySource gives a link's ICMP round-trip times (seconds) and loss
// ratios (0 to 1) in [start, end): the probe rounds' own values.
type QualitySource interface {
	Quality(ctx context.Context, l *inventory.Link, start, end time.Time) (rtt, loss []float64, err error)
}

// LinkQuality is a link's RTT and loss over the period: the mean and
// 95th percentile (nearest rank) of the probe rounds' mean RTT, and the
// mean loss, in percent.
type LinkQuality struct {
	Link      string   `json:"link"`
	Rounds    int      `json:"rounds"`
	RTTMeanMs *float64 `json:"rtt_mean_ms"`
	RTTP95Ms  *float64 `json:"rtt_p95_ms"`
	LossPct   *float64 `json:"loss_pct"`
}

// TSDBQuality reads pantau_icmp_rtt_avg_seconds and
// pantau_icmp_loss_ratio of a link (by its link label) from a TSDB.
type TSDBQuality struct{ Q storage.Queryable }

// Quality implements QualitySource.
func (t TSDBQuality) Quality(ctx context.Context, l *inventory.Link, start, end time.Time) (rtt, loss []float64, err error) {
	q, err := t.Q.Querier(start.UnixMilli(), end.UnixMilli()-1)
	if err != nil {
		return nil, nil, fmt.Errorf("query TSDB: %w", err)
	}
	defer q.Close()
	read := func(metric string, out *[]float64) error {
		ms := []*labels.Matcher{
			labels.MustNewMatcher(labels.MatchEqual, model.MetricNameLabel, metric),
			labels.MustNewMatcher(labels.MatchEqual, "link", l.ID),
		}
		return pstore.ReadSeries(ctx, q, ms, func(_ int64, v float64) {
			if !math.IsNaN(v) && !math.IsInf(v, 0) && v >= 0 {
				*out = append(*out, v)
			}
		})
	}
	if err := read("pantau_icmp_rtt_avg_seconds", &rtt); err != nil {
		return nil, nil, fmt.Errorf("read RTT of %s: %w", l.ID, err)
	}
	if err := read("pantau_icmp_loss_ratio", &loss); err != nil {
		return nil, nil, fmt.Errorf("read loss of %s: %w", l.ID, err)
	}
	return rtt, loss, nil
}

// linkQuality summarises a link's rounds.
func linkQuality(link string, rtt, loss []float64) LinkQuality {
	q := LinkQuality{Link: link, Rounds: max(len(rtt), len(loss))}
	if len(rtt) > 0 {
		var sum float64
		for _, v := range rtt {
			sum += v
		}
		mean := 1000 * sum / float64(len(rtt))
		s := slices.Clone(rtt)
		slices.Sort(s)
		// nearest rank: the ⌈0.95 n⌉-th value
		p95 := 1000 * s[int(math.Ceil(0.95*float64(len(s))))-1]
		q.RTTMeanMs, q.RTTP95Ms = &mean, &p95
	}
	if len(loss) > 0 {
		var sum float64
		for _, v := range loss {
			sum += v
		}
		pct := 100 * sum / float64(len(loss))
		q.LossPct = &pct
	}
	return q
}

// sheetQuality reads the RTT and loss of the sheet's links, each over its
// site's calendar period.
func sheetQuality(ctx context.Context, in Input, src QualitySource, r *Report) ([]LinkQuality, error) {
	var out []LinkQuality
	for _, lr := range r.Links {
		l := in.Inv.Link(lr.Link)
		s := in.Inv.Site(lr.Site)
		if l == nil || s == nil {
			continue
		}
		p := (sla.Period{Start: r.Start, End: r.End}).In(s.Location)
		rtt, loss, err := src.Quality(ctx, l, p.Start, p.End)
		if err != nil {
			return nil, err
		}
		out = append(out, linkQuality(l.ID, rtt, loss))
	}
	return out, nil
}
