// Package health answers ADR-002's health checks for a running pipeline:
//
//	data_streaming        a bar arrived within StaleAfter
//	indicator_processing  a stage finished a batch within StaleAfter
//	api_connectivity      every external API's Checker is OK (e.g. a circuit breaker closed)
//	thread_pools          no stage is stuck with a queue it does not take from, or over MaxQueued
//
// Each check is true or false with a reason. The checks are based on
// staleness, read from an [Activity] (the metrics package's Metrics is one)
// and the pipeline's Stats, against a clock that tests can replace (or run
// under testing/synctest).
package health
