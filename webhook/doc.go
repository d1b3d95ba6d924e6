// Package webhook is tickflow's webhook integration: a [Sink] that POSTs
// each signal to an HTTP endpoint, as JSON ([FormatJSON]) or as a Slack,
// Discord or Telegram message ([FormatSlack], [FormatDiscord],
// [FormatTelegram]), so that chat services take it without a relay.
//
// It goes out through the one I/O layer: every attempt bounded by the
// retry policy's timeout, retried with exponential back-off, paced by a
// token-bucket rate limit and guarded by a circuit breaker. A signal that
// cannot be delivered is logged, counted and passed to [Hook.Discarded],
// not returned: a webhook outage must not stop the stream. Health reports
// an open breaker, a signal given up, or a delivery hanging past
// Config.SlowAfter.
//
// Write waits for the endpoint, so a live pipeline runs the sink behind
// [sinks.Async], whose bounded, counted queue keeps a slow endpoint off the
// pipeline's path:
//
//	w, err := webhook.New(webhook.Config{URL: url, Format: webhook.FormatSlack})
//	...
//	q := sinks.Async(w, sinks.AsyncConfig{Capacity: w.QueueSize(), Overflow: pipeline.DropNewest,
//		Keep: sinks.HasSignal, BatchSize: 1})
//
// It lives in its own package, as alpaca, store and nats do, because it
// needs net/http, TLS, the breaker and the rate limiter: a program that
// imports only package sinks links none of them.
package webhook
