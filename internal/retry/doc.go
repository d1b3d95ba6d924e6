// Package retry is tickflow's one retry policy for outbound I/O: the
// ADR's retry_attempts, backoff_factor and request_timeout, with jittered
// exponential back-off, Retry-After, a timeout per attempt, and the
// observation of every attempt (package observe).
package retry
