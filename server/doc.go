// Package server is tickflow's HTTP face for a live pipeline:
//
//	GET /             the dashboard (embedded; no CDN): price, EMA, StochRSI K and D,
//	                  buy and sell markers, health and throughput, live over /events
//	GET /events       server-sent events: "bars" (a batch of indicator updates) and
//	                  "signal" (one signal), as they reach the Feed
//	GET /api/signals  the most recent signals (?limit=N), oldest first
//	GET /api/symbols  each symbol's latest bar, indicators and last signal
//	GET /api/stats    counters and the pipeline's per-stage stats
//	GET /metrics      Prometheus exposition of the Gatherer given
//	GET /healthz      ADR-002's four checks: 200 when all pass, else 503
//	GET /readyz       200 while the pipeline runs, else 503
//
// The [Feed] is a pipeline.Sink[market.Event]: tee it beside the other
// sinks. Its Write never waits for a client: each /events client has a
// bounded queue, and a client whose queue is full is disconnected and
// counted (tickflow_sse_clients_dropped_total), so a slow or stuck browser
// never slows the pipeline.
//
//	pipeline ──Write──▶ Feed ──non-blocking──▶ client queue ──▶ handler ──▶ browser
//	                     │ state: symbols, recent signals       (full: client dropped)
//	                     └──▶ /api/*
package server
