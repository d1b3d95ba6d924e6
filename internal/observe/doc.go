// Package observe is the one hook through which every outbound operation of
// tickflow (an Alpaca REST page, a stream connect, an order, a store read,
// write or journal commit, a webhook post) reports what it did: its
// operation type, when it started and ended, and how it failed.
//
// The interface uses only built-in types, so that *metrics.Metrics and
// *health.Monitor implement it, and so can a user's type, without
// importing this internal package.
package observe
