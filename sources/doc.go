// Package sources holds the basic pipeline sources of market data. Each one
// implements [pipeline.Source] of [market.Event] and fills only Event.Bar:
//
//   - [CSV] streams bars from CSV files or folders of them, with per-symbol
//     error isolation for bad rows (or skipping them with SkipBadRows). It
//     reads the common exports as they are (Yahoo, pandas, Binance klines,
//     ';' or tab separated, gzip), drops exact duplicate rows, reads
//     newest-first files in time order, parses a large file on all cores,
//     and reports what it did per file and symbol ([CSV.Stats]).
//   - [Resample] aggregates another source's bars into a coarser timeframe.
//   - [Synthetic] generates seeded, deterministic random walks for N symbols,
//     either as a finite history or as a paced live feed.
//   - [Slice] and [BarSlice] emit items held in memory, for tests and
//     benchmarks.
//
// They depend on nothing but the standard library and the pipeline, so a
// program that reads CSV links no database driver, SDK or websocket
// library. The sources of live and stored data live with their
// integrations: package alpaca (Bars, Stream, TradeUpdates) and package
// store (Source).
//
// Every source returns ctx.Err() promptly once its context is done, and a
// failure confined to one symbol is reported through Emitter.Fail so that the
// other symbols go on:
//
//	files ──▶ CSV.Produce ──Emit──▶ pipeline ──▶ indicators ──▶ ...
//	              │
//	              └─Fail(symbol, err)  (bad row: that symbol stops, others go on)
package sources

import (
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
)

// The sources of this package are pipeline sources of market events.
var (
	_ pipeline.Source[market.Event] = (*CSV)(nil)
	_ pipeline.Source[market.Event] = (*Synthetic)(nil)
	_ pipeline.Source[market.Event] = Slice[market.Event](nil)
	_ pipeline.Source[market.Event] = BarSlice(nil)
)
