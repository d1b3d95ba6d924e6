// Package breaker is the I/O layer's circuit breaker: after Failures
// consecutive failed attempts it opens and refuses attempts (ErrOpen) for
// Cooldown, then lets one trial through. The Alpaca client and the webhook
// sink use it around each attempt.
package breaker
