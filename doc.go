// Package tickflow turns market data into trading signals through a staged,
// concurrent pipeline:
//
//	source ─▶ indicators (StochRSI, EMA) ─▶ your stages ─▶ strategy ─▶ sink
//
// [New] composes that pipeline from the pieces in the sub-packages: sources
// (CSV files, synthetic data, Alpaca, a database), signals (the indicator
// stage, strategies), sinks (JSON lines, CSV, a table, a database, orders).
// Every piece can also be used alone with package pipeline.
package tickflow
