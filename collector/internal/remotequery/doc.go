// Package remotequery reads samples back from a remote engine
// (VictoriaMetrics or Prometheus) through its Prometheus HTTP query API,
// as a storage.Queryable. In remote-only mode the collector keeps no
// TSDB: alert rules, SLA capacity reports and its Prometheus-compatible
// /api/v1 run PromQL in the collector over this Queryable. The query API
// is the one read protocol both engines share (VictoriaMetrics has no
// remote read).
//
// # How samples are read
//
// Select turns the matchers into a selector and asks /api/v1/query for
// the instant query {__name__="m",a=~"re"}[<N>s] at time=<window end>.
// Both engines answer a range selector with the raw samples of the
// window as a "matrix": Prometheus through its own engine, which drops
// stale markers; VictoriaMetrics through its export path, which skips
// the query cache and -search.latencyOffset (checked on 1.79.5). Long
// ranges are split into windows of Options.Chunk (24h by default), at
// most four in flight, and merged per series. Window bounds are whole
// seconds (the selected range is widened and the extra samples dropped
// here), because VictoriaMetrics truncates fractional times through
// float64 and may lose a millisecond. Timestamps are parsed from the
// JSON number text, so 1700000000.123 is exactly 1700000000123 ms.
//
// A selector whose matchers all match the empty string gets
// __name__=~".+" (Prometheus rejects it otherwise); a matcher on the
// empty label name is decided locally. A regexp with a dot is sent as
// (?s:…), so "." matches a newline on Prometheus 2 as it does here and
// on Prometheus 3 and VictoriaMetrics. Label names outside
// [a-zA-Z_][a-zA-Z0-9_]* are sent quoted ({"host.name"="x"}), which
// Prometheus 3 parses and Prometheus 2 does not. Native histograms are
// not read: a series with them fails the Select.
//
// # Engine settings operators must know
//
// VictoriaMetrics:
//   - -search.latencyOffset (default 30s) hides the newest 30 s from
//     query_range and from instant queries other than a bare range
//     selector. Selects of this package are not affected on 1.79.5;
//     older releases also shifted bare range selectors near now unless
//     nocache=1 was sent (this package sends it), the oldest always. Set
//     -search.latencyOffset=0s when alerts must see the newest samples
//     on an older release, or Grafana reads the engine directly and
//     must show what alerts see.
//   - Freshly written samples become searchable only after
//     VictoriaMetrics flushes its in-memory buffer, within a few seconds
//     (GET /internal/force_flush does it at once); alerts see data that
//     late.
//   - -dedup.minScrapeInterval must stay unset (or below the shortest
//     probe interval): it keeps one sample per interval, so Selects miss
//     the others.
//   - It drops NaN samples at ingestion and keeps only Prometheus stale
//     markers, which its JSON spells "NaN". This package recognises
//     VictoriaMetrics by its X-Server-Hostname header and turns "NaN"
//     back into stale markers, so PromQL staleness works as on a TSDB.
//   - It stores a block's values as decimal mantissas with a shared
//     exponent: small values next to huge ones in one series lose their
//     digits (3 next to 1.2e19 reads back as 0). Short decimals such as
//     RTTs, ratios and counters below 1e15 read back exactly.
//   - -search.maxQueryDuration (default 30s) bounds each window's
//     export: lower Options.Chunk or raise it for very many series.
//
// Prometheus:
//   - Its query API never returns stale markers, so a series that went
//     stale stays visible to PromQL here for the lookback delta (5m).
//   - --query.max-samples (default 50M) bounds the samples of one
//     window and --query.timeout (default 2m) its time: lower
//     Options.Chunk when a day of all series exceeds them.
//   - Prometheus 2.x range selectors include the lower bound, 3.x does
//     not; the package drops samples outside each window either way.
package remotequery
