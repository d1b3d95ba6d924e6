// Package httpx sends tickflow's outbound HTTP requests under the one
// retry policy (package retry): a context per request, a timeout per
// attempt that covers reading the body, and the whole body read inside the
// attempt, so that a connection reset or a stall in the middle of a body
// is retried like a failed connect.
package httpx
