// Package server is tickflow's HTTP face for a live pipeline:
//
//	GET /             the dashboard (embedded; no CDN): candles and every indicator the
//	                  pipeline computes, by name, buy and sell markers, the wallet,
//	                  health and throughput; history on load, then live over /events
//	GET /static/chart.js  the chart renderer, report.ChartJS(): one for dashboard and report
//	GET /events       server-sent events, each with its id: "bars" (a batch of indicator
//	                  updates) and "signal" (one signal), as they reach the Feed
//	GET /api/signals  the most recent signals (?limit=N), oldest first
//	GET /api/symbols  each symbol's latest bar, indicators and last signal
//	GET /api/history  ?symbol=SYM[&limit=N]: the symbol's latest bars, oldest first
//	GET /api/positions  the Options.Wallet (a paper wallet: cash, positions, P&L); 404 without
//	GET /api/stats    counters, the pipeline's per-stage stats, whether there is a wallet
//	GET /metrics      Prometheus exposition of the Gatherer given
//	GET /healthz      ADR-002's four checks: 200 when all pass, else 503
//	GET /readyz       200 while the pipeline runs, else 503
//
// # The pipeline first
//
// The [Feed] is a pipeline.Sink[market.Event]: tee it beside the other
// sinks. Its Write never waits for a client or a reader: it encodes each
// batch once (with market's JSON encoder, the bytes of JSON lines) into one
// shared ring that every /events client reads at its own pace, and
// publishes each symbol's state through atomic pointers, so API readers
// take no lock that Write takes. A client that falls a ring behind, or
// whose write times out, is disconnected and counted
// (tickflow_sse_clients_dropped_total). /api/symbols is served from a
// snapshot rebuilt at most every Options.SnapshotInterval.
//
//	pipeline ──Write──▶ Feed ──encode once──▶ ring ◀──read at own pace── client ──▶ browser
//	                     │ states (atomic)           (behind the ring: dropped)
//	                     └──▶ snapshot ──▶ /api/symbols (same bytes for every reader)
//
// Connections, /events clients and API requests are bounded
// (Options.MaxConnections, MaxSSEClients, MaxAPIRequests): beyond a bound a
// request is answered 503 with Retry-After and counted in
// tickflow_http_rejected_total{reason}. Serve sets read-header, write and
// idle timeouts; /events moves its write deadline at each write.
//
// # Indicators by name
//
// The events' records carry whichever indicators the pipeline computes,
// named by their schema (market.Schema: ema, stochrsi_k, stochrsi_d first,
// then the user's, such as macd, macd_signal, macd_hist and slow). They
// appear by those names everywhere:
//
//   - /events "bars" items are the records of `tickflow run --emit
//     indicators` (symbol, time, close, then every value by name, null
//     while undefined), followed by "open", "high", "low", "volume" and,
//     on a bar with a signal, "signal":"buy"|"sell". A key other than
//     these eight fixed ones is an indicator.
//   - /api/symbols keeps ema, stochrsi_k and stochrsi_d at the top level,
//     as before, and adds "indicators": every value of the record by name,
//     in the schema's order ([Values]).
//   - /api/history answers {"symbol", "indicators": [names in order],
//     "bars": [items as in "bars"]}. The Feed keeps Options.History bars
//     (default 500) for each of the first Options.HistorySymbols symbols
//     (default 200), in blocks written once and published with each
//     symbol's state, so a reader takes no lock that Write takes.
//
// The dashboard subscribes to /events first, then reads /api/symbols and
// the selected symbol's /api/history, so that its chart holds every bar
// once, without a gap; it lists every indicator in the symbols table and
// the legend, draws those on the price's scale over the candles and gives
// the others (grouped by the name before "_": macd with macd_signal and
// macd_hist) panels of their own; oscillators (stochrsi, rsi, stoch, mfi)
// on 0 to 100 with their thresholds.
//
// # Who may ask
//
// Every request's Host must name the server (its listener's IP, loopback
// names on loopback, or Options.Hosts), so that a page of another site
// cannot read the API by rebinding its own name to this address. With
// Options.Token set, every route requires it, as "Authorization: Bearer
// <token>" or as the session cookie that opening the dashboard once at
// /?token=<token> sets (HttpOnly, SameSite=Strict; the redirect drops the
// token from the address). Serve refuses to listen beyond loopback
// without a token. No route sends CORS headers.
package server
