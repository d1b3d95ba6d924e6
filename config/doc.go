// Package config holds tickflow's settings: the ADR-002 AsyncConfig fields,
// the indicator periods, the strategy thresholds, the pipeline's sizes, the
// output, the database writes, the live stream and the webhook.
//
// Settings come from four layers, each overriding the one before:
//
//	defaults ──▶ YAML file ──▶ TICKFLOW_* environment ──▶ command-line flags
//
// [Load] applies them in that order and validates the result; every error
// names the key (and, for the file, the line). Every number has an upper
// bound as well as a lower one, so that a typo is an error rather than an
// allocation that exhausts memory. [Fields] lists every setting with its
// key, environment variable, flag and accepted values, so a CLI can declare
// its flags from it. [Config.YAML] renders the effective configuration with
// the layer each value came from, for `tickflow config`; [Template] renders
// the defaults with a comment on each setting, for `tickflow config --init`.
//
// The defaults are not repeated here: each is the constant of the package
// that uses the setting (indicators.DefaultEMA, pipeline.DefaultBatchSize,
// the Alpaca client's retry defaults, ...), except the ADR's pool sizes and
// the synthetic live feed's, which no other package owns.
//
// # Retry attempts
//
// async.retry_attempts counts retries after a request's first attempt, and
// 0 means none: in a file every value is explicit, the default being
// written out (3). The library's retry fields count the same way, but their
// zero value means their default, so "none" is -1 there; [Async.Retries]
// is the one place that converts.
package config
