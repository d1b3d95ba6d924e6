// Package config holds tickflow's settings: the ADR-002 AsyncConfig fields,
// the indicator periods, the strategy thresholds, the live stream and the
// webhook.
//
// Settings come from four layers, each overriding the one before:
//
//	defaults ──▶ YAML file ──▶ TICKFLOW_* environment ──▶ command-line flags
//
// [Load] applies them in that order and validates the result; every error
// names the key (and, for the file, the line). [Fields] lists every setting
// with its key, environment variable and flag, so a CLI can declare its
// flags from it. [Config.YAML] renders the effective configuration with the
// layer each value came from, for `tickflow config`.
package config
