// Package limit bounds outbound work (REST calls, orders, webhooks, store
// writes) with a concurrency limit that adapts to the remote side: it shrinks
// when the remote says it is overloaded (429, 503, a timeout) and grows back
// while calls succeed, never above the configured maximum. It is the
// "automatic scaling down of concurrency" of ADR-002's risk 2.
//
//	caller ──Acquire(ctx)──▶ [limit L: in flight ≤ L] ──▶ remote
//	   ▲                         │ FIFO queue of waiters
//	   └──release(Success | Overload | Failure)  ──▶ AIMD adjusts L in [Min, Max]
//
// # Algorithm (AIMD, as TCP congestion avoidance)
//
//   - Additive increase: after L successes at limit L (one window), L grows
//     by Config.Increase (default 1), up to Config.Max. A success counts only
//     when the limit was in use (at least half of L in flight when it
//     finished), so an idle caller does not drift up to Max and then flood
//     the remote.
//   - Multiplicative decrease: an Overload sets L to floor(L × Backoff)
//     (default 0.75), by at least 1, not below Config.Min. Overloads of
//     calls acquired before the last decrease do not decrease again: a burst
//     of 429s answering one round of calls shrinks L once, not once per call.
//   - Failure (any other error) neither grows nor shrinks L.
//   - Optional latency gradient (Config.LatencyTolerance > 1): at the end of
//     each success window, if the window's mean latency exceeds
//     LatencyTolerance × the baseline, the window counts as an overload,
//     and L is multiplied by the smaller of Backoff and baseline/mean (the
//     gradient: the share of L that the remote serves at its unloaded
//     latency), so that the next windows run unloaded and keep the baseline
//     true. The baseline is the lowest window mean seen, raised by 1/16 of
//     the gap toward each later window's mean, so that a lasting slow-down
//     of the remote is learned within a few dozen windows (meanwhile the
//     limit may fall to Min). Initial defaults to Min then, so that the
//     baseline is learned unloaded.
//
// Latency is measured by the limiter from the grant to the release (only
// with the latency signal on).
//
// With a remote that rejects calls above N in flight, L settles in a saw
// tooth between about Backoff × (N+1) and N+1 (the tests pin the band).
//
// [Transport] wraps an http.RoundTripper with a Limiter in one line.
package limit
