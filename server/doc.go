// Package server is tickflow's HTTP face for a live pipeline:
//
//	GET /             the dashboard (embedded; no CDN): price, EMA, StochRSI K and D,
//	                  buy and sell markers, health and throughput, live over /events
//	GET /events       server-sent events, each with its id: "bars" (a batch of indicator
//	                  updates) and "signal" (one signal), as they reach the Feed
//	GET /api/signals  the most recent signals (?limit=N), oldest first
//	GET /api/symbols  each symbol's latest bar, indicators and last signal
//	GET /api/stats    counters and the pipeline's per-stage stats
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
