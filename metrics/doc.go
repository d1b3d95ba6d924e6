// Package metrics exports a tickflow pipeline's work as Prometheus metrics,
// under ADR-002's names where the ADR names them:
//
//	async_operation_duration_seconds{operation_type}  histogram: one stage batch, one webhook request
//	active_async_tasks                                gauge: pipeline goroutines running + requests in flight
//	async_errors_total{operation_type,error_type}     counter: failed keys, failed requests
//
// and tickflow's own under the tickflow_ prefix: per-stage items in and out,
// queue depth, workers, busy time, drops per edge, bars, signals by side, the
// latency from a bar's arrival to its signal, retries, discarded requests,
// rate-limit waits and circuit-breaker state.
//
// Wiring, with m from [New] (the Registerer is passed in; nothing is global):
//
//	source ──m.Source(src)──▶ stages ──▶ fan-out ──▶ m.Sink(), other sinks
//	             │ arrival time per bar        │ bars, signals, latency
//	pipeline.Config{Observer: m}  ─ per batch: durations, items, drops, errors
//	m.WatchPipeline(p)            ─ at scrape: queue depth, workers, busy time
//
// The Observer methods and the source and sink wrappers do not allocate
// once a stage or symbol has been seen.
package metrics
