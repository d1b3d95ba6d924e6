// Package alpaca is tickflow's integration with Alpaca (alpaca.markets),
// both directions: market data in, orders out.
//
// One [Client] holds what every component shares: the credentials (from
// Alpaca's own APCA_API_KEY_ID and APCA_API_SECRET_KEY unless set), the
// data, trading and stream URLs, the paper/live guard (live only with
// Config.Live), the token bucket, the circuit breaker, the transport, the
// adaptive bound on requests in flight (MaxConcurrentRequests) and the retry
// policy. The components take it as their Client:
//
//   - [Bars] fetches history for many symbols from the REST API, in
//     batches, MaxConcurrentSymbols at a time, emitted in a fixed order.
//   - [Stream] streams live minute bars from the websocket after a REST
//     warm-up, reconnecting, back-filling gaps and never blocking the SDK.
//   - [TradeUpdates] streams the account's order events.
//   - [Orders] (NewOrders) turns signals into orders: paper by default,
//     idempotent client order ids, a position check per symbol.
//
// All of them go out through the one I/O layer:
//
//	          ┌── Bars ─────────┐
//	Client ───┼── Stream ───────┼── internal I/O layer: retry policy (body
//	          ├── TradeUpdates ─┤   included), per-attempt timeout, token
//	          └── Orders ───────┘   bucket, breaker, observation
//
// Errors are one set whichever component returns them: test with
// errors.Is against [ErrAuth], [ErrConfig], [ErrLiveNotAllowed],
// [ErrRetries], [ErrCircuitOpen], [ErrRecentSIP], [ErrNoBars],
// [ErrInvalid], [ErrGap] and [ErrOrderUnknown]. Credentials never appear in
// errors or logs.
//
// Every outbound operation (OpREST, OpStreamConnect, OpOrder,
// OpTradeUpdates) is reported to Config.Observer: *metrics.Metrics turns
// them into the ADR's metrics, *health.Monitor into api_connectivity.
//
// Package alpacatest is a loopback fake of Alpaca (REST, streams, orders,
// trade updates, injected faults) for tests.
package alpaca
